"""Forms of the export request pages (the service validates again: one set of rules)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from . import datasets
from .services import MIN_PURPOSE, MIN_REASON


def dataset_choices():
    return [(d.key, d.label) for d in datasets.available()]


class ExportRequestForm(forms.Form):
    """The dataset and its fields: one group of checkboxes per dataset (``fields_<key>``);
    only the chosen dataset's group counts."""

    dataset = forms.ChoiceField(label=_("Dataset"), choices=dataset_choices)
    area_code = forms.CharField(
        label=_("Area code"),
        max_length=40,
        help_text=_("An area within your own areas, e.g. a street or a community."),
    )
    period_start = forms.DateField(
        label=_("Period from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    period_end = forms.DateField(
        label=_("Period to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    purpose = forms.CharField(
        label=_("Purpose"),
        min_length=MIN_PURPOSE,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What the data is for. It is printed on the first line of the file."),
    )
    recipient = forms.CharField(
        label=_("Recipient office"),
        required=False,
        max_length=200,
        help_text=_("The office the data is shared with; leave empty for your own use."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.groups = []
        for ds in datasets.available():
            name = f"fields_{ds.key}"
            self.fields[name] = forms.MultipleChoiceField(
                label=ds.label,
                required=False,
                choices=[(c.name, f"{c.label} *" if c.personal else c.label) for c in ds.columns],
                widget=forms.CheckboxSelectMultiple,
            )
            self.groups.append({"dataset": ds, "field": self[name]})

    def chosen_fields(self) -> list[str]:
        key = self.cleaned_data.get("dataset")
        return list(self.cleaned_data.get(f"fields_{key}") or [])


class DecisionForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        min_length=MIN_REASON,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Recorded with your name and the time."),
    )

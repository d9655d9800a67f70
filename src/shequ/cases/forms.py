from django import forms
from django.utils.translation import gettext_lazy as _

from .models import CaseType, Category, Department, Satisfaction
from .workflow import Outcome


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*"}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


def category_choices():
    rows = Category.objects.filter(active=True).order_by("code")
    return [("", _("Not sure — let us choose"))] + [(c.code, str(c)) for c in rows]


class IntakeForm(forms.Form):
    text = forms.CharField(
        label=_("What is the problem?"),
        widget=forms.Textarea(attrs={"rows": 4}),
        min_length=4,
        max_length=4000,
    )
    category = forms.ChoiceField(label=_("Category (optional)"), required=False)
    lat = forms.FloatField(widget=forms.HiddenInput, required=False, min_value=-90, max_value=90)
    lng = forms.FloatField(widget=forms.HiddenInput, required=False, min_value=-180, max_value=180)
    address = forms.CharField(
        label=_("Address or landmark"),
        required=False,
        max_length=200,
        help_text=_("e.g. the compound's name and building"),
    )
    photos = MultipleImageField(label=_("Photos (up to 6, 5 MB each)"))
    reporter_name = forms.CharField(label=_("Your name (optional)"), required=False, max_length=60)
    reporter_phone = forms.CharField(
        label=_("Mobile phone (optional, to track and be told)"), required=False, max_length=30
    )
    reporter_email = forms.EmailField(label=_("E-mail (optional)"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = category_choices()

    def clean(self):
        data = super().clean()
        has_point = data.get("lat") is not None and data.get("lng") is not None
        if not has_point and not data.get("address"):
            raise forms.ValidationError(_("Tap the map to set the place, or give an address."))
        return data


class StaffIntakeForm(IntakeForm):
    case_type = forms.ChoiceField(
        label=_("Case type"), choices=CaseType.choices, initial=CaseType.PROMISED
    )


class TrackForm(forms.Form):
    number = forms.CharField(label=_("Case number"), max_length=20)
    contact = forms.CharField(
        label=_("The phone or e-mail you gave"), max_length=120, widget=forms.PasswordInput
    )


class RateForm(forms.Form):
    satisfaction = forms.ChoiceField(
        label=_("How satisfied are you?"), choices=Satisfaction.choices, widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label=_("Comment"), required=False, max_length=2000, widget=forms.Textarea({"rows": 3})
    )


class MoveForm(forms.Form):
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)
    department = forms.ModelChoiceField(
        label=_("Department"),
        queryset=Department.objects.all(),
        required=False,
        to_field_name="code",
        empty_label=_("By the routing matrix"),
    )
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Outcome.choices, required=False)
    satisfaction = forms.ChoiceField(
        label=_("Rating"), choices=[("", "—"), *Satisfaction.choices], required=False
    )
    master = forms.CharField(label=_("Same incident as (case number)"), required=False)


class PhoneLookupForm(forms.Form):
    phone = forms.CharField(label=_("Caller's phone"), max_length=30)


class RevealForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), min_length=4, max_length=200)

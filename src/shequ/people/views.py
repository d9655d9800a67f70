"""Pages of households and persons: scoped, personal fields masked; an audited reveal.

The plain ID number or phone is shown only in the answer to a reveal POST (never in a URL, never
kept in the session); ``shequ.core.personal.reveal`` checks the permission, needs a reason and
writes one ``PersonalDataAccess`` row.
"""

from __future__ import annotations

from django import forms
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.views.generic import DetailView

from shequ.areas.models import Place
from shequ.areas.views import area_crumbs, place_crumbs
from shequ.core import personal
from shequ.core.scoping import code_in_scope
from shequ.core.views import ScopedViewMixin, client_ip

from .models import Household, Person, Residence


def revealable_choices():
    return [
        (name, capfirst(Person._meta.get_field(name).verbose_name))
        for name in personal.revealable_fields(Person)
    ]


class RevealForm(forms.Form):
    field = forms.MultipleChoiceField(
        label=_("Fields to reveal"),
        choices=revealable_choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one field to reveal.")},
    )
    reason = forms.CharField(
        label=_("Reason"),
        min_length=4,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Why you need the full value. It is recorded with your name and the time."),
        error_messages={"required": _("A reveal needs a reason.")},
    )


def _dwelling_crumbs(user, dwelling: Place | None, area_code: str) -> list[dict]:
    if dwelling is not None:
        return place_crumbs(user, dwelling, link_last=True)
    return area_crumbs(user, area_code, link_last=True)


def _place_visible(user, place: Place | None) -> bool:
    return place is not None and code_in_scope(user, Place.perm("view"), place.area_code)


class HouseholdView(ScopedViewMixin, DetailView):
    model = Household
    template_name = "people/household.html"
    context_object_name = "household"

    def get_queryset(self):
        return super().get_queryset().select_related("dwelling")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, household = self.request.user, self.object
        members = (
            Person.objects.for_user(user, "view")
            .filter(household=household)
            .order_by("relation", "id")
        )
        context.update(
            crumbs=_dwelling_crumbs(user, household.dwelling, household.area_code),
            members=list(members),
            dwelling_visible=_place_visible(user, household.dwelling),
        )
        return context


class PersonView(ScopedViewMixin, DetailView):
    model = Person
    template_name = "people/person.html"
    context_object_name = "person"

    def get_queryset(self):
        # Always fetched with the *view* scope: out of it answers 404 like a missing person.
        return Person.objects.for_user(self.request.user, "view").select_related(
            "household", "dwelling"
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, person = self.request.user, self.object
        residences = (
            Residence.objects.for_user(user, "view")
            .filter(person=person)
            .select_related("dwelling")
            .order_by("-start", "id")
        )
        members = []
        household_visible = False
        if person.household_id:
            members = list(
                Person.objects.for_user(user, "view")
                .filter(household_id=person.household_id)
                .exclude(pk=person.pk)
                .order_by("relation", "id")
            )
            household_visible = (
                Household.objects.for_user(user, "view").filter(pk=person.household_id).exists()
            )
        place_scope = Place.perm("view")
        residences = list(residences)
        for residence in residences:
            residence.dwelling_visible = code_in_scope(
                user, place_scope, residence.dwelling.area_code
            )
        can_reveal = Person.user_may(user, "reveal") and person.in_scope_of(user, "reveal")
        context.update(
            crumbs=_dwelling_crumbs(user, person.dwelling, person.area_code),
            residences=residences,
            members=members,
            household_visible=household_visible,
            dwelling_visible=_place_visible(user, person.dwelling),
            can_reveal=can_reveal,
            revealed={},
            lang_next=reverse("people:person", args=[person.pk]),
        )
        if can_reveal:
            context.setdefault("reveal_form", RevealForm())
        return context


class RevealView(PersonView):
    """POST only. No reveal permission anywhere -> 403; not visible -> 404; visible but not
    revealable here -> 403 (from ``personal.reveal``). Bad input re-renders with the error."""

    action = "reveal"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        form = RevealForm(request.POST)
        revealed = {}
        if form.is_valid():
            try:
                revealed = personal.reveal(
                    request.user,
                    self.object,
                    form.cleaned_data["field"],
                    form.cleaned_data["reason"],
                    channel="web",
                    ip=client_ip(request),
                )
            except personal.RevealRefused as refused:
                form.add_error(None, refused)
        context = self.get_context_data(object=self.object, reveal_form=form)
        context["revealed"] = revealed
        if revealed:
            context["reveal_form"] = RevealForm()
        return self.render_to_response(context)

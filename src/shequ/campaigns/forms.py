"""Forms of the campaign and team pages. They check what a person typed and name the field;
the services check the rules again (one set of rules, whoever calls them)."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from shequ.areas.models import Area, Level
from shequ.core.models import RoleAssignment
from shequ.core.scoping import code_in_scope, scope_codes

from .models import (
    RETAIN_DAYS_DEFAULT,
    RETAIN_DAYS_MAX,
    RETAIN_DAYS_MIN,
    Affiliation,
    Campaign,
    FormVersion,
)

ROUNDS_ON_FORM = 3  # the rounds a new campaign may be given at once (more: add them later)
DEFAULT_FORM = "default"
MAX_AREAS = 2000
MAX_FORMS = 50


def _date():
    return forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))


def _retain_days():
    return forms.IntegerField(
        label=_("Keep answers (days)"),
        min_value=RETAIN_DAYS_MIN,
        max_value=RETAIN_DAYS_MAX,
        initial=RETAIN_DAYS_DEFAULT,
        help_text=_(
            "Health and screening answers are anonymised this many days after the visit "
            "(%(min)s–%(max)s); outcomes and counts stay."
        )
        % {"min": RETAIN_DAYS_MIN, "max": RETAIN_DAYS_MAX},
        error_messages={
            "min_value": _("Keep the answers at least %(limit_value)s days."),
            "max_value": _("Keep the answers at most %(limit_value)s days."),
        },
    )


def change_scope(user) -> list[str]:
    """The area codes where ``user`` may plan campaigns (the campaigns' change permission)."""
    return scope_codes(user, Campaign.perm("change"))


def areas_for(user):
    """Areas a campaign of ``user`` may cover: their own areas and everything under them."""
    codes = change_scope(user)
    if not codes:
        return Area.objects.none()
    q = Q()
    for code in codes:
        q |= Q(code__startswith=code)
    return Area.objects.filter(q).order_by("code")


class AreaChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.code} · {obj.display_name} ({obj.get_level_display()})"


def form_label(form: FormVersion) -> str:
    return _("Copy of %(campaign)s, version %(n)s") % {
        "campaign": form.campaign.name,
        "n": form.number,
    }


class CampaignForm(forms.Form):
    """A new campaign: scope, purpose, visit form, retention and its rounds' dates."""

    name = forms.CharField(label=_("Name"), max_length=120)
    area = AreaChoiceField(
        label=_("Area visited"),
        queryset=Area.objects.none(),
        help_text=_("Every dwelling under this area is visited, in every round."),
        error_messages={"invalid_choice": _("Choose one of your own areas.")},
    )
    purpose = forms.CharField(
        label=_("Purpose"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    form_source = forms.ChoiceField(
        label=_("Visit form"),
        help_text=_("The default screening form, or a copy of the form of an earlier campaign."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["area"].queryset = areas_for(user).exclude(level=Level.CITY)
        self.forms_by_key = {
            str(f.pk): f
            for f in FormVersion.objects.for_user(user, "view")
            .select_related("campaign")
            .order_by("-created_at", "-id")[:MAX_FORMS]
        }
        self.fields["form_source"].choices = [
            (DEFAULT_FORM, _("Default screening form (temperature, travel, household)"))
        ] + [(key, form_label(f)) for key, f in self.forms_by_key.items()]
        self.fields["form_source"].initial = DEFAULT_FORM
        self.fields["retain_days"] = _retain_days()
        self.round_rows = []
        for n in range(1, ROUNDS_ON_FORM + 1):
            start, end = _date(), _date()
            start.label = _("Round %(n)s from") % {"n": n}
            end.label = _("Round %(n)s to") % {"n": n}
            self.fields[f"round{n}_start"], self.fields[f"round{n}_end"] = start, end
            self.round_rows.append((n, f"round{n}_start", f"round{n}_end"))

    def bound_rounds(self):
        return [(n, self[s], self[e]) for n, s, e in self.round_rows]

    def clean_area(self):
        area = self.cleaned_data["area"]
        if not code_in_scope(self.user, Campaign.perm("change"), area.code):
            raise forms.ValidationError(_("Choose one of your own areas."))
        return area

    def clean(self):
        data = super().clean()
        rounds, gap = [], None
        for n, s, e in self.round_rows:
            start, end = data.get(s), data.get(e)
            if self.has_error(s) or self.has_error(e):
                continue
            if start is None and end is None:
                gap = gap or n
                continue
            if start is None:
                self.add_error(s, _("Give the first day of round %(n)s.") % {"n": n})
                continue
            if end is None:
                self.add_error(e, _("Give the last day of round %(n)s.") % {"n": n})
                continue
            if end < start:
                self.add_error(e, _("A round ends on or after its first day."))
                continue
            if gap is not None:
                self.add_error(
                    s, _("Fill in round %(gap)s before round %(n)s.") % {"gap": gap, "n": n}
                )
                continue
            if rounds and start <= rounds[-1][0]:
                self.add_error(
                    s,
                    _("Round %(n)s starts after round %(m)s starts (%(date)s).")
                    % {"n": n, "m": n - 1, "date": rounds[-1][0].isoformat()},
                )
                continue
            rounds.append((start, end))
        if not rounds and not any(self.has_error(s) for _n, s, _e in self.round_rows):
            self.add_error("round1_start", _("Give the dates of the first round at least."))
        data["rounds"] = rounds
        source = data.get("form_source")
        data["form_schema"] = (
            None if source in (None, DEFAULT_FORM) else self.forms_by_key[source].schema
        )
        return data


class CampaignEditForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    purpose = forms.CharField(
        label=_("Purpose"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["retain_days"] = _retain_days()


class RoundForm(forms.Form):
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", _("A round ends on or after its first day."))
        return data


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        full = obj.get_full_name()
        return f"{full} ({obj.get_username()})" if full else obj.get_username()


def communities_for(campaign: Campaign, user):
    """The communities of the campaign where ``user`` may form teams."""
    code = campaign.area_code
    q = Q(code__startswith=code) | Q(code=code[:12], level=Level.COMMUNITY)
    return [
        a
        for a in Area.objects.filter(q, level=Level.COMMUNITY).order_by("code")
        if code_in_scope(user, Campaign.perm("change"), a.code)
    ]


def staff_for(campaign: Campaign):
    """Staff who may go door to door in the campaign: accounts with a role at its area, under
    it or above it (community, street and district staff work in mixed teams)."""
    code = campaign.area_code
    prefixes = [code[:i] for i in range(1, len(code) + 1)]
    users = RoleAssignment.objects.filter(
        Q(area_code__startswith=code) | Q(area_code__in=prefixes)
    ).values("user_id")
    return get_user_model().objects.filter(pk__in=users, is_active=True).order_by("username")


def affiliation_of(user) -> str:
    """Where a staff member comes from, read off their deepest role's area."""
    codes = RoleAssignment.objects.filter(user=user).values_list("area_code", flat=True)
    deepest = max(codes, key=len, default="")
    if len(deepest) >= 12:
        return Affiliation.COMMUNITY
    if len(deepest) >= 9:
        return Affiliation.STREET
    return Affiliation.DISTRICT


class TeamForm(forms.Form):
    """A two-person team: each member a staff account or a volunteer by name."""

    community = forms.ChoiceField(label=_("Community"))
    name = forms.CharField(label=_("Team name"), max_length=60)

    def __init__(self, *args, campaign, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        self.communities = communities_for(campaign, user)
        self.fields["community"].choices = [
            (a.code, f"{a.code} · {a.display_name}") for a in self.communities
        ]
        staff = staff_for(campaign)
        affiliations = [("", _("— as the account says (volunteer without one) —"))]
        affiliations += list(Affiliation.choices)
        self.members = []
        for n in (1, 2):
            self.fields[f"member{n}_user"] = StaffChoiceField(
                label=_("Staff member"),
                queryset=staff,
                required=False,
                empty_label=_("— a volunteer —"),
            )
            self.fields[f"member{n}_name"] = forms.CharField(
                label=_("or volunteer's name"), max_length=60, required=False
            )
            self.fields[f"member{n}_affiliation"] = forms.ChoiceField(
                label=_("Comes from"), choices=affiliations, required=False
            )
            self.members.append(n)

    def bound_members(self):
        return [
            (
                n,
                self[f"member{n}_user"],
                self[f"member{n}_name"],
                self[f"member{n}_affiliation"],
            )
            for n in self.members
        ]

    def clean(self):
        data = super().clean()
        members = []
        for n in self.members:
            user = data.get(f"member{n}_user")
            name = (data.get(f"member{n}_name") or "").strip()
            affiliation = data.get(f"member{n}_affiliation") or ""
            if user is None and not name:
                if not self.has_error(f"member{n}_user"):
                    self.add_error(
                        f"member{n}_name",
                        _("Member %(n)s: choose a staff member or type a volunteer's name.")
                        % {"n": n},
                    )
                continue
            if user is not None and name:
                self.add_error(
                    f"member{n}_name",
                    _("Member %(n)s: a staff member or a volunteer's name, not both.") % {"n": n},
                )
                continue
            if user is None and not affiliation:
                affiliation = Affiliation.VOLUNTEER
            if user is not None and not affiliation:
                affiliation = affiliation_of(user)
            members.append((user, name, affiliation))
        if len(members) == 2 and members[0][0] is not None and members[0][0] == members[1][0]:
            self.add_error("member2_user", _("The two members are the same person."))
        data["members"] = members
        return data

"""Pages of a campaign: its progress, its teams and territories, the rosters, and the visit
page field workers use at the door (works offline: see static/campaigns/visit.js)."""

from __future__ import annotations

import hashlib
import json
import re

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DetailView, ListView

from shequ.areas.models import Area, Place, PlaceKind
from shequ.core import personal
from shequ.core.scoping import code_in_scope
from shequ.core.views import ScopedViewMixin
from shequ.people.models import Person

from . import forms, retention, roster, services
from .models import FINAL, Campaign, FollowUp, Outcome, Round, TaskStatus, Team, VisitTask

TASKS_ON_PHONE = 400  # tasks one visit page carries (a team's territory is ~200 dwellings)


def _may(user, campaign, action: str) -> bool:
    return code_in_scope(user, Campaign.perm(action), campaign.area_code)


class CampaignListView(ScopedViewMixin, ListView):
    model = Campaign
    template_name = "campaigns/list.html"
    context_object_name = "campaigns"

    def get_queryset(self):
        return super().get_queryset().select_related("area")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        rows = []
        for campaign in context["campaigns"][:100]:
            cov = services.coverage(campaign)
            current = next((r for r in cov["rounds"] if not r["closed"]), None)
            rows.append({"campaign": campaign, "round": current, "rounds": len(cov["rounds"])})
        context["rows"] = rows
        context["may_create"] = Campaign.user_may(self.request.user, "change")
        return context


def _form_errors(form, exc: ValidationError) -> None:
    """A service's refusal, shown at the field it names (or above the form)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


class CampaignCreateView(ScopedViewMixin, View):
    """A new campaign: its area (one of the user's own), purpose, visit form, retention and
    rounds; every dwelling in scope becomes a visit task of each round."""

    model = Campaign
    action = "change"
    template_name = "campaigns/campaign_form.html"

    def page(self, request, form):
        return render(
            request,
            self.template_name,
            {
                "form": form,
                "crumbs": [
                    {"name": _("Campaigns"), "url": reverse("campaigns:list")},
                    {"name": _("New campaign"), "current": True},
                ],
            },
        )

    def get(self, request):
        return self.page(request, forms.CampaignForm(user=request.user))

    def post(self, request):
        form = forms.CampaignForm(request.POST, user=request.user)
        if not form.is_valid():
            return self.page(request, form)
        data = form.cleaned_data
        try:
            with transaction.atomic():
                campaign = services.create_campaign(
                    name=data["name"],
                    area=data["area"],
                    purpose=data["purpose"],
                    form=data["form_schema"],
                    user=request.user,
                    retain_days=data["retain_days"],
                )
                for start, end in data["rounds"]:
                    services.add_round(campaign, start, end)
        except ValidationError as exc:
            _form_errors(form, exc)
            return self.page(request, form)
        tasks = VisitTask.objects.filter(round__campaign=campaign).count()
        messages.success(
            request,
            _("Campaign created: %(rounds)s rounds, %(tasks)s visit tasks. Now form the teams.")
            % {"rounds": len(data["rounds"]), "tasks": tasks},
        )
        return HttpResponseRedirect(reverse("campaigns:campaign", args=[campaign.pk]))


class CampaignEditView(ScopedViewMixin, View):
    """Change a campaign's name, purpose and retention, and add a round."""

    model = Campaign
    action = "change"
    template_name = "campaigns/campaign_edit.html"

    def campaign(self, request, pk):
        campaign = get_object_or_404(self.get_queryset(), pk=pk)
        if not _may(request.user, campaign, "change"):
            raise PermissionDenied  # seen from below (a community in a street's campaign)
        return campaign

    def page(self, request, campaign, form, round_form):
        last = campaign.rounds.order_by("-number").first()
        return render(
            request,
            self.template_name,
            {
                "campaign": campaign,
                "form": form,
                "round_form": round_form,
                "rounds": campaign.rounds.order_by("number"),
                "next_round": (last.number + 1) if last else 1,
                "crumbs": [
                    {"name": _("Campaigns"), "url": reverse("campaigns:list")},
                    {
                        "name": campaign.name,
                        "url": reverse("campaigns:campaign", args=[campaign.pk]),
                    },
                    {"name": _("Edit"), "current": True},
                ],
            },
        )

    def initial(self, campaign):
        return {
            "name": campaign.name,
            "purpose": campaign.purpose,
            "retain_days": campaign.retain_days,
        }

    def get(self, request, pk):
        campaign = self.campaign(request, pk)
        form = forms.CampaignEditForm(initial=self.initial(campaign))
        return self.page(request, campaign, form, forms.RoundForm(prefix="round"))

    def post(self, request, pk):
        campaign = self.campaign(request, pk)
        back = HttpResponseRedirect(reverse("campaigns:campaign", args=[campaign.pk]))
        if "add_round" in request.POST:
            form = forms.CampaignEditForm(initial=self.initial(campaign))
            round_form = forms.RoundForm(request.POST, prefix="round")
            if round_form.is_valid():
                try:
                    round_ = services.add_round(
                        campaign, round_form.cleaned_data["start"], round_form.cleaned_data["end"]
                    )
                except ValidationError as exc:
                    _form_errors(round_form, exc)
                else:
                    messages.success(
                        request,
                        _("Round %(n)s added with %(tasks)s visit tasks.")
                        % {"n": round_.number, "tasks": round_.tasks.count()},
                    )
                    return back
            return self.page(request, campaign, form, round_form)
        form = forms.CampaignEditForm(request.POST)
        if form.is_valid():
            try:
                moved = services.update_campaign(campaign, **form.cleaned_data)
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                text = _("Campaign saved.")
                if moved:
                    text = _(
                        "Campaign saved; the answers of %(n)s visits are now kept until their "
                        "new date."
                    ) % {"n": moved}
                messages.success(request, text)
                return back
        return self.page(request, campaign, form, forms.RoundForm(prefix="round"))


class CampaignView(ScopedViewMixin, DetailView):
    model = Campaign
    template_name = "campaigns/campaign.html"
    context_object_name = "campaign"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, campaign = self.request.user, self.object
        cov = services.coverage(campaign)
        open_round = campaign.open_round()
        area_rows = []
        if open_round:
            children = list(
                Area.objects.for_user(user, "view").filter(parent__code=campaign.area_code)
            )
            counts = services.coverage_by_area(open_round, [a.code for a in children])
            area_rows = [{"area": a, **counts[a.code]} for a in children]
        followups = (
            FollowUp.objects.for_user(user, "view")
            .filter(campaign=campaign, status=FollowUp.Status.OPEN)
            .select_related("task__dwelling")
            .order_by("due", "id")
        )
        context.update(
            coverage=cov,
            open_round=open_round,
            area_rows=area_rows,
            followups=followups[:50],
            followup_count=followups.count(),
            retention=retention.last_runs(campaign),
            may_change=_may(user, campaign, "change"),
            may_visit=_may(user, campaign, "visit"),
            live={"url": reverse("campaign-coverage", args=[campaign.pk])},
            crumbs=[
                {"name": _("Campaigns"), "url": reverse("campaigns:list")},
                {"name": campaign.name, "current": True},
            ],
        )
        return context


class CloseRoundView(ScopedViewMixin, View):
    model = Campaign
    action = "change"

    def post(self, request, pk, number):
        campaign = get_object_or_404(self.get_queryset(), pk=pk)
        round_ = get_object_or_404(Round, campaign=campaign, number=number)
        try:
            services.close_round(round_, request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Round %(n)s is closed.") % {"n": number})
        return HttpResponseRedirect(reverse("campaigns:campaign", args=[campaign.pk]))


def _team_rows(campaign, round_):
    teams = list(campaign.teams.prefetch_related("members__user").order_by("area_code", "name"))
    open_counts = {}
    if round_:
        open_counts = dict(
            VisitTask.objects.filter(round=round_, team__in=teams)
            .exclude(status__in=FINAL)
            .order_by()
            .values("team_id")
            .annotate(n=Count("pk"))
            .values_list("team_id", "n")
        )
    return [{"team": t, "unreached": open_counts.get(t.pk, 0)} for t in teams]


class TeamsView(ScopedViewMixin, DetailView):
    model = Campaign
    template_name = "campaigns/teams.html"
    context_object_name = "campaign"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        campaign = self.object
        open_round = campaign.open_round()
        rows = _team_rows(campaign, open_round)
        context.update(
            rows=rows,
            open_round=open_round,
            may_change=_may(self.request.user, campaign, "change"),
            crumbs=[
                {"name": _("Campaigns"), "url": reverse("campaigns:list")},
                {"name": campaign.name, "url": reverse("campaigns:campaign", args=[campaign.pk])},
                {"name": _("Teams"), "current": True},
            ],
        )
        return context


class PlanView(ScopedViewMixin, View):
    model = Campaign
    action = "change"

    def post(self, request, pk):
        campaign = get_object_or_404(self.get_queryset(), pk=pk)
        try:
            summary = services.plan_territories(campaign)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            worst = max((s["imbalance"] for s in summary.values()), default=0)
            messages.success(
                request,
                _("Territories planned for %(n)s communities; largest imbalance %(p).1f %%.")
                % {"n": len(summary), "p": 100 * worst},
            )
        return HttpResponseRedirect(reverse("campaigns:teams", args=[campaign.pk]))


class MoveBuildingView(ScopedViewMixin, View):
    model = Campaign
    action = "change"

    def post(self, request, pk):
        campaign = get_object_or_404(self.get_queryset(), pk=pk)
        team = get_object_or_404(Team, campaign=campaign, pk=request.POST.get("team") or 0)
        code = (request.POST.get("building") or "").strip()
        building = Place.objects.filter(
            kind=PlaceKind.BUILDING, code=code, area_code__startswith=campaign.area_code
        ).first()
        if building is None:
            messages.error(request, _("No building with this code in the campaign."))
        else:
            try:
                n = services.move_building(campaign, building, team)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(
                    request,
                    _("%(code)s moved to %(team)s (%(n)s visit tasks).")
                    % {"code": code, "team": team.name, "n": n},
                )
        return HttpResponseRedirect(reverse("campaigns:teams", args=[campaign.pk]))


class TeamCreateView(ScopedViewMixin, View):
    """Form a two-person team in one of the campaign's communities, from staff accounts and
    volunteers named on the spot."""

    model = Campaign
    action = "change"
    template_name = "campaigns/team_form.html"

    def campaign(self, request, pk):
        return get_object_or_404(self.get_queryset(), pk=pk)

    def page(self, request, campaign, form):
        return render(
            request,
            self.template_name,
            {
                "campaign": campaign,
                "form": form,
                "crumbs": [
                    {"name": _("Campaigns"), "url": reverse("campaigns:list")},
                    {
                        "name": campaign.name,
                        "url": reverse("campaigns:campaign", args=[campaign.pk]),
                    },
                    {"name": _("Teams"), "url": reverse("campaigns:teams", args=[campaign.pk])},
                    {"name": _("New team"), "current": True},
                ],
            },
        )

    def form(self, request, campaign, data=None):
        form = forms.TeamForm(data, campaign=campaign, user=request.user)
        if not form.communities:
            raise PermissionDenied  # none of the campaign's communities is the user's
        return form

    def get(self, request, pk):
        campaign = self.campaign(request, pk)
        form = self.form(request, campaign)
        form.fields["name"].initial = _("Team %(n)s") % {"n": campaign.teams.count() + 1}
        return self.page(request, campaign, form)

    def post(self, request, pk):
        campaign = self.campaign(request, pk)
        form = self.form(request, campaign, request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                team = services.add_team(campaign, data["community"], data["name"], data["members"])
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("%(team)s formed. Plan the territories to give it its dwellings.")
                    % {"team": team.name},
                )
                return HttpResponseRedirect(reverse("campaigns:teams", args=[campaign.pk]))
        return self.page(request, campaign, form)


class TeamView(ScopedViewMixin, DetailView):
    model = Campaign
    template_name = "campaigns/team.html"
    context_object_name = "campaign"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        campaign = self.object
        team = get_object_or_404(Team, campaign=campaign, pk=self.kwargs["team"])
        open_round = campaign.open_round()
        buildings = {
            p.pk: p for p in Place.objects.filter(pk__in=team.route).select_related("parent")
        }
        context.update(
            team=team,
            route=[buildings[b] for b in team.route if b in buildings],
            open_round=open_round,
            unreached=list(services.unreached(team, open_round)[:500]) if open_round else [],
            crumbs=[
                {"name": _("Campaigns"), "url": reverse("campaigns:list")},
                {"name": campaign.name, "url": reverse("campaigns:campaign", args=[campaign.pk])},
                {"name": _("Teams"), "url": reverse("campaigns:teams", args=[campaign.pk])},
                {"name": team.name, "current": True},
            ],
        )
        return context


class RosterView(ScopedViewMixin, View):
    """A team's printable roster (PDF) for work without phones."""

    model = Campaign
    action = "view"

    def get(self, request, pk, team):
        campaign = get_object_or_404(self.get_queryset(), pk=pk)
        team = get_object_or_404(Team, campaign=campaign, pk=team)
        round_ = campaign.open_round() or campaign.rounds.order_by("-number").first()
        pdf = roster.render(team, round_, request.user)
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="roster-{campaign.pk}-{team.pk}.pdf"'
        return response


def _dwelling_label(place: Place) -> str:
    unit = place.parent
    building = unit.parent if unit else None
    compound = building.parent if building else None
    parts = [p.display_name for p in (compound, building, unit) if p is not None]
    return " ".join([*parts, place.display_name])


def resident_rows(user, dwelling_ids) -> dict[int, list[dict]]:
    """Known residents per dwelling as the user may see them (masked; none without the
    permission to view persons there)."""
    rows: dict[int, list[dict]] = {}
    persons = (
        Person.objects.for_user(user, "view")
        .filter(dwelling_id__in=list(dwelling_ids))
        .order_by("dwelling_id", "household_id", "relation", "id")
    )
    for p in persons:
        rows.setdefault(p.dwelling_id, []).append(
            {
                "id": p.pk,
                "name": personal.display(p, "name"),
                "sex": p.get_sex_display(),
                "age": p.age,
                "id_number": personal.display(p, "id_number"),
                "phone": personal.display(p, "phone"),
            }
        )
    return rows


# What the visit page loads, kept by its service worker for use offline (a test checks that
# every stylesheet, script and icon of the page is here).
OFFLINE_ASSETS = (
    "shequ/shequ.css",
    "shequ/favicon.svg",
    "campaigns/campaigns.css",
    "campaigns/visit.js",
)


def offline_config() -> dict:
    precache = [static(path) for path in OFFLINE_ASSETS]
    prefix = reverse("campaigns:list")
    return {
        "version": hashlib.sha256(json.dumps(precache).encode()).hexdigest()[:12],
        "precache": precache,
        "page": "^" + re.escape(prefix) + r"\d+/visit/$",
    }


def service_worker(request):
    """The visit page's service worker, served under /campaigns/ so that its scope covers the
    visit pages. Public: it is code and the list of static files, no data."""
    body = render_to_string(
        "campaigns/sw.js", {"config": json.dumps(offline_config(), ensure_ascii=True)}
    )
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response


class VisitPageView(ScopedViewMixin, DetailView):
    """The field worker's page: the team's dwellings of the open round, the form, and a queue
    of visits on the phone that syncs when the connection is back."""

    model = Campaign
    action = "visit"
    template_name = "campaigns/visit.html"
    context_object_name = "campaign"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, campaign = self.request.user, self.object
        round_ = campaign.open_round()
        team = None
        if self.request.GET.get("team", "").isdigit():
            team = Team.objects.filter(campaign=campaign, pk=self.request.GET["team"]).first()
        if team is None:
            team = campaign.teams.filter(members__user=user).first()
        tasks = []
        if round_:
            qs = VisitTask.objects.for_user(user, "visit").filter(round=round_)
            qs = qs.filter(team=team) if team else qs.exclude(status__in=FINAL)
            tasks = list(
                qs.select_related("dwelling__parent__parent__parent").order_by(
                    "team_id", "route_order", "area_code", "id"
                )[:TASKS_ON_PHONE]
            )
        ids = [t.dwelling_id for t in tasks]
        residents = resident_rows(user, ids)
        previous = services.previous_answers(round_, ids) if round_ else {}
        data = {
            "campaign": campaign.pk,
            "round": round_.number if round_ else None,
            "language": "en" if (get_language() or "").startswith("en") else "zh-hans",
            "form": round_.form.schema if round_ else {"questions": []},
            "syncUrl": reverse("visit-sync"),
            "serviceWorker": reverse("campaigns:sw"),
            "outcomes": [{"value": v, "label": str(label)} for v, label in Outcome.choices],
            "statuses": {v: str(label) for v, label in TaskStatus.choices},
            "tasks": [
                {
                    "id": t.pk,
                    "code": t.dwelling.code,
                    "label": _dwelling_label(t.dwelling),
                    "status": t.status,
                    "households": t.households,
                    "residents": residents.get(t.dwelling_id, []),
                    "previous": previous.get(t.dwelling_id),
                }
                for t in tasks
            ],
        }
        context.update(
            data=data,
            team=team,
            teams=campaign.teams.filter(
                Q(area_code__startswith=campaign.area_code) | Q(members__user=user)
            ).distinct()[:200],
            round=round_,
        )
        return context

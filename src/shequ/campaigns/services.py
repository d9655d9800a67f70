"""Writes of the campaigns app: every change goes through here, in one transaction each.

``create_campaign`` · ``new_form_version`` · ``add_round`` (and its visit tasks) ·
``add_team`` · ``plan_territories`` · ``move_building`` · ``sync_visits`` · ``close_round``
and the read-outs other apps call: ``coverage(campaign, area_code)``, ``unreached(team)``.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid as uuid_mod
from collections import defaultdict

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Q
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from shequ.areas.models import Area, Place, PlaceKind
from shequ.people.models import Household, Person

from . import followup, formschema, planner
from .models import (
    ANSWERED,
    FINAL,
    Campaign,
    FollowUp,
    FormVersion,
    NewResident,
    Outcome,
    Round,
    TaskStatus,
    Team,
    TeamMember,
    Visit,
    VisitTask,
)

log = logging.getLogger(__name__)
COMMUNITY_CODE_LENGTH = 12  # 510104001001: district 6 + street 3 + community 3
RESIDENT_STATUSES = ("present", "away", "moved_out", "deceased")
MAX_BATCH = 1000


class CampaignError(ValidationError):
    pass


def community_of(area_code: str) -> str:
    return area_code[:COMMUNITY_CODE_LENGTH]


# --- campaigns, forms, rounds ---------------------------------------------------------------


@transaction.atomic
def create_campaign(*, name: str, area: Area, purpose: str = "", form=None, user=None):
    campaign = Campaign.objects.create(
        name=name, purpose=purpose, area=area, area_code=area.code, created_by=user
    )
    new_form_version(campaign, form or formschema.DEFAULT_FORM)
    return campaign


@transaction.atomic
def new_form_version(campaign: Campaign, schema: dict) -> FormVersion:
    """A new version of the visit form; versions are never changed once written."""
    formschema.validate_schema(schema)
    last = campaign.forms.order_by("-number").first()
    return FormVersion.objects.create(
        campaign=campaign,
        number=(last.number + 1) if last else 1,
        schema=schema,
        area_code=campaign.area_code,
    )


@transaction.atomic
def use_form(round_: Round, form: FormVersion) -> None:
    """Switch a round that has no visits yet to another version of its campaign's form."""
    if form.campaign_id != round_.campaign_id:
        raise CampaignError(_("That form belongs to another campaign."))
    if round_.visits.exists():
        raise CampaignError(_("Visits already use this round's form; it can no longer change."))
    round_.form = form
    round_.save(update_fields=["form"])


def dwellings_in(area_code: str):
    return Place.objects.filter(kind=PlaceKind.DWELLING, area_code__startswith=area_code)


@transaction.atomic
def add_round(campaign: Campaign, start: dt.date, end: dt.date, form=None) -> Round:
    """The next round, with one visit task for every dwelling in scope (bulk)."""
    if end < start:
        raise CampaignError({"end": _("A round ends on or after its first day.")})
    last = campaign.rounds.order_by("-number").first()
    round_ = Round.objects.create(
        campaign=campaign,
        number=(last.number + 1) if last else 1,
        start=start,
        end=end,
        form=form or campaign.current_form(),
        area_code=campaign.area_code,
    )
    generate_tasks(round_)
    return round_


def generate_tasks(round_: Round) -> int:
    """A task per dwelling in scope, occupied or not; idempotent. Territories already planned
    for the campaign carry over (team and order on the route)."""
    households = dict(
        Household.objects.filter(dwelling__isnull=False, area_code__startswith=round_.area_code)
        .order_by()
        .values("dwelling_id")
        .annotate(n=Count("pk"))
        .values_list("dwelling_id", "n")
    )
    planned = dict(
        VisitTask.objects.filter(round__campaign_id=round_.campaign_id, team__isnull=False)
        .exclude(round=round_)
        .order_by("round__number")
        .values_list("dwelling_id", "team_id")
    )
    orders = dict(
        VisitTask.objects.filter(round__campaign_id=round_.campaign_id, team__isnull=False)
        .exclude(round=round_)
        .order_by("round__number")
        .values_list("dwelling_id", "route_order")
    )
    rows = dwellings_in(round_.area_code).values_list("id", "area_code", "parent__parent_id")
    tasks = [
        VisitTask(
            round=round_,
            dwelling_id=pk,
            building_id=building,
            area_code=code,
            community_code=community_of(code),
            households=min(households.get(pk, 0), 32767),
            team_id=planned.get(pk),
            route_order=orders.get(pk, 0),
        )
        for pk, code, building in rows.iterator(chunk_size=5000)
    ]
    VisitTask.objects.bulk_create(tasks, batch_size=2000, ignore_conflicts=True)
    return len(tasks)


# --- teams and territories ------------------------------------------------------------------


@transaction.atomic
def add_team(campaign: Campaign, community_code: str, name: str, members) -> Team:
    """A team of two: ``members`` are ``(user or None, name, affiliation)``."""
    members = list(members)
    if len(members) != 2:
        raise CampaignError(_("A team has two members."))
    if not community_code.startswith(campaign.area_code) and not campaign.area_code.startswith(
        community_code
    ):
        raise CampaignError(_("The team's community is outside the campaign."))
    team = Team.objects.create(campaign=campaign, name=name, area_code=community_code)
    for user, member_name, affiliation in members:
        if user is None and not member_name:
            raise CampaignError(_("A volunteer member needs a name."))
        TeamMember.objects.create(
            team=team, user=user, name=member_name or "", affiliation=affiliation
        )
    return team


def _open_rounds(campaign):
    return list(campaign.rounds.filter(closed_at__isnull=True))


def _dwellings_for_planning(campaign, community_codes=None) -> dict[str, list]:
    """{community code: [planner.Dwelling]} from the first open round's tasks."""
    rows = dwellings_in(campaign.area_code)
    if community_codes:
        q = Q()
        for code in community_codes:
            q |= Q(area_code__startswith=code)
        rows = rows.filter(q)
    rows = rows.values_list(
        "id",
        "area_code",
        "parent__name",
        "floor",
        "parent__parent_id",
        "parent__parent__parent_id",
        "parent__parent__lat",
        "parent__parent__lng",
        "parent__parent__parent__lat",
        "parent__parent__parent__lng",
    )
    households = dict(
        Household.objects.filter(dwelling__isnull=False, area_code__startswith=campaign.area_code)
        .order_by()
        .values("dwelling_id")
        .annotate(n=Count("pk"))
        .values_list("dwelling_id", "n")
    )
    raw: dict[str, list] = defaultdict(list)
    for pk, code, unit, floor, building, compound, blat, blng, clat, clng in rows.iterator(
        chunk_size=5000
    ):
        lat, lng = (blat, blng) if blat is not None else (clat, clng)
        raw[community_of(code)].append(
            (
                pk,
                building or 0,
                compound or 0,
                unit or "",
                floor or 0,
                households.get(pk, 0),
                lat,
                lng,
            )
        )
    out: dict[str, list] = {}
    for community, items in raw.items():
        located = [(lat, lng) for *_r, lat, lng in items if lat is not None]
        lat0, lng0 = located[0] if located else (0.0, 0.0)
        dwellings = []
        for pk, building, compound, unit, floor, n, lat, lng in items:
            x, y = planner.project(lat, lng, lat0, lng0) if lat is not None else (0.0, 0.0)
            dwellings.append(planner.Dwelling(pk, building, compound, unit, floor, max(1, n), x, y))
        out[community] = dwellings
    return out


@transaction.atomic
def plan_territories(campaign: Campaign, *, processes: int = 2, communities=None) -> dict:
    """Split every community's dwellings among its teams (communities in parallel), store each
    team's route and set the team and route order of the tasks of every open round."""
    teams_by_community: dict[str, list[Team]] = defaultdict(list)
    teams = campaign.teams.all()
    if communities:
        teams = teams.filter(area_code__in=communities)
    for team in teams.order_by("name", "id"):
        teams_by_community[team.area_code].append(team)
    if not teams_by_community:
        raise CampaignError(_("Form teams in the communities before planning territories."))
    dwellings = _dwellings_for_planning(campaign, list(teams_by_community))
    jobs = [
        (community, dwellings.get(community, []), len(teams))
        for community, teams in sorted(teams_by_community.items())
    ]
    plans = planner.plan_many(jobs, processes=processes)
    assignment: dict[int, tuple[int, int]] = {}
    summary = {}
    for community, territories in plans.items():
        for team, terr in zip(teams_by_community[community], territories, strict=True):
            team.route, team.workload, team.distance_m = terr.route, terr.load, terr.distance
            for order, dwelling_id in enumerate(terr.dwellings, start=1):
                assignment[dwelling_id] = (team.pk, order)
        summary[community] = {
            "teams": len(territories),
            "imbalance": planner.imbalance(territories),
            "distance_m": sum(t.distance for t in territories),
        }
    Team.objects.bulk_update(
        [t for ts in teams_by_community.values() for t in ts], ["route", "workload", "distance_m"]
    )
    _assign_tasks(campaign, assignment)
    return summary


def _assign_tasks(campaign, assignment: dict[int, tuple[int, int]]) -> None:
    rounds = _open_rounds(campaign)
    if not assignment or not rounds:
        return
    tasks = VisitTask.objects.filter(round__in=rounds, dwelling_id__in=list(assignment)).only(
        "id", "dwelling_id", "team_id", "route_order"
    )
    if connection.vendor == "sqlite" and len(assignment) > 900:
        # SQLite limits the parameters of one statement: fetch by round instead.
        tasks = VisitTask.objects.filter(round__in=rounds).only(
            "id", "dwelling_id", "team_id", "route_order"
        )
    changed = []
    for task in tasks.iterator(chunk_size=5000):
        if task.dwelling_id in assignment:
            task.team_id, task.route_order = assignment[task.dwelling_id]
            changed.append(task)
    VisitTask.objects.bulk_update(changed, ["team", "route_order"], batch_size=1000)


def _replan_team(team: Team, rounds) -> None:
    """Recompute one team's route from the tasks it holds in the first open round."""
    if not rounds:
        return
    ids = list(
        VisitTask.objects.filter(round=rounds[0], team=team).values_list("dwelling_id", flat=True)
    )
    by_community = _dwellings_for_planning(team.campaign, [team.area_code])
    wanted = set(ids)
    mine = [d for d in by_community.get(team.area_code, []) if d.id in wanted]
    terr = planner.territory(planner.order_dwellings(mine))
    team.route, team.workload, team.distance_m = terr.route, terr.load, terr.distance
    team.save(update_fields=["route", "workload", "distance_m"])
    _assign_tasks(team.campaign, {pk: (team.pk, i) for i, pk in enumerate(terr.dwellings, start=1)})


@transaction.atomic
def move_building(campaign: Campaign, building: Place, team: Team) -> int:
    """Hand a whole building to another team (by hand, after planning)."""
    if team.campaign_id != campaign.pk:
        raise CampaignError(_("That team belongs to another campaign."))
    if not building.code.startswith(team.area_code):
        raise CampaignError(_("The building is not in the team's community."))
    rounds = _open_rounds(campaign)
    tasks = VisitTask.objects.filter(round__in=rounds, building=building)
    before = set(tasks.exclude(team=team).values_list("team_id", flat=True)) - {None}
    moved = tasks.update(team=team)
    for other in Team.objects.filter(pk__in=before):
        _replan_team(other, rounds)
    _replan_team(team, rounds)
    return moved


# --- visits ---------------------------------------------------------------------------------


def _parse_time(value) -> dt.datetime:
    if isinstance(value, dt.datetime):
        moment = value
    else:
        moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _item_errors(item, tasks, residents_of, now) -> dict | None:
    """Validate one queued visit; return its errors, or None (and fill item["_clean"])."""
    errors: dict[str, list[str]] = {}
    task = tasks.get(item.get("task"))
    if task is None:
        return {"task": [_("No such visit task within your scope.")]}
    if task.round.closed_at is not None:
        return {"task": [_("This round is closed.")]}
    outcome = item.get("outcome")
    if outcome not in Outcome.values:
        return {"outcome": [_("One of: %(o)s.") % {"o": ", ".join(Outcome.values)}]}
    try:
        visited_at = _parse_time(item.get("visited_at") or now)
    except ValueError:
        return {"visited_at": [_("A date and time (ISO 8601).")]}
    if visited_at > now + dt.timedelta(minutes=10):
        errors["visited_at"] = [_("In the future.")]
    answers = {}
    if outcome in ANSWERED:
        try:
            answers = formschema.clean_answers(task.round.form.schema, item.get("answers") or {})
        except ValidationError as exc:
            errors.update({f"answers.{k}": v for k, v in exc.message_dict.items()})
    residents = []
    known = residents_of.get(task.dwelling_id, {})
    for i, row in enumerate(item.get("residents") or []):
        person = row.get("person") if isinstance(row, dict) else None
        status = row.get("status") if isinstance(row, dict) else None
        if person not in known:
            errors[f"residents[{i}].person"] = [_("Not a known resident of this dwelling.")]
        elif status not in RESIDENT_STATUSES:
            errors[f"residents[{i}].status"] = [
                _("One of: %(o)s.") % {"o": ", ".join(RESIDENT_STATUSES)}
            ]
        else:
            residents.append({"person": person, "status": status})
    found = item.get("new_residents") or []
    if outcome == Outcome.NEW_RESIDENTS and not found:
        errors["new_residents"] = [_("Record at least one new resident.")]
    if found and outcome != Outcome.NEW_RESIDENTS:
        errors["new_residents"] = [_("Only with the outcome 'new residents found'.")]
    for i, row in enumerate(found):
        if not isinstance(row, dict) or not str(row.get("name") or "").strip():
            errors[f"new_residents[{i}].name"] = [_("A name is required.")]
    revisit = item.get("revisit_on")
    if revisit:
        try:
            revisit = dt.date.fromisoformat(str(revisit))
        except ValueError:
            errors["revisit_on"] = [_("A date as YYYY-MM-DD.")]
    elif outcome == Outcome.NOT_HOME:
        revisit = timezone.localdate(visited_at) + dt.timedelta(days=1)
    if errors:
        return errors
    item["_clean"] = {
        "task": task,
        "outcome": outcome,
        "answers": answers,
        "residents": residents,
        "visited_at": visited_at,
        "revisit_on": revisit or None,
        "new_residents": found,
        "note": str(item.get("note") or "").strip()[:500],
    }
    return None


def sync_visits(user, items: list[dict]) -> list[dict]:
    """Store a batch of visits queued on a phone. Idempotent on each visit's client UUID: a
    visit already stored (or twice in the batch) is answered ``duplicate`` and changes
    nothing. Each visit is stored or refused on its own; the stored ones in one transaction.

    Returns one ``{"uuid", "status": created|duplicate|invalid, "errors"?}`` per item.
    """
    if len(items) > MAX_BATCH:
        raise CampaignError(_("At most %(n)s visits per batch.") % {"n": MAX_BATCH})
    now = timezone.now()
    uuids = []
    for item in items:
        try:
            uuids.append(uuid_mod.UUID(str(item.get("uuid"))))
        except ValueError:
            uuids.append(None)
    existing = {
        u
        for u in Visit.objects.filter(uuid__in=[u for u in uuids if u]).values_list(
            "uuid", flat=True
        )
    }
    task_ids = {item.get("task") for item in items if isinstance(item.get("task"), int)}
    tasks = {
        t.pk: t
        for t in VisitTask.objects.for_user(user, "visit")
        .filter(pk__in=task_ids)
        .select_related("round__form", "round__campaign")
    }
    residents_of: dict[int, dict[int, dt.date | None]] = defaultdict(dict)
    for pk, dwelling, birth in Person.objects.filter(
        dwelling_id__in={t.dwelling_id for t in tasks.values()}
    ).values_list("id", "dwelling_id", "birth_date"):
        residents_of[dwelling][pk] = birth
    my_teams = dict(
        TeamMember.objects.filter(
            user=user, team__campaign_id__in={t.round.campaign_id for t in tasks.values()}
        ).values_list("team__campaign_id", "team_id")
    )

    results: list[dict] = []
    seen: set = set()
    accepted = []
    for item, u in zip(items, uuids, strict=True):
        if u is None:
            results.append({"uuid": str(item.get("uuid")), "status": "invalid",
                            "errors": {"uuid": [_("A UUID made on the phone.")]}})  # fmt: skip
            continue
        if u in existing or u in seen:
            results.append({"uuid": str(u), "status": "duplicate"})
            continue
        errors = _item_errors(item, tasks, residents_of, now)
        if errors:
            results.append({"uuid": str(u), "status": "invalid", "errors": errors})
            continue
        seen.add(u)
        accepted.append((u, item["_clean"]))
        results.append({"uuid": str(u), "status": "created"})
    if accepted:
        inserted = _store(user, accepted, my_teams, residents_of)
        for row in results:
            if row["status"] == "created" and row["uuid"] not in inserted:
                row["status"] = "duplicate"  # another request stored it meanwhile
    return results


@transaction.atomic
def _store(user, accepted, my_teams, residents_of) -> set[str]:
    batch = uuid_mod.uuid4()
    visits = []
    for u, c in accepted:
        task = c["task"]
        visits.append(
            Visit(
                uuid=u,
                task=task,
                round_id=task.round_id,
                form_id=task.round.form_id,
                area_code=task.area_code,
                outcome=c["outcome"],
                answers=c["answers"],
                residents=c["residents"],
                note=str(c.get("note") or "")[:500],
                revisit_on=c["revisit_on"],
                worker=user,
                team_id=my_teams.get(task.round.campaign_id) or task.team_id,
                visited_at=c["visited_at"],
                sync_batch=batch,
            )
        )
    Visit.objects.bulk_create(visits, batch_size=500, ignore_conflicts=True)
    stored = dict(Visit.objects.filter(sync_batch=batch).values_list("uuid", "id"))
    clean_by_uuid = {u: c for u, c in accepted}
    # The task keeps its latest outcome (visits may arrive out of order).
    latest: dict[int, tuple] = {}
    for u in stored:
        c = clean_by_uuid[u]
        task = c["task"]
        if task.pk not in latest or c["visited_at"] > latest[task.pk][0]:
            latest[task.pk] = (c["visited_at"], c["outcome"], c["revisit_on"])
    locked = VisitTask.objects.filter(pk__in=list(latest)).order_by("pk")
    if connection.features.has_select_for_update:
        locked = locked.select_for_update()
    changed = []
    for task in locked.only("id", "status", "last_visit_at", "revisit_on"):
        at, outcome, revisit = latest[task.pk]
        if task.last_visit_at is None or at >= task.last_visit_at:
            task.status, task.last_visit_at = outcome, at
            task.revisit_on = revisit if outcome == Outcome.NOT_HOME else None
            changed.append(task)
    VisitTask.objects.bulk_update(changed, ["status", "last_visit_at", "revisit_on"])

    findings, follow_ups = [], []
    for u, visit_id in stored.items():
        c = clean_by_uuid[u]
        task = c["task"]
        for row in c["new_residents"]:
            birth_year = row.get("birth_year")
            findings.append(
                NewResident(
                    visit_id=visit_id,
                    campaign_id=task.round.campaign_id,
                    round_number=task.round.number,
                    dwelling_id=task.dwelling_id,
                    area_code=task.area_code,
                    name=str(row.get("name")).strip()[:100],
                    sex=str(row.get("sex") or "")[:1],
                    birth_year=int(birth_year) if str(birth_year or "").isdigit() else None,
                    id_number=str(row.get("id_number") or "").strip()[:32],
                    phone=str(row.get("phone") or "").strip()[:20],
                    worker=user,
                    recorded_at=c["visited_at"],
                )
            )
        if c["outcome"] not in ANSWERED:
            continue
        births = None
        if c["residents"]:
            known = residents_of.get(task.dwelling_id, {})
            births = [known.get(r["person"]) for r in c["residents"] if r["status"] == "present"]
        on = timezone.localdate(c["visited_at"])
        for hit in followup.evaluate(task.round.form.schema, c["answers"], births, on):
            follow_ups.append(
                FollowUp(
                    visit_id=visit_id,
                    task=task,
                    campaign_id=task.round.campaign_id,
                    area_code=task.area_code,
                    rule=hit.rule,
                    detail=hit.detail,
                    due=hit.due,
                )
            )
    NewResident.objects.bulk_create(findings, batch_size=500)
    FollowUp.objects.bulk_create(follow_ups, batch_size=500)
    raise_cases(user, [f for f in follow_ups if f.rule in followup.CASE_RULES])
    return {str(u) for u in stored}


def raise_cases(user, follow_ups) -> None:
    """Raise a case in the requests loop for each follow-up that needs a service.

    Uses the cases app's one intake, ``shequ.cases.services.create_case``, when it exists; until
    then the follow-up task alone carries the work (its ``case_ref`` stays empty).
    """
    try:
        from shequ.cases.services import create_case
    except ImportError:
        return
    saved = FollowUp.objects.filter(
        visit_id__in=[f.visit_id for f in follow_ups], rule__in=followup.CASE_RULES
    ).select_related("task__dwelling", "campaign")
    for item in saved:
        text = _("Door-to-door visit (%(campaign)s) found: %(rule)s, dwelling %(code)s.") % {
            "campaign": item.campaign.name,
            "rule": item.get_rule_display(),
            "code": item.task.dwelling.code,
        }
        case = create_case(
            text=text,
            channel="module",
            title=str(item.get_rule_display()),
            area_code=item.area_code,
            place=item.task.dwelling,
            source_ref=f"campaigns.followup:{item.pk}",
        )
        item.case_ref = str(getattr(case, "number", None) or getattr(case, "pk", ""))
        item.save(update_fields=["case_ref"])


# --- rounds and progress --------------------------------------------------------------------


def _counts(tasks) -> dict:
    rows = tasks.order_by().values("status").annotate(n=Count("pk")).values_list("status", "n")
    by = dict(rows)
    total = sum(by.values())
    out = {s: by.get(s, 0) for s in TaskStatus.values}
    out["total"] = total
    out["remaining"] = out.pop(TaskStatus.PENDING)
    out["reached"] = sum(out[s] for s in FINAL)
    out["percent"] = round(100 * out["reached"] / total, 1) if total else 0.0
    return out


def coverage(campaign: Campaign, area_code: str | None = None) -> dict:
    """Coverage per round under ``area_code`` (default: the whole campaign), for the campaign
    page and the dashboards: visited / new residents / empty / not home / refused / remaining.

    One GROUP BY query.
    """
    code = area_code or campaign.area_code
    rounds = {r.pk: r for r in campaign.rounds.all()}
    rows = (
        VisitTask.objects.filter(round__in=list(rounds), area_code__startswith=code)
        .order_by()
        .values("round_id", "status")
        .annotate(n=Count("pk"))
        .values_list("round_id", "status", "n")
    )
    by_round: dict[int, dict[str, int]] = defaultdict(dict)
    for round_id, status, n in rows:
        by_round[round_id][status] = n
    out = []
    for r in sorted(rounds.values(), key=lambda r: r.number):
        counts = by_round.get(r.pk, {})
        total = sum(counts.values())
        row = {s: counts.get(s, 0) for s in TaskStatus.values}
        row["remaining"] = row.pop(TaskStatus.PENDING)
        reached = sum(row[s] for s in FINAL)
        out.append(
            {
                "round": r.number,
                "start": r.start.isoformat(),
                "end": r.end.isoformat(),
                "closed": r.closed_at is not None,
                "total": total,
                **row,
                "reached": reached,
                "percent": round(100 * reached / total, 1) if total else 0.0,
            }
        )
    return {"campaign": campaign.pk, "area_code": code, "rounds": out}


def coverage_by_area(round_: Round, codes: list[str]) -> dict[str, dict]:
    """{area code: counts} for sibling areas (one GROUP BY per code length)."""
    result = {c: {s: 0 for s in TaskStatus.values} for c in codes}
    by_length: dict[int, list[str]] = defaultdict(list)
    for c in codes:
        by_length[len(c)].append(c)
    for length, group in by_length.items():
        rows = (
            VisitTask.objects.filter(round=round_)
            .annotate(prefix=Substr("area_code", 1, length))
            .filter(prefix__in=group)
            .order_by()
            .values("prefix", "status")
            .annotate(n=Count("pk"))
            .values_list("prefix", "status", "n")
        )
        for prefix, status, n in rows:
            result[prefix][status] = n
    for counts in result.values():
        total = sum(counts.values())
        counts["remaining"] = counts.pop(TaskStatus.PENDING)
        counts["total"] = total
        counts["reached"] = sum(counts[s] for s in FINAL)
        counts["percent"] = round(100 * counts["reached"] / total, 1) if total else 0.0
    return result


def unreached(team: Team, round_: Round):
    """The team's dwellings of this round without a final outcome, in walking order."""
    return (
        VisitTask.objects.filter(round=round_, team=team)
        .exclude(status__in=FINAL)
        .select_related("dwelling")
        .order_by("route_order", "id")
    )


@transaction.atomic
def close_round(round_: Round, user) -> Round:
    """Close a round; refused while any dwelling has no final outcome."""
    round_ = (
        Round.objects.select_for_update().order_by().get(pk=round_.pk)
        if connection.features.has_select_for_update
        else round_
    )
    if round_.closed_at is not None:
        raise CampaignError(_("Round %(n)s is already closed.") % {"n": round_.number})
    open_counts = dict(
        round_.tasks.exclude(status__in=FINAL)
        .order_by()
        .values("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    if open_counts:
        raise CampaignError(
            _(
                "Round %(n)s cannot close: %(left)s dwellings have no outcome yet "
                "(%(pending)s not reached, %(not_home)s nobody home). Visit them, or record "
                "them as refused or empty."
            )
            % {
                "n": round_.number,
                "left": sum(open_counts.values()),
                "pending": open_counts.get(TaskStatus.PENDING, 0),
                "not_home": open_counts.get(TaskStatus.NOT_HOME, 0),
            }
        )
    round_.closed_at = timezone.now()
    round_.closed_by = user
    round_.save(update_fields=["closed_at", "closed_by"])
    return round_


def previous_answers(round_: Round, dwelling_ids) -> dict[int, dict]:
    """{dwelling id: answers} of the latest answered visit of an earlier round, to open the
    form of rounds 2 and 3 with what round 1 (or the last round) found."""
    rows = (
        Visit.objects.filter(
            round__campaign_id=round_.campaign_id,
            round__number__lt=round_.number,
            task__dwelling_id__in=list(dwelling_ids),
            outcome__in=list(ANSWERED),
        )
        .order_by("round__number", "visited_at")
        .values_list("task__dwelling_id", "answers")
    )
    return dict(rows)  # later rows win

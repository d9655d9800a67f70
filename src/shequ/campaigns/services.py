"""Writes of the campaigns app: every change goes through here, in one transaction each.

``create_campaign`` · ``update_campaign`` (and the visits' retain-until dates) ·
``new_form_version`` · ``add_round`` (and its visit tasks) ·
``add_team`` · ``plan_territories`` · ``move_building`` · ``sync_visits`` · ``close_round``
and the read-outs other apps call: ``coverage(campaign, area_code)``, ``unreached(team)``.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid as uuid_mod
from collections import defaultdict
from dataclasses import replace

from django.core.exceptions import EmptyResultSet, ValidationError
from django.db import connection, transaction
from django.db.models import (
    Count,
    DateTimeField,
    ExpressionWrapper,
    F,
    Q,
)
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from shequ.areas.models import Area, Place, PlaceKind
from shequ.core.rows import insert as insert_rows
from shequ.people.models import Household, Person

from . import followup, formschema, planner, signals
from .models import (
    ANSWERED,
    FINAL,
    RETAIN_DAYS_DEFAULT,
    RETAIN_DAYS_MAX,
    RETAIN_DAYS_MIN,
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
TASK_CHUNK = 900  # tasks written (and announced to ``signals.tasks_changing``) at a time


class CampaignError(ValidationError):
    pass


def community_of(area_code: str) -> str:
    return area_code[:COMMUNITY_CODE_LENGTH]


# --- campaigns, forms, rounds ---------------------------------------------------------------


def _check_retain_days(days) -> int:
    if (
        isinstance(days, bool)
        or not isinstance(days, int)
        or not RETAIN_DAYS_MIN <= days <= RETAIN_DAYS_MAX
    ):
        raise CampaignError(
            {
                "retain_days": _(
                    "Keep the answers between %(min)s and %(max)s days after the visit."
                )
                % {"min": RETAIN_DAYS_MIN, "max": RETAIN_DAYS_MAX}
            }
        )
    return days


@transaction.atomic
def create_campaign(
    *,
    name: str,
    area: Area,
    purpose: str = "",
    form=None,
    user=None,
    retain_days: int = RETAIN_DAYS_DEFAULT,
):
    campaign = Campaign.objects.create(
        name=name,
        purpose=purpose,
        area=area,
        area_code=area.code,
        created_by=user,
        retain_days=_check_retain_days(retain_days),
    )
    new_form_version(campaign, form or formschema.DEFAULT_FORM)
    return campaign


@transaction.atomic
def update_campaign(campaign: Campaign, *, name=None, purpose=None, retain_days=None) -> int:
    """Change a campaign's name, purpose or retention. A new retention moves the retain-until
    date of every visit still holding its answers (visited_at + retain_days); answers already
    anonymised stay so. Returns the number of visits whose date moved."""
    fields = []
    if name is not None:
        campaign.name = name
        fields.append("name")
    if purpose is not None:
        campaign.purpose = purpose
        fields.append("purpose")
    moved = 0
    if retain_days is not None and retain_days != campaign.retain_days:
        campaign.retain_days = _check_retain_days(retain_days)
        fields.append("retain_days")
        moved = (
            Visit.objects.filter(
                round_id__in=list(campaign.rounds.values_list("pk", flat=True)),
                anonymised_at__isnull=True,
            )
            .order_by()
            .update(retain_until=retain_until_expr(campaign.retain_days))
        )
    if fields:
        campaign.save(update_fields=fields)
    return moved


def retain_until_expr(days: int):
    """``visited_at + days``, computed by the database (for an UPDATE of many visits)."""
    return ExpressionWrapper(
        F("visited_at") + dt.timedelta(days=days), output_field=DateTimeField()
    )


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


@transaction.atomic
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
    have = set(round_.tasks.values_list("dwelling_id", flat=True))
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
        if pk not in have
    ]
    # New tasks count as "not reached" on the dashboards: those who follow task changes are
    # told, a chunk at a time (the ids are known only once the rows are written).
    for i in range(0, len(tasks), TASK_CHUNK):
        chunk = tasks[i : i + TASK_CHUNK]
        with signals.changing([]) as write:
            VisitTask.objects.bulk_create(chunk, batch_size=TASK_CHUNK, ignore_conflicts=True)
            write.ids.extend(
                round_.tasks.filter(dwelling_id__in=[t.dwelling_id for t in chunk]).values_list(
                    "pk", flat=True
                )
            )
    return len(have) + len(tasks)


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


def _whole(value) -> int | None:
    """A JSON whole number (not a boolean), or None for anything else a phone might send."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _item_errors(item, tasks, residents_of, now) -> dict | None:
    """Validate one queued visit; return its errors, or None (and fill item["_clean"])."""
    errors: dict[str, list[str]] = {}
    task = tasks.get(_whole(item.get("task")))
    if task is None:
        return {"task": [_("No such visit task within your scope.")]}
    if task.closed_at is not None:
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
            answers = formschema.clean_answers(task.schema, item.get("answers") or {})
        except ValidationError as exc:
            errors.update({f"answers.{k}": v for k, v in exc.message_dict.items()})
    residents = []
    known = residents_of.get(task.dwelling_id, {})
    for name in ("residents", "new_residents"):
        if not isinstance(item.get(name) or [], list):
            return {name: [_("A list.")]}
    for i, row in enumerate(item.get("residents") or []):
        person = _whole(row.get("person")) if isinstance(row, dict) else None
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


class _Task:
    """What storing a visit needs of its task (one row: the task as it is, locked, with its
    dwelling's code, its round, form and campaign, and the user's team in the campaign)."""

    # The row's columns, in the order of ``_tasks_for``'s query.
    COLUMNS = (
        "pk",
        "round_id",
        "dwelling_id",
        "area_code",
        "team_id",
        "closed_at",
        "form_id",
        "schema",
        "campaign_id",
        "round_number",
        "retain_days",
        "status",
        "households",
        "dwelling_code",
        "my_team",
    )
    __slots__ = COLUMNS

    def __init__(self, row):
        for name, value in zip(self.COLUMNS, row, strict=True):
            setattr(self, name, value)


def _task_sql() -> str:
    """The task rows of ``_tasks_for`` (written out once: the ORM took longer to build this
    query than the database to answer it, on every visit)."""
    q = connection.ops.quote_name
    t, r, f, c = (q(m._meta.db_table) for m in (VisitTask, Round, FormVersion, Campaign))
    m, tm, p = q(TeamMember._meta.db_table), q(Team._meta.db_table), q(Place._meta.db_table)
    sql = (
        f"SELECT {t}.{q('id')}, {t}.{q('round_id')}, {t}.{q('dwelling_id')}, "
        f"{t}.{q('area_code')}, {t}.{q('team_id')}, {r}.{q('closed_at')}, {r}.{q('form_id')}, "
        f"{f}.{q('schema')}, {r}.{q('campaign_id')}, {r}.{q('number')}, "
        f"{c}.{q('retain_days')}, {t}.{q('status')}, {t}.{q('households')}, {p}.{q('code')}, "
        f"(SELECT {m}.{q('team_id')} FROM {m} INNER JOIN {tm} ON {tm}.{q('id')} = "
        f"{m}.{q('team_id')} WHERE {m}.{q('user_id')} = %s AND {tm}.{q('campaign_id')} = "
        f"{r}.{q('campaign_id')} ORDER BY {m}.{q('team_id')} LIMIT 1) "
        f"FROM {t} INNER JOIN {r} ON {r}.{q('id')} = {t}.{q('round_id')} "
        f"INNER JOIN {f} ON {f}.{q('id')} = {r}.{q('form_id')} "
        f"INNER JOIN {c} ON {c}.{q('id')} = {r}.{q('campaign_id')} "
        f"INNER JOIN {p} ON {p}.{q('id')} = {t}.{q('dwelling_id')} "
        f"WHERE {t}.{q('id')} IN (%s) ORDER BY {t}.{q('id')}"
    )
    if connection.features.has_select_for_no_key_update:
        # The lock the visit's UPDATE of the task takes anyway (NO KEY: the visits' and
        # follow-ups' foreign keys to the task, checked at commit, are not blocked by it).
        sql += f" FOR NO KEY UPDATE OF {t}"
    elif connection.features.has_select_for_update_of:
        sql += f" FOR UPDATE OF {t}"
    return sql


def _tasks_for(user, task_ids) -> dict[int, _Task]:
    """{id: task} of these tasks within the user's scope for visits: which ones, decided by
    ``for_user`` (the one choke point, as a subquery); what they need, by one query written
    out around it. Called inside the sync's transaction: the rows are locked (``SELECT … FOR
    NO KEY UPDATE`` on PostgreSQL, in id order; SQLite lets one transaction write at a time),
    so a concurrent sync of the same task waits, and the status read here is the one this
    sync's UPDATE replaces (the dashboards are told both, ``_describe``)."""
    allowed = (
        VisitTask.objects.for_user(user, "visit")
        .filter(pk__in=sorted(task_ids))
        .order_by()
        .values("pk")
    )
    try:
        inner, inner_params = allowed.query.sql_with_params()
    except EmptyResultSet:  # no scope for visits at all
        return {}
    schema_field = FormVersion._meta.get_field("schema")
    out = {}
    with connection.cursor() as cursor:
        cursor.execute(_task_sql().replace("IN (%s)", f"IN ({inner})"), [user.pk, *inner_params])
        for row in cursor.fetchall():
            row = list(row)
            if isinstance(row[7], str | bytes):  # the form's JSON, as the backend returns it
                row[7] = schema_field.from_db_value(row[7], None, connection)
            out[row[0]] = _Task(row)
    return out


def sync_visits(user, items: list[dict]) -> list[dict]:
    """Store a batch of visits queued on a phone. Idempotent on each visit's client UUID: a
    visit already stored (or twice in the batch) is answered ``duplicate`` and changes
    nothing. Each visit is stored or refused on its own; all in one transaction, which reads
    (and locks) the tasks first.

    Returns one ``{"uuid", "status": created|duplicate|invalid, "errors"?}`` per item.

    The queries do not grow with the campaign or the batch: the tasks in the user's scope
    (with the user's team in the campaign), the known residents of those dwellings when a visit
    confirms residents, then the write (``_store``). A visit sent again is found there, by the
    unique UUID (or, if it no longer passes the checks, by one query for the refused ones).
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
    task_ids = {
        _whole(item.get("task")) for item, u in zip(items, uuids, strict=True) if u is not None
    } - {None}
    with transaction.atomic():
        return _sync(user, items, uuids, task_ids, now)


def _sync(user, items, uuids, task_ids, now) -> list[dict]:
    tasks = _tasks_for(user, task_ids) if task_ids else {}
    # Known residents, to check the ones a visit confirms and to apply the rules on ages.
    confirming = {
        tasks[_whole(item.get("task"))].dwelling_id
        for item in items
        if item.get("residents") and _whole(item.get("task")) in tasks
    }
    residents_of: dict[int, dict[int, dt.date | None]] = defaultdict(dict)
    if confirming:
        for pk, dwelling, birth in (
            Person.objects.filter(dwelling_id__in=confirming)
            .order_by()
            .values_list("id", "dwelling_id", "birth_date")
        ):
            residents_of[dwelling][pk] = birth

    results: list[dict] = []
    seen: set = set()
    accepted, refused = [], {}
    for item, u in zip(items, uuids, strict=True):
        if u is None:
            results.append({"uuid": str(item.get("uuid")), "status": "invalid",
                            "errors": {"uuid": [_("A UUID made on the phone.")]}})  # fmt: skip
            continue
        if u in seen:
            results.append({"uuid": str(u), "status": "duplicate"})
            continue
        errors = _item_errors(item, tasks, residents_of, now)
        if errors:
            refused[str(u)] = u
            results.append({"uuid": str(u), "status": "invalid", "errors": errors})
            continue
        seen.add(u)
        accepted.append((u, item["_clean"]))
        results.append({"uuid": str(u), "status": "created"})
    stored_before = set()
    if refused:  # refused now, but stored when first sent: a duplicate, nothing to fix
        stored_before = {
            str(u)
            for u in Visit.objects.filter(uuid__in=list(refused.values()))
            .order_by()
            .values_list("uuid", flat=True)
        }
    inserted = _store(user, accepted, residents_of) if accepted else set()
    for row in results:
        if row["status"] == "created" and row["uuid"] not in inserted:
            row["status"] = "duplicate"  # stored before (or by another request meanwhile)
        elif row["status"] == "invalid" and row["uuid"] in stored_before:
            row["status"] = "duplicate"
            del row["errors"]
    return results


def _store(user, accepted, residents_of) -> set[str]:  # inside sync_visits' transaction
    # The tasks' outcomes and follow-ups change: those who follow them (the dashboards'
    # rollups) are told, inside this transaction, what each task was and became (the write
    # reads it anyway), so they need not read the tasks before and after.
    ids = sorted({c["task"].pk for _u, c in accepted})
    with signals.changing(ids, described=True) as write:
        return _write_visits(user, accepted, residents_of, write)


# The columns of a stored visit, in the order ``_insert_visits`` writes them.
VISIT_COLUMNS = (
    "uuid",
    "task",
    "round",
    "form",
    "area_code",
    "outcome",
    "answers",
    "residents",
    "note",
    "revisit_on",
    "worker",
    "team",
    "visited_at",
    "received_at",
    "sync_batch",
    "retain_until",
    "anonymised_at",
)


FOREIGN = {"task", "round", "form", "worker", "team"}


def _insert_returns() -> bool:
    """Whether the database answers INSERT … ON CONFLICT DO NOTHING RETURNING."""
    if connection.vendor == "sqlite":
        import sqlite3

        return sqlite3.sqlite_version_info >= (3, 35)
    return connection.vendor == "postgresql"


def _insert_visits(rows: list[dict]) -> dict:
    """INSERT the visits, skipping UUIDs already stored; {uuid: id} of the rows inserted.

    One statement, ``ON CONFLICT (uuid) DO NOTHING RETURNING`` (PostgreSQL, SQLite ≥ 3.35): the
    database skips a visit stored before or by a concurrent request, and says which it wrote
    (``bulk_create(ignore_conflicts=True)`` cannot return ids; that took a second query).
    Written out (``core.rows.insert``)."""
    meta = Visit._meta
    if not _insert_returns():
        # SQLite before 3.35: no RETURNING. Insert, then read back what this batch wrote.
        Visit.objects.bulk_create(
            [Visit(**{f"{k}_id" if k in FOREIGN else k: v for k, v in r.items()}) for r in rows],
            batch_size=500,
            ignore_conflicts=True,
        )
        batches = {r["sync_batch"] for r in rows}
        return dict(
            Visit.objects.filter(sync_batch__in=batches).order_by().values_list("uuid", "id")
        )
    uuid_field = meta.get_field("uuid")
    written = insert_rows(
        Visit,
        VISIT_COLUMNS,
        [tuple(row.get(name) for name in VISIT_COLUMNS) for row in rows],
        skip_conflicts_on="uuid",
        returning=("id", "uuid"),
    )
    return {uuid_field.to_python(value): pk for pk, value in written}


def _write_visits(user, accepted, residents_of, write) -> set[str]:
    batch = uuid_mod.uuid4()
    now = timezone.now()
    rows = []
    for u, c in accepted:
        task = c["task"]
        rows.append(
            {
                "uuid": u,
                "task": task.pk,
                "round": task.round_id,
                "form": task.form_id,
                "area_code": task.area_code,
                "outcome": c["outcome"],
                "answers": c["answers"],
                "residents": c["residents"],
                "note": str(c.get("note") or "")[:500],
                "revisit_on": c["revisit_on"],
                "worker": user.pk,
                "team": task.my_team or task.team_id,
                "visited_at": c["visited_at"],
                "received_at": now,
                "sync_batch": batch,
                "retain_until": c["visited_at"] + dt.timedelta(days=task.retain_days),
                "anonymised_at": None,
            }
        )
    stored = _insert_visits(rows)
    clean_by_uuid = {u: c for u, c in accepted}
    # The task keeps its latest outcome (visits may arrive out of order): one guarded UPDATE
    # per task, which the database applies atomically against concurrent syncs.
    latest: dict[int, tuple] = {}
    for u in stored:
        c = clean_by_uuid[u]
        task = c["task"]
        if task.pk not in latest or c["visited_at"] > latest[task.pk][0]:
            latest[task.pk] = (c["visited_at"], c["outcome"], c["revisit_on"])
    # The tasks as they were (read and locked by ``_tasks_for``), for ``write.describe``.
    task_of = {c["task"].pk: c["task"] for _u, c in accepted}
    was = {
        pk: (t.status, t.area_code, t.households, t.dwelling_code)
        for pk, t in ((pk, task_of[pk]) for pk in sorted(latest))
    }
    updated = _update_tasks(latest)

    findings, follow_ups = [], []
    for u, visit_id in stored.items():
        c = clean_by_uuid[u]
        task = c["task"]
        for row in c["new_residents"]:
            birth_year = row.get("birth_year")
            findings.append(
                NewResident(
                    visit_id=visit_id,
                    campaign_id=task.campaign_id,
                    round_number=task.round_number,
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
        for hit in followup.evaluate(task.schema, c["answers"], births, on):
            follow_ups.append(
                FollowUp(
                    visit_id=visit_id,
                    task_id=task.pk,
                    campaign_id=task.campaign_id,
                    area_code=task.area_code,
                    rule=hit.rule,
                    detail=hit.detail,
                    due=hit.due,
                )
            )
    NewResident.objects.bulk_create(findings, batch_size=500)
    FollowUp.objects.bulk_create(follow_ups, batch_size=500)
    _describe(write, was, updated, latest, task_of, follow_ups)
    cases = [f for f in follow_ups if f.rule in followup.CASE_RULES]
    if cases:
        raise_cases(user, cases)
    return {str(u) for u in stored}


def _describe(write, was, updated, latest, tasks, follow_ups) -> None:
    """Tell ``signals.changing``'s receivers what each task was and became: its status (where
    its UPDATE applied) and the follow-ups this write added to it."""
    added: dict[int, list] = defaultdict(list)
    for f in follow_ups:
        added[f.task_id].append((str(f.rule), str(f.status)))
    for pk, (status, area_code, households, dwelling_code) in was.items():
        task = tasks[pk]
        before = signals.TaskState(
            task_id=pk,
            area_code=area_code,
            dwelling_code=dwelling_code,
            round_id=task.round_id,
            campaign_id=task.campaign_id,
            status=str(status),
            households=households,
        )
        after = replace(
            before,
            status=str(latest[pk][1]) if pk in updated else before.status,
            followups=tuple(added.get(pk, ())),
        )
        if after != before:
            write.describe(before, after)


def _update_tasks(latest: dict[int, tuple]) -> set[int]:
    """Each task takes its latest visit's outcome, unless a later visit is already recorded:
    ``UPDATE … WHERE last_visit_at IS NULL OR last_visit_at <= %s`` (one per task; the guard
    holds against concurrent syncs). Written out: the ORM's UPDATE costs more to build than to
    run, and this runs once per visit. Returns the ids of the tasks updated."""
    if not latest:
        return set()
    meta = VisitTask._meta
    at_field, revisit_field = meta.get_field("last_visit_at"), meta.get_field("revisit_on")
    q = connection.ops.quote_name
    sql = (
        f"UPDATE {q(meta.db_table)} SET {q('status')} = %s, {q('last_visit_at')} = %s, "
        f"{q('revisit_on')} = %s WHERE {q('id')} = %s AND ({q('last_visit_at')} IS NULL "
        f"OR {q('last_visit_at')} <= %s)"
    )
    updated = set()
    with connection.cursor() as cursor:
        for pk in sorted(latest):
            at, outcome, revisit = latest[pk]
            at = at_field.get_db_prep_save(at, connection)
            revisit = revisit_field.get_db_prep_save(
                revisit if outcome == Outcome.NOT_HOME else None, connection
            )
            cursor.execute(sql, [outcome, at, revisit, pk, at])
            if cursor.rowcount:
                updated.add(pk)
    return updated


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

"""Indicators of how requests are handled, computed from the cases' events (the timeline).

For an area (everything under ``area_code``), optionally one department, and a period
[start, end) of local dates:

* ``received``: cases created in the period.
* ``response_rate`` 响应率: of the cases dispatched in the period, the share whose first
  "start handling" came no later than ``respond_by``.
* ``on_time_rate`` 按时办结率: of the cases closed in the period (not as duplicate or
  withdrawn), the share closed no later than ``resolve_by`` (extensions included).
* ``resolution_rate`` 解决率: of those closed cases, the share closed as resolved.
* ``satisfaction_rate`` 满意率: of the ratings given in the period, satisfied + basically
  satisfied.
* ``avg_handling_hours``: mean hours from receipt to closing of the cases closed in the period.
* ``overdue_open``: cases open now (at ``end``) past their ``resolve_by``;
  ``overdue_closed``: closed in the period after it.

Rates are ``None`` when their denominator is 0. A case's first closing counts (a reopened case
that closes again counts once more in its second period only if that falls elsewhere).
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Min, Q
from django.utils import timezone

from .models import Case, CaseEvent, EventKind
from .workflow import TIMED_STATES, Outcome


def _bounds(start: dt.date, end: dt.date):
    tz = timezone.get_current_timezone()
    lo = timezone.make_aware(dt.datetime.combine(start, dt.time.min), tz)
    hi = timezone.make_aware(dt.datetime.combine(end, dt.time.min), tz)
    return lo, hi


def _rate(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def _gather(area_code: str, start: dt.date, end: dt.date, department=None) -> dict:
    """The raw rows behind the indicators, each with its case's department: a fixed number
    of queries whatever the number of departments."""
    lo, hi = _bounds(start, end)
    cases = Case.objects.filter(area_code__startswith=area_code)
    events = CaseEvent.objects.filter(area_code__startswith=area_code, at__gte=lo, at__lt=hi)
    if department is not None:
        cases = cases.filter(department=department)
        events = events.filter(case__department=department)
    moves = events.filter(kind=EventKind.MOVE)
    received = dict(
        cases.filter(created_at__gte=lo, created_at__lt=hi)
        .values("department_id")
        .annotate(n=Count("id"))
        .values_list("department_id", "n")
    )
    dispatched_ids = moves.filter(move="dispatch").values("case_id").distinct()
    first_start = dict(
        CaseEvent.objects.filter(case_id__in=dispatched_ids, kind=EventKind.MOVE, move="start")
        .values("case_id")
        .annotate(first=Min("at"))
        .values_list("case_id", "first")
    )
    dispatched = list(
        Case.objects.filter(pk__in=dispatched_ids).values_list("pk", "department_id", "respond_by")
    )
    closed_at = dict(
        moves.filter(move__in=["close", "withdraw"])
        .values("case_id")
        .annotate(at=Min("at"))
        .values_list("case_id", "at")
    )
    closed = list(
        Case.objects.filter(pk__in=list(closed_at))
        .exclude(outcome__in=[Outcome.DUPLICATE, Outcome.WITHDRAWN, ""])
        .values_list("pk", "department_id", "created_at", "resolve_by", "outcome")
    )
    # The rating stands on the case; a reopened case's later rating replaces the earlier one.
    ratings = list(
        moves.filter(move="evaluate")
        .values("case__department_id", "case__satisfaction")
        .annotate(n=Count("id"))
        .values_list("case__department_id", "case__satisfaction", "n")
    )
    overdue_open = dict(
        cases.filter(state__in=TIMED_STATES, resolve_by__lt=min(hi, timezone.now()))
        .filter(Q(created_at__lt=hi))
        .values("department_id")
        .annotate(n=Count("id"))
        .values_list("department_id", "n")
    )
    return {
        "received": received,
        "first_start": first_start,
        "dispatched": dispatched,
        "closed_at": closed_at,
        "closed": closed,
        "ratings": ratings,
        "overdue_open": overdue_open,
    }


def _summarise(raw: dict, area_code, start, end, dept_id=..., dept_code=None) -> dict:
    """The indicators of one department (``dept_id``) or of all (``...``)."""

    def mine(d):
        return dept_id is ... or d == dept_id

    first_start, closed_at = raw["first_start"], raw["closed_at"]
    dispatched = [(pk, by) for pk, d, by in raw["dispatched"] if mine(d)]
    responded_on_time = sum(
        1 for pk, by in dispatched if pk in first_start and (by is None or first_start[pk] <= by)
    )
    rows = [(pk, c, by, o) for pk, d, c, by, o in raw["closed"] if mine(d)]
    on_time = sum(1 for pk, _c, by, _o in rows if by is None or closed_at[pk] <= by)
    resolved = sum(1 for *_x, outcome in rows if outcome == Outcome.RESOLVED)
    hours = [(closed_at[pk] - created).total_seconds() / 3600 for pk, created, *_r in rows]
    rated: dict[str, int] = {}
    for d, sat, n in raw["ratings"]:
        if sat and mine(d):
            rated[sat] = rated.get(sat, 0) + n
    n_rated = sum(rated.values())
    happy = rated.get("satisfied", 0) + rated.get("basically", 0)
    return {
        "area_code": area_code,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "department": dept_code,
        "received": sum(n for d, n in raw["received"].items() if mine(d)),
        "dispatched": len(dispatched),
        "responded_on_time": responded_on_time,
        "response_rate": _rate(responded_on_time, len(dispatched)),
        "closed": len(rows),
        "closed_on_time": on_time,
        "on_time_rate": _rate(on_time, len(rows)),
        "resolved": resolved,
        "resolution_rate": _rate(resolved, len(rows)),
        "rated": n_rated,
        "satisfied": happy,
        "satisfaction_rate": _rate(happy, n_rated),
        "avg_handling_hours": round(sum(hours) / len(hours), 1) if hours else None,
        "overdue_open": sum(n for d, n in raw["overdue_open"].items() if mine(d)),
        "overdue_closed": len(rows) - on_time,
    }


def indicators(area_code: str, start: dt.date, end: dt.date, department=None) -> dict:
    """Plain numbers for one area, period [start, end) and optionally one department."""
    raw = _gather(area_code, start, end, department)
    return _summarise(raw, area_code, start, end, dept_code=getattr(department, "code", None))


def by_department(area_code: str, start: dt.date, end: dt.date, raw=None) -> list[dict]:
    """The same per department (one set of queries for all of them)."""
    from .models import Department

    raw = raw or _gather(area_code, start, end)
    ids = {d for d in raw["received"]} | {d for _pk, d, _by in raw["dispatched"]}
    ids |= {d for _pk, d, *_r in raw["closed"]} | set(raw["overdue_open"])
    return [
        {**_summarise(raw, area_code, start, end, d.pk, d.code), "department": d}
        for d in Department.objects.filter(pk__in=[i for i in ids if i]).order_by("code")
    ]


def overview(area_code: str, start: dt.date, end: dt.date) -> tuple[dict, list[dict]]:
    """(the area's indicators, per department) from one gathering of the rows."""
    raw = _gather(area_code, start, end)
    return _summarise(raw, area_code, start, end), by_department(area_code, start, end, raw)

"""Requests (cases): volume, top categories, open and overdue by department, and the four
rates of ``shequ.cases.indicators`` — 响应率, 按时办结率, 解决率, 满意率 — with the same
definitions, per calendar month:

* received: cases created in the month;
* 响应率: of the cases dispatched in the month (each case once per month), those whose first
  "start handling" (``Case.responded_at``) came no later than ``respond_by``;
* 按时办结率 / 解决率: of the cases closed (or withdrawn) in the month whose outcome is not
  duplicate, withdrawn or none (reopened), those closed no later than ``resolve_by`` / closed
  as resolved (each case once per month);
* 满意率: of the ratings given in the month (evaluate steps) on cases that carry a rating,
  satisfied + basically satisfied.

The days of dispatch, closing and rating come from the case timeline (``CaseEvent``), the rest
from the case's own fields. Every number is stored for all departments (dim "") and for the
case's department (dim ``d<id>``), so that a department handler sees their own department's
numbers only (see ``data.RequestView``). A month's numbers equal
``cases.indicators.indicators(area, first day, first day of the next month)`` exactly; a sum of
months counts a case dispatched (or closed) in two different months twice, where the indicators
of the longer period count it once.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, F, Q
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..registry import Indicator, Provider, register
from .common import month_end, rate

MONTHS = 13  # the current month and the twelve before it
DAYS = 30  # the daily volume series
TOP_CATEGORIES = 10
POINTS = 200  # open cases shown as points on the map

RECEIVED = "req.received"
DISPATCHED = "req.dispatched"
RESPONDED = "req.responded"
CLOSED = "req.closed"
ON_TIME = "req.closed_on_time"
RESOLVED = "req.resolved"
RATED = "req.rated"
SATISFIED = "req.satisfied"
DAILY = "req.daily"
CATEGORY = "req.category"
OPEN = "req.open"
OVERDUE = "req.overdue"
MONTHLY = (RECEIVED, DISPATCHED, RESPONDED, CLOSED, ON_TIME, RESOLVED, RATED, SATISFIED)
COUNTED_OUTCOMES = ("resolved", "not_ours", "unresolvable")  # not duplicate/withdrawn/none
HAPPY = ("satisfied", "basically")
# What a case's contribution depends on: these fields and these moves of its timeline.
CASE_FIELDS = (
    "pk",
    "area_code",
    "place__code",
    "department_id",
    "category__code",
    "created_at",
    "state",
    "outcome",
    "satisfaction",
    "respond_by",
    "responded_at",
    "resolve_by",
)
COUNTED_MOVES = ("dispatch", "close", "withdraw", "evaluate")


def available() -> bool:
    try:
        from shequ.cases.models import Case, CaseEvent  # noqa: F401
    except ImportError:
        return False
    return True


def window_start(as_of: dt.date) -> dt.date:
    """The first day of the oldest month kept: the month of ``as_of`` and 12 before."""
    year, month = as_of.year, as_of.month - (MONTHS - 1)
    while month < 1:
        month += 12
        year -= 1
    return dt.date(year, month, 1)


def _aware(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _day(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


def dept_dims(dept_id) -> tuple[str, ...]:
    return ("", f"d{dept_id}") if dept_id else ("",)


def _on_time_q(at_field: str, by_field: str):
    return Q(**{f"{by_field}__isnull": True}) | Q(**{f"{at_field}__lte": F(by_field)})


class RequestsProvider(Provider):
    perm = "cases.view_case"

    def available(self) -> bool:
        return available()

    # --- the full rebuild: a few GROUP BY queries -------------------------------------------

    def compute(self, ctx):
        from shequ.cases.models import Case, CaseEvent, EventKind
        from shequ.cases.workflow import OPEN_STATES, TIMED_STATES

        from ..rollups import grouped

        tree, as_of = ctx.tree, ctx.as_of
        lo = _aware(window_start(as_of))
        place = "place__code"
        cases = Case.objects.all()

        def emit(area, compound, day, key, dept, n):
            if n:
                for dim in dept_dims(dept):
                    yield area, compound, day, key, dim, n

        for area, compound, month, dept, n in grouped(
            cases.filter(created_at__gte=lo),
            [TruncMonth("created_at"), "department_id"],
            Count("pk"),
            place_field=place,
            tree=tree,
        ):
            yield from emit(area, compound, month_end(_day(month)), RECEIVED, dept, n)
        daily_lo = _aware(as_of - dt.timedelta(days=DAYS - 1))
        for area, compound, day, dept, n in grouped(
            cases.filter(created_at__gte=daily_lo),
            [TruncDate("created_at"), "department_id"],
            Count("pk"),
            place_field=place,
            tree=tree,
        ):
            yield from emit(area, compound, _day(day), DAILY, dept, n)
        for area, compound, month, cat, n in grouped(
            cases.filter(created_at__gte=lo, category__isnull=False),
            [TruncMonth("created_at"), "category__code"],
            Count("pk"),
            place_field=place,
            tree=tree,
        ):
            yield area, compound, month_end(_day(month)), CATEGORY, cat, n

        moves = CaseEvent.objects.filter(kind=EventKind.MOVE, at__gte=lo)
        case_place = "case__place__code"
        dims = [TruncMonth("at"), "case__department_id"]
        responded = Q(case__responded_at__isnull=False) & _on_time_q(
            "case__responded_at", "case__respond_by"
        )
        for area, compound, month, dept, n, ok in grouped(
            moves.filter(move="dispatch"),
            dims,
            [
                Count("case_id", distinct=True),
                Count("case_id", distinct=True, filter=responded),
            ],
            place_field=case_place,
            tree=tree,
        ):
            day = month_end(_day(month))
            yield from emit(area, compound, day, DISPATCHED, dept, n)
            yield from emit(area, compound, day, RESPONDED, dept, ok)
        for area, compound, month, dept, n, ok, good in grouped(
            moves.filter(move__in=["close", "withdraw"], case__outcome__in=COUNTED_OUTCOMES),
            dims,
            [
                Count("case_id", distinct=True),
                Count("case_id", distinct=True, filter=_on_time_q("at", "case__resolve_by")),
                Count("case_id", distinct=True, filter=Q(case__outcome="resolved")),
            ],
            place_field=case_place,
            tree=tree,
        ):
            day = month_end(_day(month))
            yield from emit(area, compound, day, CLOSED, dept, n)
            yield from emit(area, compound, day, ON_TIME, dept, ok)
            yield from emit(area, compound, day, RESOLVED, dept, good)
        for area, compound, month, dept, n, happy in grouped(
            moves.filter(move="evaluate").exclude(case__satisfaction=""),
            dims,
            [Count("pk"), Count("pk", filter=Q(case__satisfaction__in=HAPPY))],
            place_field=case_place,
            tree=tree,
        ):
            day = month_end(_day(month))
            yield from emit(area, compound, day, RATED, dept, n)
            yield from emit(area, compound, day, SATISFIED, dept, happy)

        overdue = Q(state__in=TIMED_STATES, resolve_by__lt=ctx.now)
        for area, compound, dept, n, late in grouped(
            cases.filter(state__in=OPEN_STATES),
            ["department_id"],
            [Count("pk"), Count("pk", filter=overdue)],
            place_field=place,
            tree=tree,
        ):
            yield from emit(area, compound, None, OPEN, dept, n)
            yield from emit(area, compound, None, OVERDUE, dept, late)

    # --- incremental: one case's contribution, as it is now --------------------------------

    def cells(self, as_of, cases=()):
        from shequ.cases.models import Case, CaseEvent, EventKind

        ids = [c for c in cases if c]
        if not ids:
            return {}
        rows = list(Case.objects.filter(pk__in=ids).values(*CASE_FIELDS))
        events: dict[int, list[tuple[str, dt.datetime]]] = {}
        for case_id, move, at in CaseEvent.objects.filter(
            case_id__in=ids, kind=EventKind.MOVE, move__in=COUNTED_MOVES
        ).values_list("case_id", "move", "at"):
            events.setdefault(case_id, []).append((move, at))
        return self.cells_of(as_of, rows, events)

    def cells_of(self, as_of, rows: list[dict], events: dict[int, list]) -> dict:
        """The cells of cases given as rows (``CASE_FIELDS``) with the moves of their timelines
        (``{pk: [(move, at)]}``; moves other than ``COUNTED_MOVES`` count for nothing): what
        ``cells`` reads, handed in by a caller that has them at hand (a case just taken in)."""
        from shequ.cases.workflow import OPEN_STATES, TIMED_STATES

        from ..rollups import Compounds

        tree = Compounds([r["place__code"] for r in rows if r["place__code"]])
        lo = _aware(window_start(as_of))
        daily_lo = _aware(as_of - dt.timedelta(days=DAYS - 1))
        now = timezone.now()
        out: dict = {}

        def add(area, compound, day, key, dept, n=1):
            for dim in dept_dims(dept):
                cell = (area, compound, day, key, dim)
                out[cell] = out.get(cell, 0) + n

        def month_of(at):
            return month_end(timezone.localtime(at).date())

        for r in rows:
            area, dept = r["area_code"], r["department_id"]
            compound = tree.compound_of(r["place__code"])
            created = r["created_at"]
            if created >= lo:
                add(area, compound, month_of(created), RECEIVED, dept)
                if r["category__code"]:
                    cell = (area, compound, month_of(created), CATEGORY, r["category__code"])
                    out[cell] = out.get(cell, 0) + 1
            if created >= daily_lo:
                add(area, compound, timezone.localtime(created).date(), DAILY, dept)
            mine = [(m, at) for m, at in events.get(r["pk"], []) if at >= lo]
            responded = r["responded_at"] is not None and (
                r["respond_by"] is None or r["responded_at"] <= r["respond_by"]
            )
            for month in {month_of(at) for m, at in mine if m == "dispatch"}:
                add(area, compound, month, DISPATCHED, dept)
                if responded:
                    add(area, compound, month, RESPONDED, dept)
            if r["outcome"] in COUNTED_OUTCOMES:
                first: dict[dt.date, dt.datetime] = {}
                for m, at in mine:
                    if m in ("close", "withdraw"):
                        month = month_of(at)
                        first[month] = min(first.get(month, at), at)
                for month, at in first.items():
                    add(area, compound, month, CLOSED, dept)
                    if r["resolve_by"] is None or at <= r["resolve_by"]:
                        add(area, compound, month, ON_TIME, dept)
                    if r["outcome"] == "resolved":
                        add(area, compound, month, RESOLVED, dept)
            if r["satisfaction"]:
                for m, at in mine:
                    if m == "evaluate":
                        add(area, compound, month_of(at), RATED, dept)
                        if r["satisfaction"] in HAPPY:
                            add(area, compound, month_of(at), SATISFIED, dept)
            if r["state"] in OPEN_STATES:
                add(area, compound, None, OPEN, dept)
                if r["state"] in TIMED_STATES and r["resolve_by"] and r["resolve_by"] < now:
                    add(area, compound, None, OVERDUE, dept)
        return out

    # --- presenting -------------------------------------------------------------------------

    def present(self, v, ctx):
        view = ctx.requests
        if view is None:
            return {}

        def one(key, day):
            dims = v.rows.get(key, {})
            return sum(dims.get(dim, {}).get(day, 0) for dim in view.dims)

        def snap(key):
            latest = v.dims(key)
            return sum(latest.get(dim, 0) for dim in view.dims)

        today = ctx.today
        months = [month_end(window_start(today))]
        while months[-1] < month_end(today):
            months.append(month_end(months[-1] + dt.timedelta(days=1)))
        this_month, last_month = months[-1], months[-2]
        items_30 = [today - dt.timedelta(days=i) for i in range(DAYS - 1, -1, -1)]
        rates = {}
        for label_key, num, den in (
            ("req.response_rate", RESPONDED, DISPATCHED),
            ("req.on_time_rate", ON_TIME, CLOSED),
            ("req.resolution_rate", RESOLVED, CLOSED),
            ("req.satisfaction_rate", SATISFIED, RATED),
        ):
            rates[label_key] = {
                "value": rate(one(num, this_month), one(den, this_month)),
                "numerator": one(num, this_month),
                "denominator": one(den, this_month),
                "previous": rate(one(num, last_month), one(den, last_month)),
            }
        shown = {
            "req.open": {"value": snap(OPEN)},
            "req.overdue": {"value": snap(OVERDUE)},
            "req.received_month": {"value": one(RECEIVED, this_month)},
            **rates,
            "req.daily": {
                "points": [[d.isoformat(), one(DAILY, d)] for d in items_30],
                "daily": True,
            },
            "req.trend": {
                "points": [[m.isoformat(), one(RECEIVED, m)] for m in months],
                "lines": [
                    {
                        "name": str(_("Received")),
                        "points": [[m.isoformat(), one(RECEIVED, m)] for m in months],
                    },
                    {
                        "name": str(_("Closed")),
                        "points": [[m.isoformat(), one(CLOSED, m)] for m in months],
                    },
                ],
            },
            "req.rates_trend": {
                "points": [[m.isoformat(), rate(one(ON_TIME, m), one(CLOSED, m))] for m in months],
                "lines": [
                    {
                        "name": str(label),
                        "points": [[m.isoformat(), rate(one(n, m), one(d, m))] for m in months],
                    }
                    for label, n, d in (
                        (_("Response rate"), RESPONDED, DISPATCHED),
                        (_("On-time closing rate"), ON_TIME, CLOSED),
                        (_("Resolution rate"), RESOLVED, CLOSED),
                        (_("Satisfaction rate"), SATISFIED, RATED),
                    )
                ],
            },
        }
        if view.all_departments:
            cats = v.rows.get(CATEGORY, {})
            names = ctx.names.get("categories", {})
            recent = (last_month, this_month)
            top = sorted(
                ((code, sum(days.get(m, 0) for m in recent)) for code, days in cats.items()),
                key=lambda item: (-item[1], item[0]),
            )
            shown["req.top_categories"] = {
                "items": [
                    {"key": code, "name": names.get(code, code), "value": n}
                    for code, n in top[:TOP_CATEGORIES]
                    if n
                ]
            }
        depts = ctx.names.get("departments", {})
        open_by, late_by = v.dims(OPEN), v.dims(OVERDUE)
        rows = []
        for dim in sorted(set(open_by) | set(late_by)):
            if not dim.startswith("d") or (not view.all_departments and dim not in view.dims):
                continue
            name = depts.get(dim, dim)
            rows.append([name, open_by.get(dim, 0), late_by.get(dim, 0)])
        rows.sort(key=lambda r: (-r[1], r[0]))
        shown["req.by_department"] = {
            "columns": [str(_("Department")), str(_("Open")), str(_("Overdue"))],
            "rows": rows,
        }
        return shown

    def child_metrics(self, values, codes, ctx):
        view = ctx.requests
        if view is None:
            return {}

        def one(v, key):
            return sum(v.dims(key).get(dim, 0) for dim in view.dims)

        return {
            "req.open": {c: one(values[c], OPEN) for c in codes},
            "req.overdue": {c: one(values[c], OVERDUE) for c in codes},
        }


register(
    RequestsProvider(
        module="requests",
        label=_("Requests"),
        keys=(*MONTHLY, DAILY, CATEGORY, OPEN, OVERDUE),
        snapshot_keys=(OPEN, OVERDUE),
        tracks=("cases",),
        indicators=[
            Indicator(
                "req.open",
                _("Open requests"),
                _(
                    "Requests not yet closed (received, dispatched, in progress, reported "
                    "back, verified, or under review of a rating), now."
                ),
                choropleth=True,
            ),
            Indicator(
                "req.overdue",
                _("Overdue requests"),
                _(
                    "Open requests past their deadline to resolve (extensions included), now. A "
                    "case under review of a rating does not run against the deadline."
                ),
                choropleth=True,
            ),
            Indicator(
                "req.received_month",
                _("Received this month"),
                _("Requests received from any channel since the first day of this month."),
            ),
            Indicator(
                "req.response_rate",
                _("Response rate (响应率)"),
                _(
                    "Of the requests dispatched to a department this month, the share whose "
                    "handling started no later than the time to respond."
                ),
                chart="rate",
            ),
            Indicator(
                "req.on_time_rate",
                _("On-time closing rate (按时办结率)"),
                _(
                    "Of the requests closed this month (not as duplicate or withdrawn), the "
                    "share closed no later than the deadline, extensions included."
                ),
                chart="rate",
            ),
            Indicator(
                "req.resolution_rate",
                _("Resolution rate (解决率)"),
                _(
                    "Of the requests closed this month (not as duplicate or withdrawn), the "
                    "share closed as resolved after a passed check."
                ),
                chart="rate",
            ),
            Indicator(
                "req.satisfaction_rate",
                _("Satisfaction rate (满意率)"),
                _(
                    "Of the ratings given this month, the share “satisfied” or “basically "
                    "satisfied”. A rating withdrawn by reopening the case no longer counts."
                ),
                chart="rate",
            ),
            Indicator(
                "req.daily",
                _("Requests per day"),
                _("Requests received on each of the last 30 days."),
                chart="line",
            ),
            Indicator(
                "req.trend",
                _("Requests per month"),
                _("Requests received and closed in each month of the last year."),
                chart="line",
            ),
            Indicator(
                "req.rates_trend",
                _("Rates per month"),
                _(
                    "Response, on-time closing, resolution and satisfaction rates of each month "
                    "of the last year (%)."
                ),
                chart="line",
            ),
            Indicator(
                "req.top_categories",
                _("Top categories"),
                _("The most frequent categories of the requests received this month and last."),
                chart="bar",
            ),
            Indicator(
                "req.by_department",
                _("Open and overdue by department"),
                _("Open requests and those past their deadline, by the department handling them."),
                chart="table",
            ),
        ],
    )
)

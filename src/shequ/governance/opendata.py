"""Open, aggregated data: counts per child area that need no export approval.

Read from the dashboards' rollups only (never the rows they count): residents by type,
households, and requests received in the last twelve months by category, for an area and each
of its child areas. Counts from 1 to 4 are suppressed (``<5``) for every role — this is data
meant to leave the building — and so are as many other cells as it takes to keep a suppressed
count from being worked out by subtraction from a published total (``x``: complementary
suppression along each child column and each area's split of residents by type).

The dashboards' own CSV downloads suppress small counts only for roles that may not see
individual people; this file suppresses them for everyone.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from shequ.areas.models import Area
from shequ.dashboards.data import Values, request_view
from shequ.dashboards.models import Rollup, RollupRun
from shequ.dashboards.providers.population import HOUSEHOLDS, RESIDENTS, TYPE
from shequ.dashboards.providers.requests import CATEGORY
from shequ.people.choices import ResidentType

SMALL = 5
PRIMARY = "<5"
SECONDARY = "x"
MONTHS = 12
HEADER = ["area_code", "area_name", "row", "indicator", "category", "value"]

Cell = tuple[str, str, str]  # (area code, indicator, category)


def months_start(today: dt.date, months: int = MONTHS) -> dt.date:
    """The first day of the month ``months - 1`` months before ``today``'s month."""
    year, month = today.year, today.month - (months - 1)
    while month < 1:
        month += 12
        year -= 1
    return dt.date(year, month, 1)


def suppress(cells: dict[Cell, int], groups: list[tuple[list[Cell], Cell]]) -> dict[Cell, str]:
    """{cell: "<5" | "x"} for the cells to hide.

    Primary: every count from 1 to SMALL - 1. Complementary: in each group (members whose sum
    is bounded by a published total), a lone hidden member would be the total minus the
    others; hide the smallest other member too (or, with none left, the total). Repeated until
    no group has a lone hidden member.
    """
    hidden: dict[Cell, str] = {c: PRIMARY for c, v in cells.items() if 0 < v < SMALL}
    changed = True
    while changed:
        changed = False
        for members, total in groups:
            if total in hidden:
                continue
            lone = [c for c in members if c in hidden]
            if len(lone) != 1:
                continue
            others = [c for c in members if c not in hidden]
            if others:
                pick = min(others, key=lambda c: (cells.get(c, 0) == 0, cells.get(c, 0), c))
            else:
                pick = total
            hidden[pick] = SECONDARY
            changed = True
    return hidden


def table(user, area: Area, *, today: dt.date | None = None) -> dict:
    """The area's and its children's counts, suppressed: {"rows", "as_of", "suppressed"}."""
    today = today or timezone.localdate()
    children = list(
        Area.objects.filter(parent=area).order_by("code").only("code", "name", "name_en")
    )
    names = {area.code: area.display_name, **{c.code: c.display_name for c in children}}
    codes = [area.code, *[c.code for c in children]]
    view = request_view(user, area.code)
    with_requests = view is not None and view.all_departments
    keys = [RESIDENTS, TYPE, HOUSEHOLDS] + ([CATEGORY] if with_requests else [])
    values: dict[str, Values] = {code: Values() for code in codes}
    rows = Rollup.objects.filter(area_code__in=codes, key__in=keys).values_list(
        "area_code", "key", "dim", "day", "value"
    )
    for code, key, dim, day, value in rows:
        values[code].add(key, dim, day, value)
    start = months_start(today)
    categories = sorted({dim for v in values.values() for dim in v.rows.get(CATEGORY, {}) if dim})
    types = [t.value for t in ResidentType]

    cells: dict[Cell, int] = {}
    for code in codes:
        v = values[code]
        cells[(code, "residents", "")] = v.get(RESIDENTS)
        by_type = v.dims(TYPE)
        for t in types:
            cells[(code, "residents_by_type", t)] = by_type.get(t, 0)
        cells[(code, "households", "")] = v.get(HOUSEHOLDS)
        for cat in categories:
            cells[(code, "requests_by_category", cat)] = v.sum_since(CATEGORY, start, cat)

    groups: list[tuple[list[Cell], Cell]] = []
    child_codes = codes[1:]
    indicators = {(ind, cat) for _code, ind, cat in cells}
    if child_codes:
        for ind, cat in sorted(indicators):
            groups.append(([(c, ind, cat) for c in child_codes], (area.code, ind, cat)))
    for code in codes:
        groups.append(([(code, "residents_by_type", t) for t in types], (code, "residents", "")))
    hidden = suppress(cells, groups)

    out = []
    for code in codes:
        row_kind = "total" if code == area.code else "child"
        for (c, ind, cat), value in cells.items():
            if c == code:
                out.append(
                    [code, names[code], row_kind, ind, cat, hidden.get((c, ind, cat), value)]
                )
    as_of = RollupRun.objects.aggregate(day=Max("as_of"))["day"]
    return {
        "rows": out,
        "as_of": as_of.isoformat() if as_of else "",
        "requests_since": start.isoformat() if with_requests else "",
        "suppressed": sum(1 for mark in hidden.values() if mark == PRIMARY),
        "hidden": len(hidden),
    }


def title(area: Area, data: dict) -> str:
    text = _("Open data · %(name)s (%(code)s) · rollups as of %(day)s") % {
        "name": area.display_name,
        "code": area.code,
        "day": data["as_of"] or "-",
    }
    if data["requests_since"]:
        text += " · " + _("requests received since %(day)s") % {"day": data["requests_since"]}
    return "# " + text


def footnote() -> str:
    return "# " + _(
        "<5: from 1 to 4, not shown. x: hidden so that a number below 5 cannot be worked out "
        "from the totals."
    )

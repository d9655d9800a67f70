"""The numbers of one dashboard, read from the rollups only.

``dashboard(user, area=..., place=...)`` runs a fixed number of queries whatever the size of the
city: the area (or compound), its ancestors (breadcrumb), its children, the rollup rows of the
area, the rollup rows of its children for the map, the last rebuild per module and a bounded
list of facility points. The same dict feeds the page, the big screen, the print summary, the
CSV downloads and the API.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.urls import reverse
from django.utils.translation import gettext as _

from shequ.areas.models import CHILD_LEVEL, Area, Facility, Level, Place, PlaceKind
from shequ.core.scoping import code_in_scope
from shequ.people.models import Person

from . import registry
from .models import Rollup, RollupRun

PERM = "dashboards.view_dashboard"
SMALL = 5  # counts of people below this are suppressed for roles that may not see people
FACILITY_POINTS = 300
CHILD_LIMIT = 400
LEVEL_BRAIN = {
    Level.CITY: "city",
    Level.DISTRICT: "district",
    Level.STREET: "street",
    Level.COMMUNITY: "community",
    Level.GRID: "grid",
}


def brain_label(level: str) -> str:
    return {
        "city": _("City brain"),
        "district": _("District brain"),
        "street": _("Street mid-brain"),
        "community": _("Community small brain"),
        "grid": _("Grid small brain"),
        "compound": _("Compound micro-brain"),
    }.get(level, "")


class Values:
    """The rollup rows of one area: key -> dim -> {day: value}."""

    def __init__(self):
        self.rows: dict[str, dict[str, dict[dt.date, int]]] = defaultdict(lambda: defaultdict(dict))

    def add(self, key, dim, day, value):
        self.rows[key][dim][day] = value

    def get(self, key, dim="", default=0):
        days = self.rows.get(key, {}).get(dim)
        if not days:
            return default
        return days[max(days)]

    def dims(self, key) -> dict[str, int]:
        return {dim: days[max(days)] for dim, days in self.rows.get(key, {}).items() if days}

    def series(self, key, dim="") -> list[tuple[dt.date, int]]:
        return sorted(self.rows.get(key, {}).get(dim, {}).items())

    def sum_since(self, key, start: dt.date, dim="") -> int:
        return sum(v for d, v in self.rows.get(key, {}).get(dim, {}).items() if d >= start)


class RequestView:
    """Which requests a user's dashboard counts: ``dims`` are the rollup dimensions summed
    ("" = every department; ``d<id>`` = one department's cases)."""

    def __init__(self, dims: list[str], all_departments: bool):
        self.dims = dims
        self.all_departments = all_departments


def request_view(user, area_code: str) -> RequestView | None:
    """What the requests section shows this user at ``area_code``, decided like
    ``Case.objects.for_user(user, "view")``: a role that sees every case here -> all numbers; a
    role narrowed by ``Case.role_scope`` (the department handler) -> the numbers of their own
    departments only (one query); no case permission here -> None (no requests section)."""
    from shequ.core.roles import role_grants
    from shequ.core.scoping import assignments

    try:
        from shequ.cases.models import Case, Department
    except ImportError:
        return None
    perm = Case.perm("view")
    narrowed = False
    for role, code in assignments(user):
        if role_grants(role, perm) and area_code.startswith(code):
            if Case.role_scope(role, user) is None:
                return RequestView([""], True)
            narrowed = True
    if not narrowed:
        return None
    ids = Department.objects.filter(members=user).values_list("pk", flat=True)
    return RequestView([f"d{pk}" for pk in ids], False)


class Presenter:
    """What a provider's ``present`` may use: the suppression rule, the day, what the user
    sees of requests, display names of codes (categories, departments)."""

    def __init__(self, suppress: bool, today: dt.date, requests=None, names=None):
        self.suppress = suppress
        self.today = today
        self.suppressed = 0
        self.requests: RequestView | None = requests
        self.names: dict[str, dict[str, str]] = names or {}

    def small(self, n):
        if n is None:
            return None
        if self.suppress and 0 < n < SMALL:
            self.suppressed += 1
            return None
        return n


def may_view(user) -> bool:
    from shequ.core.scoping import user_holds

    return user_holds(user, PERM)


def suppress_for(user) -> bool:
    return not Person.user_may(user, "view")


def dashboard_url(code: str, *, place: bool = False) -> str:
    if place:
        return reverse("dashboards:place", args=[code])
    return reverse("dashboards:area", args=[code])


def _crumbs(user, codes: list[str], names: dict[str, str], place_code: str | None) -> list[dict]:
    crumbs = []
    for code in codes:
        crumbs.append(
            {
                "code": code,
                "name": names.get(code, code),
                "url": dashboard_url(code, place=code == place_code)
                if code_in_scope(user, PERM, code)
                else None,
                "current": False,
            }
        )
    if crumbs:
        crumbs[-1]["current"] = True
        crumbs[-1]["url"] = None
    return crumbs


def _feature(geometry, **properties):
    if not geometry:
        return None
    if geometry.get("type") == "Feature":
        geometry = geometry.get("geometry")
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def dashboard(user, *, area: Area | None = None, place: Place | None = None) -> dict:
    """The dashboard of an area or a compound (the caller has checked scope)."""
    from django.utils import timezone

    today = timezone.localdate()
    if place is not None:
        code, level, node = place.code, "compound", place
        area_code = place.area_code
        prefixes = [area_code[:i] for i in range(1, len(area_code) + 1)]
    else:
        code, level, node = area.code, area.level, area
        area_code = code
        prefixes = [code[:i] for i in range(1, len(code) + 1)]
    shown_providers = [
        p
        for p in registry.providers()
        if not getattr(p, "perm", None) or code_in_scope(user, p.perm, area_code)
    ]
    requests = None
    names: dict[str, dict[str, str]] = {}
    if any(p.module == "requests" for p in shown_providers):
        requests = request_view(user, area_code)
        if requests is not None:
            names = _request_names()
    if any(p.module == "screening" for p in shown_providers):
        names["rounds"] = _round_names()
    presenter = Presenter(suppress_for(user), today, requests, names)
    ancestors = list(
        Area.objects.filter(code__in=prefixes).only("code", "name", "name_en").order_by("code")
    )
    names = {a.code: a.display_name for a in ancestors}
    chain = [a.code for a in sorted(ancestors, key=lambda a: len(a.code))]
    if place is not None:
        names[place.code] = place.display_name
        chain.append(place.code)
    crumbs = _crumbs(user, chain, names, place.code if place is not None else None)

    # Children: areas of the next level; below a community or grid, its compounds.
    children: list[dict] = []
    if place is None:
        child_areas = list(
            Area.objects.filter(parent=area)
            .only("code", "name", "name_en", "level", "boundary", "lat", "lng")
            .order_by("code")[:CHILD_LIMIT]
        )
        children = [
            {
                "code": c.code,
                "name": c.display_name,
                "level": c.level,
                "url": dashboard_url(c.code),
                "boundary": c.boundary,
                "lat": c.lat,
                "lng": c.lng,
            }
            for c in child_areas
        ]
        if not children or area.level in (Level.GRID,):
            compounds = (
                Place.objects.filter(kind=PlaceKind.COMPOUND, area_code__startswith=area.code)
                .only("code", "name", "name_en", "boundary", "lat", "lng")
                .order_by("code")[:CHILD_LIMIT]
            )
            children += [
                {
                    "code": c.code,
                    "name": c.display_name,
                    "level": "compound",
                    "url": dashboard_url(c.code, place=True),
                    "boundary": c.boundary,
                    "lat": c.lat,
                    "lng": c.lng,
                }
                for c in compounds
            ]
    child_codes = [c["code"] for c in children]

    # The rollups: this area's rows, then its children's (snapshot keys only) for the map.
    values = Values()
    child_values: dict[str, Values] = defaultdict(Values)
    rows = Rollup.objects.filter(area_code=code).values_list("key", "dim", "day", "value")
    for key, dim, day, value in rows:
        values.add(key, dim, day, value)
    snapshot_keys = [k for p in shown_providers for k in p.snapshot_keys]
    if child_codes:
        rows = Rollup.objects.filter(area_code__in=child_codes, key__in=snapshot_keys)
        for c, key, dim, day, value in rows.values_list("area_code", "key", "dim", "day", "value"):
            child_values[c].add(key, dim, day, value)

    latest_runs = {}
    for module, as_of, finished in RollupRun.objects.order_by("-finished_at").values_list(
        "module", "as_of", "finished_at"
    )[:50]:
        latest_runs.setdefault(module, {"as_of": as_of.isoformat(), "rebuilt_at": finished})

    sections = []
    metrics: list[dict] = []
    for provider in shown_providers:
        shown = provider.present(values, presenter)
        if not shown:
            continue
        indicators = []
        for ind in provider.indicators:
            if ind.key in shown:
                indicators.append(
                    {
                        "key": ind.key,
                        "label": str(ind.label),
                        "definition": str(ind.definition),
                        "chart": ind.chart,
                        "personal": ind.personal,
                        **shown[ind.key],
                    }
                )
        by_child = provider.child_metrics(child_values, child_codes, presenter) if children else {}
        for ind in provider.indicators:
            if ind.choropleth and ind.key in by_child:
                metrics.append(
                    {
                        "key": ind.key,
                        "label": str(ind.label),
                        "definition": str(ind.definition),
                        "values": by_child[ind.key],
                    }
                )
        run = latest_runs.get(provider.module)
        sections.append(
            {
                "module": provider.module,
                "label": str(provider.label),
                "rebuilt_at": run["rebuilt_at"].isoformat() if run else None,
                "as_of": run["as_of"] if run else None,
                "indicators": indicators,
            }
        )

    facilities = []
    if place is None:
        facility_qs = Facility.objects.filter(area_code__startswith=code).only(
            "code", "name", "name_en", "kind", "lat", "lng"
        )
        facilities = [
            {
                "code": f.code,
                "name": f.display_name,
                "kind": f.kind,
                "kind_label": str(f.get_kind_display()),
                "lat": f.lat,
                "lng": f.lng,
            }
            for f in facility_qs.order_by("code")[:FACILITY_POINTS]
            if f.lat is not None and f.lng is not None
        ]

    points = _case_points(user, code, area_code, place, requests) if requests else []
    hot_spots = _hot_spots(code, level, requests) if requests else []

    map_children = [
        f
        for f in (
            _feature(c["boundary"], code=c["code"], name=c["name"], url=c["url"]) for c in children
        )
        if f
    ]
    return {
        "code": code,
        "name": node.display_name,
        "level": level,
        "level_label": brain_label(level),
        "child_level": "compound"
        if children and children[0]["level"] == "compound"
        else (CHILD_LEVEL.get(level) if place is None else None),
        "today": today.isoformat(),
        "suppressed": presenter.suppress,
        "crumbs": crumbs,
        "children": [
            {k: c[k] for k in ("code", "name", "level", "url", "lat", "lng")} for c in children
        ],
        "sections": sections,
        "map": {
            "outline": _feature(node.boundary, code=code, name=node.display_name, url=None),
            "children": {"type": "FeatureCollection", "features": map_children},
            "center": [node.lat, node.lng] if node.lat is not None else None,
            "metrics": metrics,
            "facilities": facilities,
            "points": points,
            "hot_spots": hot_spots,
        },
    }


def indicator(data: dict, key: str) -> dict | None:
    for section in data["sections"]:
        for ind in section["indicators"]:
            if ind["key"] == key:
                return ind
    for metric in data["map"]["metrics"]:
        if metric["key"] == key:
            return {**metric, "chart": "map"}
    return None


def table(data: dict, ind: dict) -> tuple[list[str], list[list]]:
    """An indicator's numbers as a table (header, rows) for the CSV download."""
    chart = ind.get("chart")
    if ind.get("items") is not None:
        return [_("Code"), _("Name"), _("Value")], [
            [i["key"], i["name"], i["value"]] for i in ind["items"]
        ]
    if chart == "pyramid":
        return [_("Age"), ind["male_label"], ind["female_label"]], [
            [b, m, f] for b, m, f in zip(ind["bands"], ind["male"], ind["female"], strict=True)
        ]
    if ind.get("lines"):
        lines = ind["lines"]
        return [_("Day"), *(line["name"] for line in lines)], [
            [p[0], *(line["points"][i][1] for line in lines)]
            for i, p in enumerate(lines[0]["points"])
        ]
    if ind.get("points") is not None:
        return [_("Day"), _("Value")], [list(p) for p in ind["points"]]
    if ind.get("rows") is not None:
        return ind["columns"], ind["rows"]
    if chart == "map":
        names = {c["code"]: c["name"] for c in data["children"]}
        return [_("Code"), _("Name"), _("Value")], [
            [c, names.get(c, c), v] for c, v in ind["values"].items()
        ]
    return [_("Area"), _("Value")], [[data["code"], ind.get("value")]]


def _request_names() -> dict[str, dict[str, str]]:
    """Display names of categories (by code) and departments (by ``d<id>``): two small tables."""
    from shequ.cases.models import Category, Department

    return {
        "categories": {
            c.code: c.display_name for c in Category.objects.only("code", "name", "name_en")
        },
        "departments": {
            f"d{d.pk}": str(d) for d in Department.objects.only("pk", "name", "name_en")
        },
    }


def _case_points(user, code, area_code, place, view) -> list[dict]:
    """The newest open cases here the user may see (``Case.objects.for_user``), as points: at
    most ``POINTS``, with the category only (no reporter, no text)."""
    from shequ.cases.models import Case

    from .providers.requests import POINTS

    cases = Case.objects.for_user(user, "view").open().filter(lat__isnull=False, lng__isnull=False)
    if place is not None:
        cases = cases.filter(area_code=area_code, place__code__startswith=code)
    else:
        cases = cases.filter(area_code__startswith=code)
    rows = cases.order_by("-created_at").values_list(
        "number", "lat", "lng", "category__name", "category__name_en", "resolve_by", "state"
    )[:POINTS]
    from django.utils import timezone
    from django.utils.translation import get_language

    from shequ.cases.workflow import TIMED_STATES

    english = (get_language() or "").startswith("en")
    now = timezone.now()
    return [
        {
            "kind": "case",
            "name": number,
            "label": (name_en if english and name_en else name) or "",
            "lat": lat,
            "lng": lng,
            "overdue": bool(state in TIMED_STATES and by is not None and by < now),
        }
        for number, lat, lng, name, name_en, by, state in rows
    ]


HOT_SPOTS = 10


def _hot_spots(code, level, view) -> list[dict]:
    """The compounds here with the most open requests (from the rollups), as weighted points."""
    from django.db.models import Sum

    from .providers.requests import OPEN

    rows = Rollup.objects.filter(level="compound", key=OPEN, dim__in=view.dims)
    if level == Level.GRID:
        rows = rows.filter(
            area_code__in=Place.objects.filter(
                kind=PlaceKind.COMPOUND, area_code__startswith=code
            ).values("code")
        )
    elif level == "compound":
        rows = rows.filter(area_code=code)
    else:
        rows = rows.filter(area_code__startswith=code)
    top = list(
        rows.values("area_code")
        .annotate(n=Sum("value"))
        .filter(n__gt=0)
        .order_by("-n", "area_code")
        .values_list("area_code", "n")[:HOT_SPOTS]
    )
    if not top:
        return []
    places = {
        p.code: p
        for p in Place.objects.filter(code__in=[c for c, _n in top]).only(
            "code", "name", "name_en", "lat", "lng"
        )
    }
    return [
        {
            "kind": "hot_spot",
            "code": c,
            "name": places[c].display_name,
            "lat": places[c].lat,
            "lng": places[c].lng,
            "value": n,
            "url": dashboard_url(c, place=True),
        }
        for c, n in top
        if c in places and places[c].lat is not None
    ]


def _round_names() -> dict[int, dict]:
    """Each campaign round's label ("campaign · round 2") and order: one small query."""
    from shequ.campaigns.models import Round

    rows = Round.objects.order_by().values_list("pk", "number", "campaign_id", "campaign__name")
    return {
        pk: {
            "label": _("%(campaign)s · round %(n)s") % {"campaign": name, "n": number},
            "sort": (campaign, number),
        }
        for pk, number, campaign, name in rows
    }

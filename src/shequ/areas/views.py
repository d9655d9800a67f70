"""Pages of the governance tree and of places: browse down from a user's area to a dwelling.

Every list and fetch goes through ``for_user``; counts per child are a constant number of
GROUP BY queries on the code prefix (``Substr(area_code, 1, len(child_code))``), never one
query per child.
"""

from __future__ import annotations

from django.apps import apps
from django.db.models import Count, Q
from django.db.models.functions import Substr
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.generic import DetailView

from shequ.core.scoping import code_in_scope
from shequ.core.views import ScopedViewMixin

from .models import PLACE_CHILD, Area, Facility, Level, Place, PlaceKind

# Headings of the list of children, by the children's level or kind.
CHILDREN_HEADING = {
    Level.DISTRICT: _("Districts"),
    Level.STREET: _("Streets and towns"),
    Level.COMMUNITY: _("Communities and villages"),
    Level.GRID: _("Grids"),
    PlaceKind.BUILDING: _("Buildings"),
    PlaceKind.UNIT: _("Units"),
    PlaceKind.DWELLING: _("Dwellings"),
}

FACILITY_LIMIT = 100
COMPOUND_LIMIT = 200


def _people_models():
    # areas does not import people (dependencies point one way): look the models up by name.
    return apps.get_model("people", "Person"), apps.get_model("people", "Household")


def count_by_prefix(queryset, field: str, codes: list[str]) -> dict[str, int]:
    """{code: rows whose ``field`` starts with code}: one GROUP BY query per distinct length."""
    counts = dict.fromkeys(codes, 0)
    by_length: dict[int, list[str]] = {}
    for code in codes:
        by_length.setdefault(len(code), []).append(code)
    for length, group in by_length.items():
        rows = (
            queryset.annotate(code_prefix=Substr(field, 1, length))
            .filter(code_prefix__in=group)
            .order_by()
            .values("code_prefix")
            .annotate(n=Count("pk"))
            .values_list("code_prefix", "n")
        )
        counts.update(rows)
    return counts


def _prefixes(code: str) -> list[str]:
    return [code[:i] for i in range(1, len(code) + 1)]


def area_crumbs(user, code: str, *, link_last: bool = False) -> list[dict]:
    """The areas from the city down to ``code`` (one query); links only where in scope."""
    perm = Area.perm("view")
    crumbs = []
    ancestors = Area.objects.filter(code__in=_prefixes(code)).only("code", "name", "name_en")
    areas = sorted(ancestors, key=lambda a: len(a.code))
    for area in areas:
        is_last = area.code == code
        linked = code_in_scope(user, perm, area.code) and (link_last or not is_last)
        crumbs.append(
            {
                "name": area.display_name,
                "url": reverse("areas:area", args=[area.code]) if linked else None,
                "current": is_last and not link_last,
            }
        )
    return crumbs


def place_crumbs(user, place: Place, *, link_last: bool = False) -> list[dict]:
    """The area chain down to the place's area, then the place chain down to the place."""
    crumbs = area_crumbs(user, place.area_code, link_last=True)
    perm = Place.perm("view")
    places = Place.objects.filter(code__in=_prefixes(place.code)).only(
        "code", "name", "name_en", "area_code"
    )
    for item in sorted(places, key=lambda p: len(p.code)):
        is_last = item.code == place.code
        linked = code_in_scope(user, perm, item.area_code) and (link_last or not is_last)
        crumbs.append(
            {
                "name": item.display_name,
                "url": reverse("areas:place", args=[item.code]) if linked else None,
                "current": is_last and not link_last,
            }
        )
    return crumbs


def _feature(geometry, **properties) -> dict | None:
    if not geometry:
        return None
    if geometry.get("type") == "Feature":
        return {**geometry, "properties": {**(geometry.get("properties") or {}), **properties}}
    return {"type": "Feature", "geometry": geometry, "properties": properties}


class AreaView(ScopedViewMixin, DetailView):
    model = Area
    slug_field = "code"
    slug_url_kwarg = "code"
    template_name = "areas/area.html"
    context_object_name = "area"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, area = self.request.user, self.object
        Person, Household = _people_models()
        people_visible = Person.user_may(user, "view")
        places = Place.objects.for_user(user, "view").under(area.code)
        dwellings = places.filter(kind=PlaceKind.DWELLING)
        persons = Person.objects.for_user(user, "view").under(area.code)
        households = Household.objects.for_user(user, "view").under(area.code)

        children = list(Area.objects.for_user(user, "view").filter(parent=area).order_by("code"))
        codes = [child.code for child in children]
        n_dwellings = count_by_prefix(dwellings, "area_code", codes)
        n_persons = count_by_prefix(persons, "area_code", codes) if people_visible else {}
        n_households = count_by_prefix(households, "area_code", codes) if people_visible else {}
        rows = [
            {
                "area": child,
                "url": reverse("areas:area", args=[child.code]),
                "residents": n_persons.get(child.code),
                "households": n_households.get(child.code),
                "dwellings": n_dwellings.get(child.code, 0),
            }
            for child in children
        ]
        totals = {
            "dwellings": dwellings.count(),
            "residents": persons.count() if people_visible else None,
            "households": households.count() if people_visible else None,
        }

        facility_qs = Facility.objects.for_user(user, "view").under(area.code).order_by("code")
        facilities = list(facility_qs[:FACILITY_LIMIT])
        facility_count = len(facilities)
        if facility_count == FACILITY_LIMIT:
            facility_count = facility_qs.count()

        compounds = []
        if area.level in (Level.COMMUNITY, Level.GRID):
            compounds = list(
                places.filter(kind=PlaceKind.COMPOUND).order_by("code")[:COMPOUND_LIMIT]
            )
            ccodes = [c.code for c in compounds]
            c_dwellings = count_by_prefix(dwellings, "code", ccodes)
            c_persons = count_by_prefix(persons, "dwelling__code", ccodes) if people_visible else {}
            compounds = [
                {
                    "place": c,
                    "url": reverse("areas:place", args=[c.code]),
                    "dwellings": c_dwellings.get(c.code, 0),
                    "residents": c_persons.get(c.code),
                }
                for c in compounds
            ]

        context.update(
            may_export_tree=code_in_scope(user, Area.perm("export"), area.code),
            may_export_people=code_in_scope(user, Person.perm("export"), area.code),
            may_import=Area.user_may(user, "import"),
            crumbs=area_crumbs(user, area.code),
            rows=rows,
            children_heading=CHILDREN_HEADING.get(children[0].level) if children else None,
            totals=totals,
            people_visible=people_visible,
            facilities=facilities,
            facility_count=facility_count,
            compounds=compounds,
            map_data=self.map_data(area, rows, compounds, facilities),
        )
        return context

    @staticmethod
    def map_data(area, rows, compounds, facilities) -> dict | None:
        shapes = [
            _feature(row["area"].boundary, name=row["area"].display_name, url=row["url"])
            for row in rows
        ]
        shapes = [s for s in shapes if s]
        if not shapes and area.boundary:
            shapes = [_feature(area.boundary, name=area.display_name, url=None)]
        points = [
            {
                "name": c["place"].display_name,
                "url": c["url"],
                "lat": c["place"].lat,
                "lng": c["place"].lng,
                "kind": "compound",
            }
            for c in compounds
            if c["place"].lat is not None and c["place"].lng is not None
        ] + [
            {"name": f.display_name, "url": None, "lat": f.lat, "lng": f.lng, "kind": "facility"}
            for f in facilities
            if f.lat is not None and f.lng is not None
        ]
        if not shapes and not points:
            return None
        return {
            "outline": _feature(area.boundary, name=area.display_name, url=None),
            "areas": {"type": "FeatureCollection", "features": shapes},
            "points": points,
        }


class PlaceView(ScopedViewMixin, DetailView):
    model = Place
    slug_field = "code"
    slug_url_kwarg = "code"
    template_name = "areas/place.html"
    context_object_name = "place"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, place = self.request.user, self.object
        Person, Household = _people_models()
        people_visible = Person.user_may(user, "view")
        persons = Person.objects.for_user(user, "view")
        households = Household.objects.for_user(user, "view")

        children = list(Place.objects.for_user(user, "view").filter(parent=place).order_by("code"))
        codes = [child.code for child in children]
        rows = []
        if children:
            dwellings = Place.objects.for_user(user, "view").filter(
                kind=PlaceKind.DWELLING, code__startswith=place.code
            )
            under = {"dwelling__code__startswith": place.code}
            n_dwellings = count_by_prefix(dwellings, "code", codes)
            n_persons, n_households = {}, {}
            if people_visible:
                n_persons = count_by_prefix(persons.filter(**under), "dwelling__code", codes)
                n_households = count_by_prefix(households.filter(**under), "dwelling__code", codes)
            rows = [
                {
                    "place": child,
                    "url": reverse("areas:place", args=[child.code]),
                    "dwellings": n_dwellings.get(child.code, 0),
                    "residents": n_persons.get(child.code),
                    "households": n_households.get(child.code),
                }
                for child in children
            ]

        residents, dwelling_households = [], []
        if place.kind == PlaceKind.DWELLING and people_visible:
            living_here = Q(dwelling=place) | Q(
                residences__dwelling=place, residences__end__isnull=True
            )
            residents = list(
                persons.filter(living_here)
                .distinct()
                .select_related("household")
                .order_by("household_id", "relation", "id")
            )
            dwelling_households = list(
                households.filter(dwelling=place).annotate(n_members=Count("members"))
            )
            visible_households = {h.pk for h in dwelling_households} | set(
                households.filter(
                    pk__in={p.household_id for p in residents if p.household_id}
                ).values_list("pk", flat=True)
            )
            for person in residents:
                person.household_visible = person.household_id in visible_households

        child_kind = PLACE_CHILD.get(place.kind)
        context.update(
            crumbs=place_crumbs(user, place),
            rows=rows,
            children_heading=CHILDREN_HEADING.get(child_kind) if child_kind else None,
            people_visible=people_visible,
            residents=residents,
            households=dwelling_households,
            is_dwelling=place.kind == PlaceKind.DWELLING,
        )
        return context

"""Where a case belongs and who must act on it.

* ``locate(lat, lng)``: the deepest area whose boundary holds the point. Candidates are the
  areas whose bounding box (``AreaExtent``) holds it, from the boxes kept in the process
  (``reference.Extents``); the polygon test (ray casting) runs on those few only.
* ``parse_address(text)``: the compound (or area) whose name the address names.
* ``department_for(category, area_code)``: the routing matrix, most specific area prefix first,
  then the parent category's rules.

Boundaries and the matrix are reference data kept in the process (``reference.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.db.models import CharField, F, Value
from django.db.models.functions import Length

from shequ.areas.models import Area, Place, PlaceKind

from . import reference
from .models import AreaExtent, Category, Department


def point_in_ring(lng: float, lat: float, ring) -> bool:
    """Ray casting: count crossings of a ray going east from the point."""
    inside = False
    n = len(ring)
    j = n - 1
    for i in range(n):
        xi, yi = ring[i][0], ring[i][1]
        xj, yj = ring[j][0], ring[j][1]
        if (yi > lat) != (yj > lat):
            x_cross = (xj - xi) * (lat - yi) / (yj - yi) + xi
            if lng < x_cross:
                inside = not inside
        j = i
    return inside


def point_in_polygon(lng: float, lat: float, geometry: dict | None) -> bool:
    """A GeoJSON Polygon or MultiPolygon (holes respected) holds the point."""
    if not geometry:
        return False
    kind = geometry.get("type")
    coords = geometry.get("coordinates") or []
    polygons = [coords] if kind == "Polygon" else coords if kind == "MultiPolygon" else []
    for rings in polygons:
        if (
            rings
            and point_in_ring(lng, lat, rings[0])
            and not any(point_in_ring(lng, lat, hole) for hole in rings[1:])
        ):
            return True
    return False


def _bbox(geometry: dict):
    kind = geometry.get("type")
    coords = geometry.get("coordinates") or []
    polygons = [coords] if kind == "Polygon" else coords if kind == "MultiPolygon" else []
    xs = [p[0] for rings in polygons for ring in rings[:1] for p in ring]
    ys = [p[1] for rings in polygons for ring in rings[:1] for p in ring]
    if not xs:
        return None
    return min(xs), max(xs), min(ys), max(ys)


def update_extent(area: Area) -> None:
    box = _bbox(area.boundary) if area.boundary else None
    if box is None:
        AreaExtent.objects.filter(area_code=area.code).delete()
        return
    AreaExtent.objects.update_or_create(
        area_code=area.code,
        defaults=dict(
            depth=len(area.code), min_lng=box[0], max_lng=box[1], min_lat=box[2], max_lat=box[3]
        ),
    )


def refresh_extents() -> int:
    """Rebuild every area's bounding box (after a bulk import of boundaries)."""
    AreaExtent.objects.all().delete()
    rows = []
    for code, boundary in Area.objects.exclude(boundary=None).values_list("code", "boundary"):
        box = _bbox(boundary)
        if box:
            rows.append(
                AreaExtent(
                    area_code=code,
                    depth=len(code),
                    min_lng=box[0],
                    max_lng=box[1],
                    min_lat=box[2],
                    max_lat=box[3],
                )
            )
    AreaExtent.objects.bulk_create(rows, batch_size=2000)
    reference.extents.forget()  # bulk writes send no signal
    return len(rows)


_EXTENTS_READY = False


def locate(lat: float, lng: float) -> str | None:
    """The code of the deepest area whose boundary holds the point, or None."""
    global _EXTENTS_READY
    if not _EXTENTS_READY:
        if not AreaExtent.objects.exists() and Area.objects.exclude(boundary=None).exists():
            refresh_extents()
        _EXTENTS_READY = AreaExtent.objects.exists()
    candidates = reference.extents.get().holding(lat, lng)
    if not candidates:
        return None
    shapes = reference.boundaries(candidates)  # parsed once per process
    for code in candidates:
        if point_in_polygon(lng, lat, shapes.get(code)):
            return code
    return None


@dataclass
class AddressMatch:
    area_code: str
    place: Place | None
    name: str


def parse_address(text: str, within: str = "") -> AddressMatch | None:
    """The compound whose name appears in the address (longest name wins), else the deepest
    area whose name appears. ``within`` narrows to an area code prefix."""
    text = (text or "").strip()
    if len(text) < 2:
        return None
    places = Place.objects.filter(kind=PlaceKind.COMPOUND)
    areas = Area.objects.all()
    if within:
        places = places.filter(area_code__startswith=within)
        areas = areas.filter(code__startswith=within)

    # The address contains the name: ``'<address>' LIKE '%' || name || '%'`` in SQL.
    def named_in(qs):
        return (
            qs.alias(_addr=Value(text, output_field=CharField()), _len=Length("name"))
            .filter(_len__gte=2, _addr__contains=F("name"))
            .annotate(_n=Length("name"))
        )

    place = named_in(places).order_by("-_n", "code").first()
    if place is not None:
        return AddressMatch(place.area_code, place, place.name)
    area = named_in(areas).order_by("-_n", "-level", "code").first()
    if area is not None:
        return AddressMatch(area.code, None, area.name)
    return None


def department_for(category: Category | None, area_code: str) -> tuple[Department | None, bool]:
    """(department, auto_dispatch) from the matrix: the category's own rules, then its
    parent's; among them the longest area prefix of ``area_code`` (the matrix is read once
    per process, ``reference.py``)."""
    if category is None:
        return None, False
    ref = reference.reference.get()
    if category.pk not in ref.by_pk:  # created since (in another process): read again
        reference.reference.forget()
        ref = reference.reference.get()
    return ref.department_for(category, area_code)


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    r = 6_371_000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))

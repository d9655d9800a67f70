"""Same incident and hot spots.

A new request is offered as the same incident as an OPEN case when it lies within
``RADIUS_M`` metres, came in within ``WINDOW`` of it and their texts look alike (Jaccard of
character bigrams ≥ ``MIN_TEXT``; the same category lowers the bar to ``MIN_TEXT_SAME_CAT``).
Candidates come from one indexed query (state, time, a bounding box around the point).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass

from django.db.models import Count, Max
from django.utils import timezone

from .models import Case
from .routing import distance_m
from .workflow import OPEN_STATES

RADIUS_M = 200
WINDOW = dt.timedelta(hours=72)
MIN_TEXT = 0.25
MIN_TEXT_SAME_CAT = 0.12
_STRIP = re.compile(r"[\s\W_]+", re.UNICODE)


def bigrams(text: str) -> set[str]:
    t = _STRIP.sub("", (text or "").lower())
    if len(t) < 2:
        return {t} if t else set()
    return {t[i : i + 2] for i in range(len(t) - 1)}


def jaccard(a: str, b: str) -> float:
    x, y = bigrams(a), bigrams(b)
    if not x or not y:
        return 0.0
    return len(x & y) / len(x | y)


@dataclass
class Match:
    case: Case
    distance_m: float | None
    text_score: float

    @property
    def score(self) -> float:
        near = 1.0 if self.distance_m is None else max(0.0, 1 - self.distance_m / RADIUS_M)
        return round(0.6 * self.text_score + 0.4 * near, 3)


def similar_open_cases(case: Case, limit: int = 5) -> list[Match]:
    """Open cases that look like the same incident as ``case`` (best first)."""
    qs = Case.objects.filter(
        state__in=OPEN_STATES,
        master__isnull=True,
        created_at__gte=case.created_at - WINDOW,
        created_at__lte=case.created_at + WINDOW,
    ).exclude(pk=case.pk)
    if case.lat is not None and case.lng is not None:
        dlat = RADIUS_M / 111_320
        dlng = RADIUS_M / (111_320 * max(0.1, math.cos(math.radians(case.lat))))
        qs = qs.filter(
            lat__gte=case.lat - dlat,
            lat__lte=case.lat + dlat,
            lng__gte=case.lng - dlng,
            lng__lte=case.lng + dlng,
        )
    elif case.place_id:
        qs = qs.filter(place_id=case.place_id)
    else:
        qs = qs.filter(area_code=case.area_code, address=case.address).exclude(address="")
    found = []
    for other in qs.select_related("category")[:200]:
        dist = None
        if None not in (case.lat, case.lng, other.lat, other.lng):
            dist = distance_m(case.lat, case.lng, other.lat, other.lng)
            if dist > RADIUS_M:
                continue
        score = jaccard(f"{case.title}{case.text}", f"{other.title}{other.text}")
        bar = (
            MIN_TEXT_SAME_CAT
            if case.category_id and case.category_id == other.category_id
            else MIN_TEXT
        )
        if score >= bar:
            found.append(Match(other, dist, score))
    found.sort(key=lambda m: -m.score)
    return found[:limit]


def hot_spots(queryset, *, days: int = 7, min_count: int = 5, now=None, limit: int = 20):
    """Places and topics with many requests in the last ``days``: groups by (grid, category)
    and by compound/place, most requests first."""
    now = now or timezone.now()
    recent = queryset.filter(created_at__gte=now - dt.timedelta(days=days))
    by_topic = list(
        recent.exclude(category=None)
        .values("area_code", "category__code", "category__name", "category__name_en")
        .annotate(n=Count("id"), last=Max("created_at"))
        .filter(n__gte=min_count)
        .order_by("-n", "area_code")[:limit]
    )
    by_place = list(
        recent.exclude(place=None)
        .values("place__code", "place__name", "area_code")
        .annotate(n=Count("id"), last=Max("created_at"))
        .filter(n__gte=min_count)
        .order_by("-n", "place__code")[:limit]
    )
    return {"topics": by_topic, "places": by_place}

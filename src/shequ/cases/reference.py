"""Reference data an intake reads every time, kept in the process: the categories, departments
and routing matrix (``Reference``), the areas' bounding boxes (``Extents``) and the parsed area
boundaries (``boundary``).

An intake used to read them with four or five queries and parse the boundaries' GeoJSON each
time; they change a few times a year. Each process keeps them for ``TTL`` seconds; a change
saved in this process (admin, import) drops them at once (signals connected in ``apps.py``),
a change made in another process is seen within ``TTL``.

A value loaded inside a transaction is trusted only by that transaction until it commits:
rows a rolled-back transaction wrote (a test, a failed import) never outlive it in the cache.
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict
from collections.abc import Callable

from django.db import connection, transaction

TTL = 60.0
MAX_BOUNDARIES = 5000


class ProcessCache:
    """One value per process, from ``load()``, kept ``ttl`` seconds (see the module)."""

    def __init__(self, load: Callable[[], object], ttl: float = TTL):
        self._load, self.ttl = load, ttl
        # (value, loaded at, the on-commit callback that confirms it or None): one tuple, so
        # that threads never see half an update.
        self._state: tuple | None = None
        self._lock = threading.Lock()

    def get(self):
        state = self._state
        if state is not None and self._fresh(state):
            return state[0]
        with self._lock:
            state = self._state
            if state is not None and self._fresh(state):
                return state[0]
            value = self._load()
            pending = None
            if connection.in_atomic_block:

                def pending():
                    now = self._state
                    if now is not None and now[2] is pending:
                        self._state = (now[0], now[1], None)

                transaction.on_commit(pending)
            self._state = (value, time.monotonic(), pending)
            return value

    def _fresh(self, state) -> bool:
        _value, loaded_at, pending = state
        if time.monotonic() - loaded_at > self.ttl:
            return False
        if pending is None:
            return True
        # Loaded by a transaction not committed yet: only that transaction may use it.
        return connection.in_atomic_block and any(
            item[1] is pending for item in connection.run_on_commit
        )

    def forget(self, **_kwargs) -> None:
        self._state = None


class Reference:
    """Categories, departments and the routing matrix as they were when loaded."""

    def __init__(self):
        from .models import Category, Department, RoutingRule

        categories = list(Category.objects.all())
        self.by_pk = {c.pk: c for c in categories}
        for category in categories:  # parents from the same load: no query per step up
            if category.parent_id is not None:
                category.parent = self.by_pk[category.parent_id]
        self.by_code = {c.code: c for c in categories}
        self.with_keywords = [c for c in categories if c.active and c.keywords.strip()]
        self.departments = departments = {d.pk: d for d in Department.objects.all()}
        self.rules: dict[int, list[tuple[str, object, bool]]] = defaultdict(list)
        for rule in RoutingRule.objects.all():
            self.rules[rule.category_id].append(
                (rule.area_prefix, departments[rule.department_id], rule.auto_dispatch)
            )

    def active(self, code: str):
        category = self.by_code.get(code)
        return category if category is not None and category.active else None

    def department_for(self, category, area_code: str):
        """(department, auto_dispatch): the category's rules, then its parent's; among them
        the longest area prefix of ``area_code``."""
        node = category and self.by_pk.get(category.pk)
        while node is not None:
            rules = [r for r in self.rules.get(node.pk, ()) if area_code.startswith(r[0])]
            if rules:
                _prefix, department, auto = max(rules, key=lambda r: len(r[0]))
                return department, auto
            node = node.parent
        return None, False


class Extents:
    """Every area's bounding box (``AreaExtent``), filed under the cells of a grid of ``CELL``
    degrees it overlaps: the boxes holding a point are among those of the point's cell. A box
    spanning more than ``MAX_CELLS`` cells (a whole city) is checked for every point instead.
    A city's ~40,000 areas take a few MB and ~0.1 s to load."""

    CELL = 0.01  # ~1 km: a grid's box overlaps a few cells, a district's a few thousand
    MAX_CELLS = 4096

    def __init__(self):
        from .models import AreaExtent

        self.cells: dict[tuple[int, int], list[tuple]] = defaultdict(list)
        self.everywhere: list[tuple] = []
        rows = AreaExtent.objects.values_list(
            "area_code", "depth", "min_lng", "max_lng", "min_lat", "max_lat"
        )
        for row in rows:
            x0, x1 = self._cell(row[2]), self._cell(row[3])
            y0, y1 = self._cell(row[4]), self._cell(row[5])
            if (x1 - x0 + 1) * (y1 - y0 + 1) > self.MAX_CELLS:
                self.everywhere.append(row)
                continue
            for x in range(x0, x1 + 1):
                for y in range(y0, y1 + 1):
                    self.cells[(x, y)].append(row)

    @classmethod
    def _cell(cls, degrees: float) -> int:
        return math.floor(degrees / cls.CELL)

    def holding(self, lat: float, lng: float, limit: int = 50) -> list[str]:
        """The codes of the areas whose box holds the point, deepest first (then by code), at
        most ``limit``."""
        near = self.cells.get((self._cell(lng), self._cell(lat)), [])
        found = [
            row
            for row in (*near, *self.everywhere)
            if row[2] <= lng <= row[3] and row[4] <= lat <= row[5]
        ]
        found.sort(key=lambda row: (-row[1], row[0]))
        return [row[0] for row in found[:limit]]


reference = ProcessCache(Reference)
extents = ProcessCache(Extents)
_boundaries = ProcessCache(dict)


def boundaries(codes: list[str]) -> dict:
    """{code: GeoJSON geometry or None} of the given areas, parsed once per process."""
    from shequ.areas.models import Area

    cache = _boundaries.get()
    result, missing = {}, []
    for code in codes:
        try:
            result[code] = cache[code]
        except KeyError:
            missing.append(code)
    if missing:
        found = dict(Area.objects.filter(code__in=missing).values_list("code", "boundary"))
        if len(cache) + len(missing) > MAX_BOUNDARIES:
            cache.clear()
        for code in missing:
            result[code] = cache[code] = found.get(code)
    return result


def forget(**_kwargs) -> None:
    """Drop everything (a category, department, rule or area changed in this process)."""
    reference.forget()
    extents.forget()
    _boundaries.forget()

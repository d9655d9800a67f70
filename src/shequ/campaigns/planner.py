"""Territory planning: split a community's dwellings among its teams.

Pure functions on plain data (no database), so that communities are planned in parallel
worker processes and the bench runs the very code the service runs.

1. *Order.* Compounds are ordered along a Hilbert space-filling curve through their centres;
   the buildings of a compound along the same curve; the dwellings of a building by unit and
   floor. Neighbours on the curve are neighbours on the ground.
2. *Atoms.* Whole buildings are the units of work. A building heavier than ``ATOM_SHARE`` of a
   team's share (a 30-storey tower) is cut into its units, and a unit still too heavy into runs
   of floors: no atom is heavier than 8 % of a team's share, which makes ±10 % reachable.
3. *Balanced cut.* The ordered atoms are cut into one run per team. Cut *i* is placed near
   ``i × total / teams`` (so errors do not add up); among the boundaries within ±4 % of that
   point the coarsest is taken — between compounds, else between buildings, else inside one.
   A team's territory is one run of the curve: contiguous, and at most ``teams - 1``
   compounds (and buildings) are shared by two teams.
4. *Route.* Each team's buildings are ordered by nearest neighbour from the start of its run,
   then improved by 2-opt; walking distance is the length of that path (metres, straight).

Workload is households, a dwelling with nobody registered counting as one (it is visited too).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

ATOM_SHARE = 0.08  # no atom heavier than this share of a team's workload
CUT_WINDOW = 0.04  # look this far (share of a team's workload) around a cut for a coarser one
HILBERT_ORDER = 16


@dataclass(frozen=True)
class Dwelling:
    id: int
    building: int
    compound: int
    unit: str
    floor: int
    load: int  # households (at least 1)
    x: float  # metres east of the community's origin (of the building)
    y: float  # metres north


@dataclass
class Territory:
    dwellings: list[int] = field(default_factory=list)  # in walking order
    route: list[int] = field(default_factory=list)  # building ids in walking order
    load: int = 0
    distance: float = 0.0


def project(lat: float, lng: float, lat0: float, lng0: float) -> tuple[float, float]:
    """WGS84 to metres on a local plane (equirectangular; fine within a street)."""
    x = (lng - lng0) * 111_320.0 * math.cos(math.radians(lat0))
    y = (lat - lat0) * 110_540.0
    return x, y


def hilbert_index(x: int, y: int, order: int = HILBERT_ORDER) -> int:
    n = 1 << order
    d = 0
    s = n >> 1
    while s > 0:
        rx = 1 if x & s else 0
        ry = 1 if y & s else 0
        d += s * s * ((3 * rx) ^ ry)
        if ry == 0:
            if rx == 1:
                x, y = s - 1 - x, s - 1 - y
            x, y = y, x
        s >>= 1
    return d


def _curve_keys(points: dict[int, tuple[float, float]]) -> dict[int, int]:
    if not points:
        return {}
    xs = [p[0] for p in points.values()]
    ys = [p[1] for p in points.values()]
    x0, y0 = min(xs), min(ys)
    span = max(max(xs) - x0, max(ys) - y0, 1e-9)
    top = (1 << HILBERT_ORDER) - 1
    return {
        key: hilbert_index(int((x - x0) / span * top), int((y - y0) / span * top))
        for key, (x, y) in points.items()
    }


def _centres(dwellings: Sequence[Dwelling], key) -> dict[int, tuple[float, float]]:
    acc: dict[int, list[float]] = {}
    for d in dwellings:
        a = acc.setdefault(key(d), [0.0, 0.0, 0])
        a[0] += d.x
        a[1] += d.y
        a[2] += 1
    return {k: (a[0] / a[2], a[1] / a[2]) for k, a in acc.items()}


def order_dwellings(dwellings: Sequence[Dwelling]) -> list[Dwelling]:
    """Compounds along the curve, their buildings along the curve, units and floors in order."""
    compound_key = _curve_keys(_centres(dwellings, lambda d: d.compound))
    building_key = _curve_keys(_centres(dwellings, lambda d: d.building))
    return sorted(
        dwellings,
        key=lambda d: (
            compound_key[d.compound],
            d.compound,
            building_key[d.building],
            d.building,
            d.unit,
            d.floor,
            d.id,
        ),
    )


# Boundary ranks: a cut between compounds is best, then between buildings, units, floors.
COMPOUND, BUILDING, UNIT, INSIDE = 3, 2, 1, 0


def atoms_of(ordered: Sequence[Dwelling], limit: float) -> list[tuple[int, int, int, int]]:
    """Runs ``(start, end, load, rank of the boundary before start)`` of the ordered dwellings:
    whole buildings, or units, or floor runs of a building heavier than ``limit``."""
    atoms = []
    i, n = 0, len(ordered)
    while i < n:
        j = i
        building = ordered[i].building
        load = 0
        while j < n and ordered[j].building == building:
            load += ordered[j].load
            j += 1
        rank = COMPOUND if i == 0 or ordered[i - 1].compound != ordered[i].compound else BUILDING
        if load <= limit:
            atoms.append((i, j, load, rank))
        else:
            k = i
            while k < j:  # cut into units, and units into floor runs
                start, run = k, 0
                first = rank if k == i else UNIT
                while k < j:
                    same_unit = ordered[k].unit == ordered[start].unit
                    if not same_unit or (run + ordered[k].load > limit and run > 0):
                        break
                    run += ordered[k].load
                    k += 1
                if k == start:  # pragma: no cover - defensive; each step takes a dwelling
                    k += 1
                atoms.append((start, k, run, first if start == i else _rank(ordered, start)))
        i = j
    return atoms


def _rank(ordered, k: int) -> int:
    return UNIT if ordered[k].unit != ordered[k - 1].unit else INSIDE


def balanced_cuts(atoms, teams: int) -> list[int]:
    """Indices into ``atoms`` where each team after the first starts."""
    total = sum(a[2] for a in atoms)
    share = total / teams
    prefix = [0]
    for a in atoms:
        prefix.append(prefix[-1] + a[2])
    cuts: list[int] = []
    lo = 1
    for t in range(1, teams):
        target = t * share
        hi = len(atoms) - (teams - t)  # leave at least one atom for each later team
        best, best_key = None, None
        for idx in range(lo, hi + 1):
            err = abs(prefix[idx] - target)
            near = err <= CUT_WINDOW * share
            key = (0 if near else 1, -atoms[idx][3] if near else 0, err)
            if best_key is None or key < best_key:
                best, best_key = idx, key
            if prefix[idx] > target + share:
                break
        cuts.append(best)
        lo = best + 1
    return cuts


def dist(a: tuple[float, float], b: tuple[float, float]) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1])


def path_length(points: Sequence[tuple[float, float]]) -> float:
    return sum(dist(points[i], points[i + 1]) for i in range(len(points) - 1))


def route(points: dict[int, tuple[float, float]], start: int) -> list[int]:
    """An open path through ``points`` from ``start``: nearest neighbour, then 2-opt."""
    if len(points) <= 2:
        return [start, *[k for k in points if k != start]]
    left = set(points) - {start}
    order = [start]
    while left:
        here = points[order[-1]]
        nxt = min(left, key=lambda k: (dist(here, points[k]), k))
        order.append(nxt)
        left.remove(nxt)
    pts = [points[k] for k in order]
    n = len(order)
    improved = True
    passes = 0
    while improved and passes < 50:
        improved = False
        passes += 1
        for i in range(1, n - 1):
            a, b = pts[i - 1], pts[i]
            for j in range(i + 1, n):
                c = pts[j]
                d = pts[j + 1] if j + 1 < n else None
                before = dist(a, b) + (dist(c, d) if d else 0.0)
                after = dist(a, c) + (dist(b, d) if d else 0.0)
                if after < before - 1e-9:
                    pts[i : j + 1] = pts[i : j + 1][::-1]
                    order[i : j + 1] = order[i : j + 1][::-1]
                    b = pts[i]
                    improved = True
    return order


def building_points(dwellings: Sequence[Dwelling]) -> dict[int, tuple[float, float]]:
    return {d.building: (d.x, d.y) for d in dwellings}


def territory(dwellings: Sequence[Dwelling], start_building: int | None = None) -> Territory:
    """The route and figures of one team's dwellings (in the given order)."""
    points = building_points(dwellings)
    if not dwellings:
        return Territory()
    first = start_building if start_building in points else dwellings[0].building
    order = route(points, first)
    rank = {b: i for i, b in enumerate(order)}
    within = {d.id: i for i, d in enumerate(dwellings)}
    walk = sorted(dwellings, key=lambda d: (rank[d.building], d.unit, d.floor, within[d.id]))
    return Territory(
        dwellings=[d.id for d in walk],
        route=order,
        load=sum(d.load for d in dwellings),
        distance=path_length([points[b] for b in order]),
    )


def plan(dwellings: Sequence[Dwelling], teams: int) -> list[Territory]:
    """Split one community's dwellings into ``teams`` territories (see the module's doc)."""
    if teams < 1:
        raise ValueError("teams must be at least 1")
    if not dwellings:
        return [Territory() for _ in range(teams)]
    ordered = order_dwellings(dwellings)
    total = sum(d.load for d in ordered)
    atoms = atoms_of(ordered, max(1.0, ATOM_SHARE * total / teams))
    teams_used = min(teams, len(atoms))
    cuts = [0, *balanced_cuts(atoms, teams_used), len(atoms)]
    result = []
    for t in range(teams_used):
        first, last = atoms[cuts[t]], atoms[cuts[t + 1] - 1]
        run = ordered[first[0] : last[1]]
        result.append(territory(run))
    result += [Territory() for _ in range(teams - teams_used)]
    return result


def plan_many(jobs: list[tuple[str, list[Dwelling], int]], processes: int = 2) -> dict:
    """Plan several communities, in parallel worker processes when there is enough work."""
    size = sum(len(d) for _key, d, _t in jobs)
    if processes > 1 and len(jobs) > 1 and size >= 4000:
        import multiprocessing

        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(processes) as pool:
            results = pool.starmap(plan, [(d, t) for _key, d, t in jobs])
    else:
        results = [plan(d, t) for _key, d, t in jobs]
    return {key: r for (key, _d, _t), r in zip(jobs, results, strict=True)}


def round_robin(dwellings: Sequence[Dwelling], teams: int) -> list[Territory]:
    """The plain baseline: buildings in code (id) order dealt to teams in turn; each team walks
    its buildings in that order."""
    by_building: dict[int, list[Dwelling]] = {}
    for d in sorted(dwellings, key=lambda d: (d.building, d.unit, d.floor, d.id)):
        by_building.setdefault(d.building, []).append(d)
    parts: list[list[Dwelling]] = [[] for _ in range(teams)]
    for i, b in enumerate(sorted(by_building)):
        parts[i % teams].extend(by_building[b])
    result = []
    for part in parts:
        points = building_points(part)
        order = list(dict.fromkeys(d.building for d in part))
        result.append(
            Territory(
                dwellings=[d.id for d in part],
                route=order,
                load=sum(d.load for d in part),
                distance=path_length([points[b] for b in order]),
            )
        )
    return result


def imbalance(territories: Sequence[Territory]) -> float:
    """Largest deviation of a team's workload from the mean, as a share of the mean."""
    loads = [t.load for t in territories]
    mean = sum(loads) / len(loads)
    return max(abs(x - mean) for x in loads) / mean if mean else 0.0

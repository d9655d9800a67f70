"""Plane geometry for the demo map: convex polygons, Voronoi tiling by half-plane clipping.

Polygons are lists of ``(lng, lat)`` vertices in WGS84, counter-clockwise, not closed. Distances
are measured in a locally scaled plane (longitude shrunk by cos(latitude)) so that cells look
right on a map around Chengdu. Every child cell is its parent clipped by half-planes, so the
children tile the parent and a choropleth has no gaps or overlaps.
"""

from __future__ import annotations

import math
import random

Point = tuple[float, float]
Polygon = list[Point]

DIGITS = 6
# Longitude degrees are shorter than latitude degrees at Chengdu's latitude (~30.7°N).
KX = math.cos(math.radians(30.7))


def rounded(poly: Polygon) -> Polygon:
    out: Polygon = []
    for lng, lat in poly:
        p = (round(lng, DIGITS), round(lat, DIGITS))
        if not out or p != out[-1]:
            out.append(p)
    if len(out) > 1 and out[0] == out[-1]:
        out.pop()
    return out


def signed_area(poly: Polygon) -> float:
    s = 0.0
    n = len(poly)
    for i in range(n):
        x1, y1 = poly[i]
        x2, y2 = poly[(i + 1) % n]
        s += x1 * y2 - x2 * y1
    return s / 2


def centroid(poly: Polygon) -> Point:
    """Area centroid (falls back to the vertex mean for degenerate polygons)."""
    a = signed_area(poly)
    if abs(a) < 1e-14:
        n = len(poly)
        return (sum(p[0] for p in poly) / n, sum(p[1] for p in poly) / n)
    cx = cy = 0.0
    n = len(poly)
    for i in range(n):
        x1, y1 = poly[i]
        x2, y2 = poly[(i + 1) % n]
        f = x1 * y2 - x2 * y1
        cx += (x1 + x2) * f
        cy += (y1 + y2) * f
    return (cx / (6 * a), cy / (6 * a))


def convex_hull(points: list[Point]) -> Polygon:
    """Andrew's monotone chain; counter-clockwise."""
    pts = sorted(set(points))
    if len(pts) <= 2:
        return pts

    def cross(o: Point, a: Point, b: Point) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: Polygon = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: Polygon = []
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


def clip(poly: Polygon, a: float, b: float, c: float) -> Polygon:
    """Sutherland–Hodgman against one half-plane: keep the part where a*x + b*y <= c."""
    out: Polygon = []
    n = len(poly)
    if n == 0:
        return out
    prev = poly[-1]
    prev_in = a * prev[0] + b * prev[1] <= c
    for cur in poly:
        cur_in = a * cur[0] + b * cur[1] <= c
        if cur_in != prev_in:
            d1 = a * prev[0] + b * prev[1] - c
            d2 = a * cur[0] + b * cur[1] - c
            t = d1 / (d1 - d2)
            out.append((prev[0] + t * (cur[0] - prev[0]), prev[1] + t * (cur[1] - prev[1])))
        if cur_in:
            out.append(cur)
        prev, prev_in = cur, cur_in
    return out


def _to_plane(poly: Polygon) -> Polygon:
    return [(x * KX, y) for x, y in poly]


def _from_plane(poly: Polygon) -> Polygon:
    return [(x / KX, y) for x, y in poly]


def _cells_plane(parent: Polygon, seeds: list[Point]) -> list[Polygon]:
    cells = []
    for i, (xi, yi) in enumerate(seeds):
        cell = parent
        for j, (xj, yj) in enumerate(seeds):
            if i == j:
                continue
            # points at least as close to seed i as to seed j
            a, b = xj - xi, yj - yi
            c = (xj * xj + yj * yj - xi * xi - yi * yi) / 2
            cell = clip(cell, a, b, c)
            if not cell:
                break
        cells.append(cell)
    return cells


def voronoi(parent: Polygon, seeds: list[Point], relax: int = 0) -> tuple[list[Point], list]:
    """Voronoi cells of ``seeds`` clipped to the convex ``parent``; ``relax`` Lloyd steps move
    each seed to its cell's centroid first (more even cells). Returns (seeds, rounded cells)."""
    plane_parent = _to_plane(parent)
    plane_seeds = [(x * KX, y) for x, y in seeds]
    if len(plane_seeds) == 1:
        return list(seeds), [rounded(parent)]
    for _ in range(relax):
        cells = _cells_plane(plane_parent, plane_seeds)
        plane_seeds = [
            centroid(c) if len(c) >= 3 else s for c, s in zip(cells, plane_seeds, strict=True)
        ]
    cells = _cells_plane(plane_parent, plane_seeds)
    return [(x / KX, y) for x, y in plane_seeds], [rounded(_from_plane(c)) for c in cells]


def shrink(poly: Polygon, factor: float) -> Polygon:
    """Scale towards the centroid: the result lies inside a convex ``poly``."""
    cx, cy = centroid(poly)
    return [(cx + (x - cx) * factor, cy + (y - cy) * factor) for x, y in poly]


def random_point(poly: Polygon, rng: random.Random) -> Point:
    """A uniformly random point in a convex polygon (fan triangulation; fixed rng use)."""
    x0, y0 = poly[0]
    tris = []
    total = 0.0
    for i in range(1, len(poly) - 1):
        (x1, y1), (x2, y2) = poly[i], poly[i + 1]
        area = abs((x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0)) / 2
        total += area
        tris.append((total, x1, y1, x2, y2))
    pick = rng.random() * total
    r1, r2 = rng.random(), rng.random()
    if total <= 0:
        return centroid(poly)
    chosen = next((t for t in tris if pick <= t[0]), tris[-1])
    _, x1, y1, x2, y2 = chosen
    s = math.sqrt(r1)
    u, v = 1 - s, s * (1 - r2)
    w = s * r2
    return (u * x0 + v * x1 + w * x2, u * y0 + v * y1 + w * y2)


def random_points(poly: Polygon, n: int, rng: random.Random) -> list[Point]:
    return [random_point(poly, rng) for _ in range(n)]


def contains(poly: Polygon, point: Point) -> bool:
    """Ray casting; True for interior points."""
    x, y = point
    inside = False
    n = len(poly)
    j = n - 1
    for i in range(n):
        xi, yi = poly[i]
        xj, yj = poly[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def geojson(poly: Polygon) -> dict:
    """A closed GeoJSON Polygon, exterior ring counter-clockwise (RFC 7946)."""
    ring = [[lng, lat] for lng, lat in poly]
    if signed_area(poly) < 0:
        ring.reverse()
    ring.append(list(ring[0]))
    return {"type": "Polygon", "coordinates": [ring]}


def ring_of(geometry: dict) -> Polygon:
    """The exterior ring of a GeoJSON Polygon as a polygon (closing vertex dropped)."""
    ring = geometry["coordinates"][0]
    return [(float(p[0]), float(p[1])) for p in ring[:-1]]


def point(lng: float, lat: float) -> Point:
    return (round(lng, DIGITS), round(lat, DIGITS))

import random

import pytest

from shequ.demo import geometry as geo

SQUARE = [(104.0, 30.0), (104.1, 30.0), (104.1, 30.1), (104.0, 30.1)]


def test_clip_keeps_the_half_plane():
    # keep x <= 104.05
    half = geo.clip(SQUARE, 1, 0, 104.05)
    assert abs(geo.signed_area(half)) == pytest.approx(abs(geo.signed_area(SQUARE)) / 2)
    assert max(x for x, _ in half) == pytest.approx(104.05)


def test_voronoi_cells_tile_the_parent():
    rng = random.Random(3)
    seeds = geo.random_points(SQUARE, 7, rng)
    _, cells = geo.voronoi(SQUARE, seeds, relax=2)
    assert len(cells) == 7
    total = sum(abs(geo.signed_area(c)) for c in cells)
    assert total == pytest.approx(abs(geo.signed_area(SQUARE)), rel=1e-4)
    for cell in cells:
        assert geo.contains(SQUARE, geo.centroid(cell))


def test_random_points_fall_inside_a_convex_polygon():
    rng = random.Random(5)
    triangle = [(104.0, 30.0), (104.2, 30.05), (104.05, 30.3)]
    assert all(geo.contains(triangle, p) for p in geo.random_points(triangle, 500, rng))


def test_geojson_ring_is_closed_and_counter_clockwise():
    g = geo.geojson(list(reversed(SQUARE)))
    ring = g["coordinates"][0]
    assert g["type"] == "Polygon" and ring[0] == ring[-1] and len(ring) == 5
    assert geo.signed_area(geo.ring_of(g)) > 0


def test_convex_hull_drops_inner_points():
    hull = geo.convex_hull([*SQUARE, (104.05, 30.05)])
    assert sorted(hull) == sorted(SQUARE)

"""Locating a point (ray casting over bbox candidates) and the routing matrix."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shequ.cases import routing
from shequ.cases.models import AreaExtent, RoutingRule

SQUARE_WITH_HOLE = {
    "type": "Polygon",
    "coordinates": [
        [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]],
        [[4, 4], [6, 4], [6, 6], [4, 6], [4, 4]],
    ],
}
CONCAVE = {"type": "Polygon", "coordinates": [[[0, 0], [10, 0], [10, 10], [5, 3], [0, 10], [0, 0]]]}


@pytest.mark.parametrize(
    ("lng", "lat", "inside"),
    [(1, 1, True), (5, 5, False), (11, 5, False), (9.9, 9.9, True), (-1, -1, False)],
)
def test_point_in_polygon_with_hole(lng, lat, inside):
    assert routing.point_in_polygon(lng, lat, SQUARE_WITH_HOLE) is inside


def test_concave_polygon_and_multipolygon():
    assert routing.point_in_polygon(5, 1, CONCAVE)
    assert not routing.point_in_polygon(5, 8, CONCAVE)  # in the notch
    multi = {
        "type": "MultiPolygon",
        "coordinates": [CONCAVE["coordinates"], [[[20, 20], [21, 20], [21, 21], [20, 20]]]],
    }
    assert routing.point_in_polygon(20.9, 20.5, multi)
    assert not routing.point_in_polygon(15, 15, multi)
    assert not routing.point_in_polygon(1, 1, None)


@pytest.mark.django_db
def test_locate_gives_the_deepest_area_with_few_queries(city):
    grid = city["grids"][0]
    assert (
        AreaExtent.objects.count()
        == len(
            [a for a in [city["city"], *city["districts"], *city["communities"], *city["grids"]]]
        )
        + 2
    )  # + the two streets
    from shequ.cases import reference

    reference.forget()
    with CaptureQueriesContext(connection) as queries:
        assert routing.locate(grid.lat, grid.lng) == grid.code
    # Cold: the boxes and the candidates' boundaries loaded (the table checked once).
    assert len(queries) <= 4
    assert routing.locate(0.0, 0.0) is None
    # Inside the district but outside every street: the district.
    district = city["districts"][0]
    assert routing.locate(district.lat + 0.08, district.lng + 0.08) == district.code


@pytest.mark.django_db
def test_locate_reads_no_table_once_warm_and_sees_a_moved_boundary_at_once(city):
    """The boxes are kept in the process; an area saved here drops them (other processes see
    it within ``reference.TTL``)."""
    grid = city["grids"][0]
    assert routing.locate(grid.lat, grid.lng) == grid.code
    with CaptureQueriesContext(connection) as queries:
        assert routing.locate(grid.lat, grid.lng) == grid.code
    assert len(queries) == 0
    far = {"type": "Polygon", "coordinates": [[[120, 40], [121, 40], [121, 41], [120, 41],
                                                [120, 40]]]}  # fmt: skip
    grid.boundary = far
    grid.save()
    assert routing.locate(40.5, 120.5) == grid.code
    assert routing.locate(grid.lat, grid.lng) != grid.code


@pytest.mark.django_db
def test_extents_find_every_box_holding_a_point_deepest_first():
    from shequ.cases.reference import Extents

    def box(code, lng0, lng1, lat0, lat1):
        AreaExtent.objects.create(area_code=code, depth=len(code), min_lng=lng0, max_lng=lng1,
                                  min_lat=lat0, max_lat=lat1)  # fmt: skip

    box("51", 90.0, 110.0, 20.0, 40.0)  # a province: more cells than MAX_CELLS
    box("5101", 103.5, 104.5, 30.2, 31.0)
    box("510104", 104.0, 104.2, 30.5, 30.7)
    box("510105", 103.8, 104.0, 30.6, 30.8)  # shares an edge with 510104 at lng 104.0
    box("510104001001G01", 104.005, 104.012, 30.601, 30.609)
    extents = Extents()
    assert extents.everywhere and extents.everywhere[0][0] == "51"
    assert extents.holding(30.605, 104.01) == ["510104001001G01", "510104", "5101", "51"]
    assert extents.holding(30.65, 104.0) == ["510104", "510105", "5101", "51"]  # on the edge
    assert extents.holding(30.65, 104.0, limit=2) == ["510104", "510105"]
    assert extents.holding(35.0, 100.0) == ["51"]
    assert extents.holding(0.0, 0.0) == []


@pytest.mark.django_db
def test_matrix_most_specific_area_then_parent_category(matrix, city):
    from shequ.cases.routing import department_for

    cats, depts = matrix["categories"], matrix["departments"]
    assert department_for(cats["ENV"], "510104001001G01") == (depts["JJ-CG"], True)
    assert department_for(cats["ENV"], "510105001001G01") == (depts["CG"], True)
    assert department_for(cats["ENV.GARBAGE"], "510105001") == (depts["CG"], True)
    assert department_for(cats["ROAD"], "510104") == (depts["CG"], False)
    RoutingRule.objects.create(
        category=cats["ENV.GARBAGE"], area_prefix="5101", department=depts["ZJ"]
    )
    # The child category's own rule wins over the parent's, even a less specific one.
    assert department_for(cats["ENV.GARBAGE"], "510104001")[0] == depts["ZJ"]
    assert department_for(None, "510104") == (None, False)

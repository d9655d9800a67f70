"""The areas API: what the fields say, the filters (``under`` above all), geometry on request."""

import pytest
from rest_framework.test import APIClient

from shequ.areas.models import Area, Place
from shequ.core.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(city, make_user):
    """A city operator: sees every area, place and facility of the city."""
    client = APIClient()
    client.force_authenticate(make_user("op", Role.CITY_OPERATOR, "5101"))
    return client


def rows(client, url, **params):
    response = client.get(url, {"page_size": 500, **params})
    assert response.status_code == 200, response.content
    return response.data["results"]


def codes(client, url, **params):
    return [row["code"] for row in rows(client, url, **params)]


def test_area_detail_fields(api, city):
    community = city["communities"][0]
    data = api.get(f"/api/v1/areas/{community.code}/").data
    assert data["code"] == "510104001001"
    assert data["name"] == community.name and data["name_en"] == "Jinjiang Community 1"
    assert data["level"] == "community"
    assert data["parent"] == "510104001"
    assert data["lat"] == pytest.approx(30.6)
    assert data["boundary"]["type"] == "Polygon"
    assert api.get("/api/v1/areas/5101/").data["parent"] is None
    assert api.get("/api/v1/areas/5101/").data["ext_code"] == "510100"


def test_lists_leave_boundaries_out_unless_asked(api):
    plain = rows(api, "/api/v1/areas/")
    assert plain and all("boundary" not in row for row in plain)
    with_geometry = rows(api, "/api/v1/areas/", geometry="1")
    assert all(row["boundary"]["type"] == "Polygon" for row in with_geometry)
    assert all("boundary" not in row for row in rows(api, "/api/v1/areas/", geometry="false"))
    response = api.get("/api/v1/areas/", {"geometry": "maybe"})
    assert response.status_code == 400 and "geometry" in response.data


def test_area_filters(api, city):
    url = "/api/v1/areas/"
    assert len(codes(api, url, level="grid")) == 8
    assert codes(api, url, parent="510104001001") == ["510104001001G01", "510104001001G02"]
    under = codes(api, url, under="510104001")
    assert under == sorted(a.code for a in Area.objects.filter(code__startswith="510104001"))
    assert len(under) == 7  # the street, 2 communities, 4 grids
    assert codes(api, url, name="青羊区社区2") == ["510105001002"]
    # Part of the English name, in any case.
    assert codes(api, url, name="qingyang district") == ["510105"]
    assert codes(api, url, level="community", ordering="-code")[0] == "510105001002"


def test_under_narrows_but_never_widens_scope(city, make_user):
    client = APIClient()
    client.force_authenticate(make_user("gw", Role.GRID_WORKER, city["grids"][0].code))
    assert codes(client, "/api/v1/areas/", under="5101") == [city["grids"][0].code]
    assert codes(client, "/api/v1/places/", under="510105") == []


@pytest.mark.parametrize(
    "params",
    [
        {"under": "51%"},
        {"under": "5101' OR 1=1"},
        {"level": "planet"},
        {"parent": "5101/"},
        {"ordering": "password"},
        {"under": "5" * 100},
    ],
)
def test_bad_filter_values_are_400_with_the_field_named(api, params):
    response = api.get("/api/v1/areas/", params)
    assert response.status_code == 400
    assert set(response.data) == set(params)


def test_place_fields_and_filters(api, city):
    url = "/api/v1/places/"
    dwelling = city["dwellings"][0]
    data = api.get(f"{url}{dwelling.code}/").data
    assert data["kind"] == "dwelling" and data["floor"] == 5
    assert data["parent"] == dwelling.parent.code
    assert data["area_code"] == dwelling.area_code
    compound = api.get(f"{url}510104001001C001/").data
    assert compound["parent"] is None and compound["compound_type"] == "commercial"
    assert compound["address"] == "人民路1号"

    assert len(codes(api, url, kind="dwelling")) == 16
    assert codes(api, url, parent=dwelling.parent.code) == [d.code for d in city["dwellings"][:2]]
    # under: a prefix of the scope field (the area code), here one grid.
    grid = city["grids"][1]
    under = codes(api, url, under=grid.code)
    assert under == sorted(p.code for p in Place.objects.filter(area_code=grid.code))
    assert len(under) == 5  # compound, building, unit, 2 dwellings
    assert len(codes(api, url, compound_type="commercial")) == 8
    assert codes(api, url, compound_type="commercial", under="510105001002") == [
        "510105001002C001",
        "510105001002C002",
    ]
    response = api.get(url, {"kind": "castle", "compound_type": "x"})
    assert response.status_code == 400 and set(response.data) == {"kind", "compound_type"}


def test_place_ordering(api):
    keys = [(r["kind"], r["code"]) for r in rows(api, "/api/v1/places/", ordering="kind,-code")]
    by_code_desc = sorted(keys, key=lambda k: k[1], reverse=True)
    assert len(keys) == 40 and keys == sorted(by_code_desc, key=lambda k: k[0])


def test_facility_filters(api):
    url = "/api/v1/facilities/"
    assert codes(api, url) == ["510104001F01", "510105001F01"]
    assert codes(api, url, under="510105") == ["510105001F01"]
    assert codes(api, url, kind="health_centre", under="510104") == ["510104001F01"]
    assert codes(api, url, kind="school") == []
    data = api.get(f"{url}510104001F01/").data
    assert data["kind"] == "health_centre" and data["area_code"] == "510104001"
    assert api.get(url, {"kind": "castle"}).status_code == 400

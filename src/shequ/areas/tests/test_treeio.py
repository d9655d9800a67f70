"""Import and export of the governance tree (CSV, GeoJSON): counts, idempotence, round trips,
errors with file/line/field and nothing half-written, the commands and the pages."""

import csv
import io
import json
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from shequ.areas import treeio
from shequ.areas.models import Area, CompoundType, Place
from shequ.areas.treeio import TreeImportError, import_tree
from shequ.core.models import RoleAssignment
from shequ.core.roles import Role
from shequ.core.testing import square

# The linkage data set's geography (dev-20k), copied so the test runs on any checkout.
GEOGRAPHY = Path(__file__).parent / "data" / "geography.csv"

AREA_VALUES = (
    "code",
    "level",
    "name",
    "name_en",
    "kind",
    "ext_code",
    "lat",
    "lng",
    "boundary",
    "parent__code",
)
PLACE_VALUES = (
    "code",
    "kind",
    "name",
    "name_en",
    "compound_type",
    "address",
    "managed",
    "ext_code",
    "lat",
    "lng",
    "boundary",
    "floor",
    "area_code",
    "parent__code",
)


def snapshot():
    """Every area and place, keyed by code, with the parent as a code (not an id)."""
    areas = {row["code"]: row for row in Area.objects.values(*AREA_VALUES)}
    places = {row["code"]: row for row in Place.objects.values(*PLACE_VALUES)}
    return areas, places


def counts():
    return Area.objects.count(), Place.objects.count()


def delete_everything():
    for kind in reversed(treeio.PLACE_LEVELS):
        Place.objects.filter(kind=kind).delete()
    for level in reversed(treeio.AREA_LEVELS):
        Area.objects.filter(level=level).delete()


def rich_tree():
    """A tree with every level, boundaries, awkward names and floats, compounds under a grid
    and directly under a community (no people: it can be deleted and imported again)."""
    city = Area.objects.create(
        code="5101", level="city", name="成都市", name_en="Chengdu", ext_code="510100"
    )
    district = Area.objects.create(
        code="510104",
        level="district",
        name="锦江区",
        name_en="Jinjiang, District",
        parent=city,
        kind="core",
        lat=30.657312345678901,
        lng=104.08312345678901,
        boundary={
            "type": "MultiPolygon",
            "coordinates": [square(104.08, 30.65, 0.1)["coordinates"]],
        },
    )
    street = Area.objects.create(
        code="510104001", level="street", name="春熙路街道", parent=district, lat=30.1, lng=104.1
    )
    community = Area.objects.create(
        code="510104001001",
        level="community",
        name='"红星"社区',
        parent=street,
        kind="community",
        boundary=square(104.07, 30.66, 0.01),
    )
    grid = Area.objects.create(
        code="510104001001G01", level="grid", name="第1网格", parent=community
    )
    in_grid = Place.objects.create(
        code="510104001001G01C001",
        kind="compound",
        name="锦绣苑",
        area_code=grid.code,
        ext_code="C001",
        compound_type=CompoundType.OLD,
        address="人民路1号,附2号",
        managed=False,
        lat=30.66,
        lng=104.07,
    )
    Place.objects.create(
        code="510104001001C002",
        kind="compound",
        name="天府花园\n二期",
        area_code=community.code,
        compound_type=CompoundType.COMMERCIAL,
        managed=True,
    )
    building = Place.objects.create(
        code=f"{in_grid.code}B01", kind="building", name="1栋", parent=in_grid, area_code=grid.code
    )
    unit = Place.objects.create(
        code=f"{building.code}U1", kind="unit", name="1单元", parent=building, area_code=grid.code
    )
    for room in (1, 2):
        Place.objects.create(
            code=f"{unit.code}R05{room:02d}",
            kind="dwelling",
            name=f"50{room}",
            parent=unit,
            area_code=grid.code,
            floor=5,
        )
    Area.objects.create(
        code="510105", level="district", name="青羊区", parent=city, kind="core"
    )  # outside the 510104 exports


# --- geography.csv into an empty database -----------------------------------------------------


@pytest.mark.django_db
def test_geography_imports_into_an_empty_database():
    assert counts() == (0, 0)
    result = import_tree(GEOGRAPHY.read_bytes(), filename="geography.csv")
    assert result.created == {
        "city": 1,
        "district": 12,
        "street": 24,
        "community": 48,
        "compound": 165,
    }
    assert result.totals == {"created": 250, "updated": 0, "unchanged": 0}
    by_level = {lv: Area.objects.filter(level=lv).count() for lv in treeio.AREA_LEVELS}
    assert by_level == {"city": 1, "district": 12, "street": 24, "community": 48, "grid": 0}
    assert Place.objects.filter(kind="compound").count() == 165
    city = Area.objects.get(level="city")
    assert (city.code, city.ext_code, city.name, city.name_en) == (
        "5101",
        "510100",
        "成都市",
        "Chengdu",
    )
    assert set(Area.objects.filter(level="district").values_list("parent__code", flat=True)) == {
        "5101"
    }
    assert Area.objects.get(code="510104").kind == "core"
    assert Area.objects.get(code="510112100202").kind == "village"
    assert Area.objects.get(code="510104001001").parent.code == "510104001"
    compound = Place.objects.get(ext_code="C00000")
    assert compound.code == "510104001001C00000"
    assert compound.area_code == "510104001001"
    assert compound.name == "明珠嘉园四期"
    assert compound.compound_type == CompoundType.COMMERCIAL
    assert compound.address == "倪家东路335号"
    assert compound.managed is True
    old = Place.objects.get(ext_code="C00003")
    assert (old.compound_type, old.managed) == (CompoundType.OLD, False)
    types = set(Place.objects.values_list("compound_type", flat=True))
    assert types == set(CompoundType.values)
    # Every compound lies in the community it named, under its national code.
    for code, area_code in Place.objects.values_list("code", "area_code"):
        assert code.startswith(area_code) and len(area_code) == 12


@pytest.mark.django_db
def test_reimporting_the_same_file_changes_nothing():
    data = GEOGRAPHY.read_bytes()
    import_tree(data, filename="geography.csv")
    before = snapshot()
    result = import_tree(data, filename="geography.csv")
    assert result.totals == {"created": 0, "updated": 0, "unchanged": 249}
    assert snapshot() == before


@pytest.mark.django_db
def test_dry_run_counts_but_writes_nothing():
    result = import_tree(GEOGRAPHY.read_bytes(), filename="geography.csv", dry_run=True)
    assert result.dry_run and result.totals["created"] == 250
    assert counts() == (0, 0)


@pytest.mark.django_db
def test_rows_may_come_in_any_order_and_with_a_bom():
    lines = GEOGRAPHY.read_text(encoding="utf-8").splitlines()
    shuffled = [lines[0], *reversed(lines[1:])]
    data = "\ufeff" + "\r\n".join(shuffled) + "\r\n"
    result = import_tree(data.encode("utf-8"), filename="reversed.csv")
    assert result.totals["created"] == 250
    import_tree(GEOGRAPHY.read_bytes(), filename="geography.csv")  # the same tree: unchanged
    assert counts() == (85, 165)


@pytest.mark.django_db
def test_columns_may_come_in_any_order_and_absent_columns_are_left_alone():
    import_tree(GEOGRAPHY.read_bytes(), filename="geography.csv")
    Area.objects.filter(code="510104").update(name_en="Jinjiang", lat=30.6, lng=104.1)
    data = "name,code,parent_code,level\n锦江区(新),510104,510100,district\n"
    result = import_tree(data.encode(), filename="rename.csv")
    assert result.updated == {"district": 1}
    district = Area.objects.get(code="510104")
    assert district.name == "锦江区(新)"
    assert (district.name_en, district.lat, district.lng, district.kind) == (
        "Jinjiang",
        30.6,
        104.1,
        "core",
    )


# --- round trips ------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["csv", "geojson"])
def test_export_then_import_round_trip_is_exact(fmt):
    rich_tree()
    root = Area.objects.get(code="5101")
    write = treeio.export_csv if fmt == "csv" else treeio.export_geojson
    exported = "".join(write(root, places="all"))
    before = snapshot()
    assert len(before[0]) == 6 and len(before[1]) == 6
    # Into the same database: nothing changes.
    result = import_tree(exported.encode(), filename=f"tree.{fmt}")
    assert result.totals == {"created": 0, "updated": 0, "unchanged": 12}
    assert snapshot() == before
    # Into an empty database: the same tree again, and the same file when exported.
    delete_everything()
    result = import_tree(exported.encode(), filename=f"tree.{fmt}")
    assert result.totals["created"] == 12
    assert snapshot() == before
    assert "".join(write(Area.objects.get(code="5101"), places="all")) == exported


@pytest.mark.django_db
def test_export_of_a_district_imports_into_an_empty_database():
    """The root's parent is written as the national code, so the city is recreated."""
    rich_tree()
    exported = "".join(treeio.export_csv(Area.objects.get(code="510104"), places="all"))
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert rows[0]["code"] == "510104" and rows[0]["parent_code"] == "510100"
    assert {r["code"] for r in rows}.isdisjoint({"5101", "510105"})
    before_areas, before_places = snapshot()
    delete_everything()
    import_tree(exported.encode(), filename="510104.csv")
    areas, places = snapshot()
    assert places == before_places
    assert {k: v for k, v in areas.items() if k != "5101"} == {
        k: v for k, v in before_areas.items() if k not in ("5101", "510105")
    }
    assert areas["5101"]["ext_code"] == "510100" and areas["5101"]["name"] == "成都市"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("places", "kinds"),
    [("none", set()), ("compounds", {"compound"}), ("all", set(treeio.PLACE_LEVELS))],
)
def test_export_place_depth(places, kinds):
    rich_tree()
    exported = "".join(treeio.export_csv(Area.objects.get(code="510104"), places=places))
    levels = {row["level"] for row in csv.DictReader(io.StringIO(exported))}
    assert levels == {"district", "street", "community", "grid"} | kinds


@pytest.mark.django_db
def test_geojson_export_is_a_feature_collection_with_geometries():
    rich_tree()
    doc = json.loads("".join(treeio.export_geojson(Area.objects.get(code="5101"))))
    assert doc["type"] == "FeatureCollection"
    features = {f["properties"]["code"]: f for f in doc["features"]}
    assert features["510104"]["geometry"]["type"] == "MultiPolygon"
    assert features["510104001"]["geometry"] == {"type": "Point", "coordinates": [104.1, 30.1]}
    assert features["5101"]["geometry"] is None
    compound = features["510104001001G01C001"]["properties"]
    assert compound["level"] == "compound" and compound["kind"] == "老旧院落"
    assert compound["parent_code"] == "510104001001G01" and compound["managed"] is False
    assert set(compound) == set(treeio.PROPERTIES)


@pytest.mark.django_db
def test_a_compound_moved_into_a_grid_takes_its_buildings_along():
    base = (
        "level,code,name,parent_code,kind\n"
        "city,510100,成都市,,\n"
        "district,510104,锦江区,510100,core\n"
        "street,510104001,街道,510104,\n"
        "community,510104001001,社区,510104001,community\n"
        "compound,C1,小区,510104001001,商品房\n"
        "building,B1,1栋,510104001001C1,\n"
        "unit,U1,1单元,510104001001C1B1,\n"
        "dwelling,R0101,101,510104001001C1B1U1,\n"
    )
    import_tree(base.encode(), filename="base.csv")
    moved = (
        "level,code,name,parent_code,kind\n"
        "grid,G01,第1网格,510104001001,\n"
        "compound,510104001001C1,小区,510104001001G01,商品房\n"
    )
    result = import_tree(moved.encode(), filename="moved.csv")
    assert result.created == {"grid": 1} and result.updated == {"compound": 1}
    assert set(Place.objects.values_list("area_code", flat=True)) == {"510104001001G01"}
    assert Place.objects.get(kind="compound").code == "510104001001C1"  # the code stays


# --- errors: file, line, field; nothing written -------------------------------------------------

HEADER = "level,code,name,parent_code,kind,road_address,managed,lat,lng,boundary"
GOOD = [
    "district,510104,锦江区,510100,core,,,30.6,104.1,",
    "street,510104001,花林街道,510104,,,,,,",
    "community,510104001001,武溪路社区,510104001,community,,,,,",
    "compound,C00000,明珠嘉园,510104001001,商品房,倪家东路335号,1,,,",
]
BAD_ROWS = [
    ("province,51,四川省,,,,,,,", "level", "unknown_level"),
    ("street,510105009,外街道,510104,,,,,,", "code", "code_not_under_parent"),
    ("street,51010400A,坏街道,510104,,,,,,", "code", "bad_code"),
    ("community,510104009001,无主社区,510104009,community,,,,,", "parent_code", "unknown_parent"),
    ("district,510104,锦江区,510100,core,,,,,", "code", "duplicate_code"),
    ("compound,C9,小区,510104001,商品房,,1,,,", "parent_code", "bad_parent"),
    ("compound,C9,小区,510104001001,别墅,,1,,,", "kind", "unknown_kind"),
    ("compound,C9,小区,510104001001,商品房,,maybe,,,", "managed", "bad_managed"),
    ("compound,C9,,510104001001,商品房,,1,,,", "name", "empty_name"),
    ("compound,C9,小区,,商品房,,1,,,", "parent_code", "empty_parent"),
    ("compound,C9,小区,510104001001,商品房,,1,95,104,", "lat", "bad_coordinate"),
    ("compound,C9,小区,510104001001,商品房,,1,30.6,east,", "lng", "bad_coordinate"),
    ("compound,C9,小区,510104001001,商品房,,1,30.6,,", "lng", "bad_coordinate"),
    (
        'compound,C9,小区,510104001001,商品房,,1,,,"{""type"": ""Polygon""',
        "boundary",
        "bad_geometry",
    ),
    (
        'compound,C9,小区,510104001001,商品房,,1,,,"{""type"":""Polygon"",""coordinates"":'
        '[[[104,30],[104.1,30],[104,30.1]]]}"',
        "boundary",
        "bad_geometry",
    ),
    (
        'compound,C9,小区,510104001001,商品房,,1,,,"{""type"":""Point"",""coordinates"":[104,30]}"',
        "boundary",
        "bad_geometry",
    ),
    ("compound,C9,小区,510104001001,商品房,,1,,", "-", "field_count"),
    ("street,510104002,街道,510104,,路1号,,,,", "road_address", "unexpected_value"),
    ("street,510104002," + "长" * 101 + ",510104,,,,,,", "name", "too_long"),
    ("compound,C" + "9" * 60 + ",小区,510104001001,,,,,,", "code", "too_long"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("bad", "field", "code"), BAD_ROWS, ids=[b[1] for b in BAD_ROWS])
def test_each_kind_of_bad_row_is_reported_with_line_and_field(bad, field, code):
    import_tree(GEOGRAPHY.read_bytes(), filename="geography.csv")
    before = snapshot()
    # The good rows change names (they would update), then the bad row at line 4.
    good = [row.replace("锦江区", "锦江区改") for row in GOOD]
    data = "\n".join([HEADER, *good[:2], bad, *good[2:]]) + "\n"
    with pytest.raises(TreeImportError) as caught:
        import_tree(data.encode(), filename="bad.csv")
    errors = caught.value.errors
    assert [(e.file, e.line, e.field, e.code) for e in errors] == [("bad.csv", 4, field, code)]
    assert str(errors[0]).startswith(f"bad.csv:4: {field}: ")
    assert snapshot() == before  # nothing written, not even the good rows


@pytest.mark.django_db
def test_every_bad_row_is_listed_at_once_and_children_of_refused_rows_say_so():
    data = "\n".join(
        [
            HEADER,
            "district,510104,锦江区,510100,core,,,,,",
            "street,5101040X1,坏街道,510104,,,,,,",  # line 3
            "community,5101040X1001,社区,5101040X1,,,,,,",  # line 4: parent refused
            "compound,C1,,510104001001,商品房,,1,,,",  # line 5: empty name
            "street,510104002,街道,510104,,,,999,,",  # line 6: lat, lng
        ]
    )
    with pytest.raises(TreeImportError) as caught:
        import_tree(data.encode(), filename="many.csv")
    found = [(e.line, e.field, e.code) for e in caught.value.errors]
    assert found == [
        (3, "code", "bad_code"),
        (4, "parent_code", "parent_refused"),
        (5, "name", "empty_name"),
        (6, "lat", "bad_coordinate"),
        (6, "lng", "bad_coordinate"),
    ]
    assert counts() == (0, 0)


@pytest.mark.django_db
def test_lines_count_physical_lines_of_multiline_cells():
    data = (
        "level,code,name,parent_code,kind,road_address,managed\n"
        'district,510104,"锦江\n区",510100,core,,\n'
        "street,510104001,,510104,,,\n"
    )
    with pytest.raises(TreeImportError) as caught:
        import_tree(data.encode(), filename="multi.csv")
    assert [(e.line, e.field) for e in caught.value.errors] == [(4, "name")]


@pytest.mark.django_db
def test_the_error_list_is_capped_but_counted():
    rows = [f"street,5101040{i:02d},,510104,,," for i in range(10, 99)] * 4
    data = "level,code,name,parent_code,kind,road_address,managed\n" + "\n".join(rows)
    with pytest.raises(TreeImportError) as caught:
        import_tree(data.encode(), filename="many.csv")
    assert caught.value.total == len(rows)  # one empty name per row
    assert len(caught.value.errors) == treeio.MAX_ERRORS
    lines = str(caught.value).splitlines()
    assert len(lines) == treeio.MAX_ERRORS + 1 and str(len(rows) - treeio.MAX_ERRORS) in lines[-1]


FILE_PROBLEMS = [
    (HEADER.replace("kind", "type") + "\n", 1, "type", "unknown_column"),
    ("level,code,name,kind\n", 1, "parent_code", "missing_column"),
    ("level,code,name,parent_code,code\n", 1, "code", "duplicate_column"),
    ("", 1, "-", "empty"),
    (HEADER + "\n", 1, "-", "empty"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("text", "line", "field", "code"), FILE_PROBLEMS)
def test_file_level_problems_are_reported(text, line, field, code):
    with pytest.raises(TreeImportError) as caught:
        import_tree(text.encode(), filename="f.csv")
    assert (caught.value.errors[0].line, caught.value.errors[0].field) == (line, field)
    assert caught.value.errors[0].code == code


@pytest.mark.django_db
def test_other_encodings_are_refused_clearly():
    text = GEOGRAPHY.read_text(encoding="utf-8")
    with pytest.raises(TreeImportError) as caught:
        import_tree(text.encode("gb18030"), filename="gbk.csv")
    (error,) = caught.value.errors
    assert (error.line, error.code) == (2, "encoding")  # line 1 is ASCII
    assert "GBK" in error.message
    with pytest.raises(TreeImportError) as caught:
        import_tree(text.encode("utf-16"), filename="utf16.csv")
    assert caught.value.errors[0].code == "encoding"
    with pytest.raises(TreeImportError) as caught:
        import_tree(b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00", filename="tree.xlsx.csv")
    assert caught.value.errors[0].code == "not_csv"
    assert counts() == (0, 0)


def _feature(level, code, name, parent, **props):
    return {
        "type": "Feature",
        "properties": {"level": level, "code": code, "name": name, "parent_code": parent, **props},
        "geometry": None,
    }


def _geojson(features) -> bytes:
    """One feature per line, like the export: line n + 1 holds feature n."""
    body = ",\n".join(json.dumps(f, ensure_ascii=False) for f in features)
    return ('{"type": "FeatureCollection", "features": [\n' + body + "\n]}\n").encode()


@pytest.mark.django_db
def test_geojson_import_and_errors_by_line():
    features = [
        _feature("district", "510104", "锦江区", "510100"),
        _feature("street", 510104001, "街道", 510104),  # numbers are fine for codes
        _feature("community", "510104001001", "社区", "510104001", kind="community"),
    ]
    features[2]["geometry"] = {"type": "Point", "coordinates": [104.07, 30.66]}
    result = import_tree(_geojson(features), filename="tree.geojson")
    assert result.created == {"city": 1, "district": 1, "street": 1, "community": 1}
    community = Area.objects.get(code="510104001001")
    assert (community.lat, community.lng, community.boundary) == (30.66, 104.07, None)

    bad = [
        *features,
        _feature("compound", "C1", "小区", "510104001001", colour="red"),  # line 5
        {"type": "Feature", "properties": {"level": "street"}, "geometry": None},  # line 6
        _feature("compound", "C2", "小区", "510104001001"),  # line 7: bad geometry
    ]
    bad[5]["geometry"] = {"type": "Polygon", "coordinates": [[[104, 30], [105, 30]]]}
    before = snapshot()
    with pytest.raises(TreeImportError) as caught:
        import_tree(_geojson(bad), filename="bad.geojson")
    found = {(e.line, e.field, e.code) for e in caught.value.errors}
    assert found == {
        (5, "colour", "unknown_column"),
        (6, "code", "missing_column"),
        (6, "name", "missing_column"),
        (6, "parent_code", "missing_column"),
        (7, "geometry", "bad_geometry"),
    }
    assert snapshot() == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "line", "field"),
    [
        (b'{"type": "FeatureCollection",\n "features": [\n {"type": }]}', 3, "-"),
        (b'{"type": "Feature", "properties": {}}', 1, "type"),
        (b"[1, 2]", 1, "type"),
        (b'{"type": "FeatureCollection", "features": [\n 7\n]}', 2, "type"),
    ],
)
def test_geojson_that_is_not_a_feature_collection_is_refused(data, line, field):
    with pytest.raises(TreeImportError) as caught:
        import_tree(data, filename="x.geojson")
    assert (caught.value.errors[0].line, caught.value.errors[0].field) == (line, field)


# --- scope of the importer --------------------------------------------------------------------


@pytest.mark.django_db
def test_an_importer_may_import_only_under_their_import_scope(make_user):
    import_tree(GEOGRAPHY.read_bytes(), filename="geography.csv")
    steward = make_user("steward", Role.DATA_STEWARD, "510104")
    before = snapshot()
    data = (
        "level,code,name,parent_code,kind,road_address,managed\n"
        "street,510104001,花林街道(新),510104,,,\n"
        "street,510105001,三店街道(新),510105,,,\n"
        "compound,C00005,新小区,510105001001,商品房,,1\n"
        "district,510104,锦江区,510100,core,,\n"
    )
    with pytest.raises(TreeImportError) as caught:
        import_tree(data.encode(), filename="mixed.csv", user=steward)
    assert [(e.line, e.field, e.code) for e in caught.value.errors] == [
        (3, "code", "out_of_scope"),
        (4, "code", "out_of_scope"),
    ]
    assert snapshot() == before
    # Their own district, and what lies under it, is theirs to import.
    inside = "\n".join(data.splitlines()[:2] + data.splitlines()[4:])
    assert import_tree(inside.encode(), filename="own.csv", user=steward).updated == {"street": 1}


@pytest.mark.django_db
def test_only_a_city_wide_steward_may_create_the_city(make_user):
    local = make_user("local", Role.DATA_STEWARD, "510104")
    with pytest.raises(TreeImportError) as caught:
        import_tree(GEOGRAPHY.read_bytes(), filename="geography.csv", user=local)
    codes = {e.code for e in caught.value.errors}
    assert "out_of_scope" in codes and codes <= {"out_of_scope", "parent_refused"}
    assert counts() == (0, 0)
    city_wide = make_user("city", Role.DATA_STEWARD, "5101")
    result = import_tree(GEOGRAPHY.read_bytes(), filename="geography.csv", user=city_wide)
    assert result.totals["created"] == 250


# --- Hypothesis: malformed files are refused whole or imported, never half ---------------------

BASE_ROWS = [
    HEADER,
    "district,510104,锦江区,510100,core,,,30.6,104.1,",
    "street,510104001,花林街道,510104,,,,,,",
    "community,510104001001,武溪路社区,510104001,community,,,,,",
    "compound,C00000,明珠嘉园,510104001001,商品房,倪家东路335号,1,,,",
]
UPDATE_ROWS = [
    HEADER,
    "street,510104001,花林街道二,510104,,,,,,",
    "community,510104001002,新社区,510104001,community,,,30.61,104.09,",
    "compound,C00001,新小区,510104001002,老旧院落,,0,,,",
    "compound,C00000,明珠嘉园二,510104001001,商品房,倪家东路1号,1,,,",
    'grid,G01,第1网格,510104001001,,,,,,"{""type"":""Polygon"",""coordinates"":'
    '[[[104,30],[104.1,30],[104.1,30.1],[104,30]]]}"',
]

cells = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


class TestMalformedFiles(HypothesisTestCase):
    def _check(self, blob: bytes, fmt: str):
        import_tree("\n".join(BASE_ROWS).encode(), filename="base.csv")
        before = snapshot()
        try:
            import_tree(blob, filename=f"mutated.{fmt}", fmt=fmt)
        except TreeImportError as exc:
            self.assertEqual(snapshot(), before)  # nothing half-written
            self.assertTrue(exc.errors)
            last_line = blob.count(b"\n") + 1
            for error in exc.errors:
                self.assertTrue(1 <= error.line <= last_line, error)
                self.assertTrue(
                    error.field in treeio.COLUMNS
                    or error.field in ("-", "type", "geometry", "properties")
                    or error.code == "unknown_column",
                    error,
                )
        else:
            # Accepted: importing it again changes nothing.
            after = snapshot()
            result = import_tree(blob, filename=f"mutated.{fmt}", fmt=fmt)
            self.assertEqual(result.totals["created"] + result.totals["updated"], 0)
            self.assertEqual(snapshot(), after)

    @settings(max_examples=40, deadline=None)
    @given(data=st.data())
    def test_malformed_csv(self, data):
        rows = [list(r) for r in csv.reader(io.StringIO("\n".join(UPDATE_ROWS)))]
        kind = data.draw(st.sampled_from(["cell", "drop", "line", "bytes", "cut"]))
        r = data.draw(st.integers(0, len(rows) - 1))
        if kind == "cell":
            c = data.draw(st.integers(0, len(rows[r]) - 1))
            rows[r][c] = data.draw(cells)
        elif kind == "drop":
            del rows[r][data.draw(st.integers(0, len(rows[r]) - 1))]
        elif kind == "line":
            rows.insert(r, data.draw(st.lists(cells, max_size=12)))
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(rows)
        blob = out.getvalue().encode("utf-8")
        if kind == "bytes":
            at = data.draw(st.integers(0, len(blob)))
            blob = blob[:at] + data.draw(st.binary(min_size=1, max_size=4)) + blob[at:]
        elif kind == "cut":
            blob = blob[: data.draw(st.integers(0, len(blob)))]
        self._check(blob, "csv")

    @settings(max_examples=30, deadline=None)
    @given(data=st.data())
    def test_malformed_geojson(self, data):
        features = []
        for row in csv.DictReader(io.StringIO("\n".join(UPDATE_ROWS))):
            boundary = row.pop("boundary")
            props = {k: v for k, v in row.items()}
            features.append(
                {
                    "type": "Feature",
                    "properties": props,
                    "geometry": json.loads(boundary) if boundary else None,
                }
            )
        junk = st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | cells,
            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(cells, inner, max_size=3),
            max_leaves=6,
        )
        feature = data.draw(st.integers(0, len(features) - 1))
        target = data.draw(st.sampled_from(["property", "geometry", "feature"]))
        if target == "property":
            key = data.draw(st.sampled_from([*treeio.PROPERTIES, "extra"]))
            features[feature]["properties"][key] = data.draw(junk)
        elif target == "geometry":
            features[feature]["geometry"] = data.draw(junk)
        else:
            features[feature] = data.draw(junk)
        self._check(_geojson(features), "geojson")


# --- the commands -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_import_tree_command_prints_counts_and_is_idempotent():
    out = io.StringIO()
    call_command("import_tree", str(GEOGRAPHY), stdout=out)
    assert "250 created, 0 updated, 0 unchanged" in out.getvalue()
    assert "compound        165" in out.getvalue()
    out = io.StringIO()
    call_command("import_tree", str(GEOGRAPHY), "--dry-run", stdout=out)
    assert "0 would be created, 0 would be updated, 249 unchanged" in out.getvalue()
    assert counts() == (85, 165)


@pytest.mark.django_db
def test_import_tree_command_prints_every_error_and_fails(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "level,code,name,parent_code,kind,road_address,managed\n"
        "district,510104,锦江区,510100,core,,\n"
        "street,510105001,三店街道,510104,,,\n"
        "community,510104001001,,510104001,,,\n",
        encoding="utf-8",
    )
    err = io.StringIO()
    with pytest.raises(CommandError, match=r"errors in .*nothing was imported"):
        call_command("import_tree", str(path), stderr=err)
    lines = err.getvalue().splitlines()
    assert f"{path}:3: code: " in lines[0]
    assert lines[1].startswith(f"{path}:4: name: ")
    assert counts() == (0, 0)


@pytest.mark.django_db
def test_export_tree_command_writes_files_that_import_again(tmp_path):
    rich_tree()
    before = snapshot()
    out_csv, out_geo = tmp_path / "tree.csv", tmp_path / "tree.geojson"
    call_command("export_tree", "510100", "--places", "all", "--out", str(out_csv))
    call_command("export_tree", "5101", "--places", "all", "--out", str(out_geo))
    assert json.loads(out_geo.read_text(encoding="utf-8"))["type"] == "FeatureCollection"
    stdout = io.StringIO()
    call_command("export_tree", "510104", "--format", "geojson", "--places", "none", stdout=stdout)
    assert {f["properties"]["level"] for f in json.loads(stdout.getvalue())["features"]} == {
        "district",
        "street",
        "community",
        "grid",
    }
    for path in (out_csv, out_geo):
        delete_everything()
        call_command("import_tree", str(path), stdout=io.StringIO())
        assert snapshot() == before
    with pytest.raises(CommandError, match="no area"):
        call_command("export_tree", "999999")


# --- the pages: access matrix and scope --------------------------------------------------------


ROLES_AT = {
    "steward": (Role.DATA_STEWARD, "510104"),
    "worker": (Role.COMMUNITY_WORKER, "510104001001"),
    "grid": (Role.GRID_WORKER, "510104001001G01"),
    "dept": (Role.DEPARTMENT_HANDLER, "5101"),
    "operator": (Role.CITY_OPERATOR, "5101"),
}


class _Users(dict):
    """Users made on first use, without a password (the pages log them in directly)."""

    def __missing__(self, who):
        role, code = ROLES_AT[who]
        user = get_user_model().objects.create(username=who)
        RoleAssignment.objects.create(user=user, role=role, area_code=code)
        self[who] = user
        return user


@pytest.fixture
def users(city):
    return _Users()


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["areas:export_csv", "areas:export_geojson"])
@pytest.mark.parametrize(
    ("who", "code", "status"),
    [
        (None, "510104001001", 302),
        ("grid", "510104001001", 403),  # grid workers and departments do not export
        ("dept", "510104001001", 403),
        ("worker", "510104001002", 404),  # the neighbouring community
        ("worker", "510104", 404),  # above their community
        ("worker", "nosuchcode", 404),
        ("worker", "510104001001", 200),
        ("steward", "510105", 404),
        ("steward", "510104", 200),
        ("operator", "5101", 200),
    ],
)
def test_export_views_access_matrix(client, users, name, who, code, status):
    if who:
        client.force_login(users[who])
    response = client.get(reverse(name, args=[code]))
    assert response.status_code == status
    if status == 302:
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_export_view_downloads_only_the_subtree(client, users):
    client.force_login(users["worker"])
    response = client.get(reverse("areas:export_csv", args=["510104001001"]) + "?places=all")
    assert response["Content-Type"].startswith("text/csv")
    assert "shequ-tree-510104001001.csv" in response["Content-Disposition"]
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[0]["code"] == "510104001001" and rows[0]["parent_code"] == "510104001"
    assert all(r["code"].startswith("510104001001") for r in rows)
    assert {r["level"] for r in rows} == {"community", "grid", *treeio.PLACE_LEVELS}
    response = client.get(reverse("areas:export_geojson", args=["510104001001"]))
    assert response["Content-Type"] == "application/geo+json"
    doc = json.loads(b"".join(response.streaming_content))
    assert {f["properties"]["level"] for f in doc["features"]} == {"community", "grid", "compound"}
    response = client.get(reverse("areas:export_csv", args=["510104001001"]) + "?places=x")
    assert response.status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize(("who", "status"), [(None, 302), ("worker", 403), ("operator", 403)])
def test_import_page_needs_the_import_permission(client, users, who, status):
    if who:
        client.force_login(users[who])
    assert client.get(reverse("areas:import")).status_code == status
    upload = io.BytesIO(b"level,code,name,parent_code\nstreet,510104009,X,510104\n")
    upload.name = "x.csv"
    assert client.post(reverse("areas:import"), {"file": upload}).status_code == status
    assert not Area.objects.filter(code="510104009").exists()


def _upload(text: str, name: str = "tree.csv"):
    upload = io.BytesIO(text.encode("utf-8"))
    upload.name = name
    return upload


@pytest.mark.django_db
def test_import_page_imports_and_shows_counts(client, users):
    client.force_login(users["steward"])
    page = client.get(reverse("areas:import"))
    assert page.status_code == 200 and b'enctype="multipart/form-data"' in page.content
    data = (
        "level,code,name,parent_code,kind,road_address,managed\n"
        "street,510104002,新街道,510104,,,\n"
        "community,510104002001,新社区,510104002,community,,\n"
        "compound,C1,新小区,510104002001,商品房,新路1号,1\n"
    )
    response = client.post(
        reverse("areas:import"), {"file": _upload(data), "dry_run": "on", "format": ""}
    )
    assert response.status_code == 200 and response.context["result"].dry_run
    assert not Area.objects.filter(code="510104002").exists()
    response = client.post(reverse("areas:import"), {"file": _upload(data), "format": "csv"})
    assert response.context["result"].created == {"street": 1, "community": 1, "compound": 1}
    assert 'id="import-result"' in response.content.decode()
    assert Place.objects.get(code="510104002001C1").area_code == "510104002001"


@pytest.mark.django_db
def test_import_page_lists_errors_and_refuses_rows_outside_the_stewards_scope(client, users):
    client.force_login(users["steward"])
    before = snapshot()
    data = (
        "level,code,name,parent_code,kind,road_address,managed\n"
        "street,510104001,新名字,510104,,,\n"
        "street,510105001,别人的街道,510105,,,\n"
        "community,510104001003,,510104001,,,\n"
    )
    response = client.post(reverse("areas:import"), {"file": _upload(data, "mine.csv")})
    assert response.status_code == 200
    errors = [(e.file, e.line, e.field, e.code) for e in response.context["errors"]]
    assert errors == [
        ("mine.csv", 3, "code", "out_of_scope"),
        ("mine.csv", 4, "name", "empty_name"),
    ]
    html = response.content.decode()
    assert 'id="import-errors"' in html and "mine.csv" in html
    assert snapshot() == before

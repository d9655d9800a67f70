"""The demo city as users meet it: `shequ seed` on a small city, both databases."""

import collections
import io
import math
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from shequ.areas.models import Area, Facility, FacilityKind, Level, Place, PlaceKind
from shequ.core import idnumber, phone
from shequ.core.roles import Role
from shequ.demo import chengdu
from shequ.demo import geometry as geo
from shequ.demo.accounts import DEMO_PASSWORD
from shequ.demo.generate import CitySeeder
from shequ.demo.population import REFERENCE_DATE
from shequ.people.choices import IdType, Relation, ResidenceKind, ResidentType
from shequ.people.models import Household, Person, Residence

pytestmark = pytest.mark.django_db
LEVELS = [Level.CITY, Level.DISTRICT, Level.STREET, Level.COMMUNITY, Level.GRID]


def seed(residents=2000, seed=1, reset=False) -> str:
    """The city seeder alone; each app's demo hook has its own test."""
    out = io.StringIO()
    call_command(
        "seed",
        residents=residents,
        seed=seed,
        reset=reset,
        city_only=True,
        verbosity=0,
        stdout=out,
    )
    return out.getvalue()


def snapshot():
    return (
        list(Area.objects.order_by("code").values_list("code", "name", "name_en", "lat", "lng")),
        list(Place.objects.order_by("code").values_list("code", "name", "address")),
        list(Household.objects.order_by("number").values_list("number", "area_code")),
        # ID numbers are encrypted at rest (a random nonce each): sort the plain values here.
        sorted(
            Person.objects.values_list(
                "id_number", "name", "birth_date", "phone", "area_code", "relation"
            )
        ),
    )


def age(birth) -> int:
    r = REFERENCE_DATE
    return r.year - birth.year - ((r.month, r.day) < (birth.month, birth.day))


def test_same_seed_gives_the_same_city_and_another_seed_another():
    seed(1500, seed=7)
    first = snapshot()
    seed(1500, seed=7, reset=True)
    assert snapshot() == first
    seed(1500, seed=8, reset=True)
    other = snapshot()
    assert other[3] != first[3]  # people: names, ID numbers
    assert [a[1] for a in other[0]] != [a[1] for a in first[0]]  # area names


def test_exactly_the_residents_asked_for_each_with_a_valid_unique_id():
    seed(2500)
    people = list(Person.objects.all())
    assert len(people) == 2500
    numbers = [p.id_number for p in people]
    assert len(set(numbers)) == len(numbers)
    for p in people:
        if p.id_type == IdType.PASSPORT:
            assert p.resident_type == ResidentType.FOREIGN and re.fullmatch(
                r"[A-Z]\d{8}", p.id_number
            )
            continue
        parsed = idnumber.parse(p.id_number)
        assert parsed.number == p.id_number
        assert parsed.birth_date == p.birth_date
        assert parsed.sex == p.sex
        if p.id_type == IdType.FOREIGN_PERMANENT:
            assert p.id_number.startswith("9") and p.resident_type == ResidentType.FOREIGN
        elif p.resident_type == ResidentType.REGISTERED:
            assert p.hukou_region == "510104"
        else:
            assert p.hukou_region == p.id_number[:6] and not p.hukou_region.startswith("5101")
    phones = [p.phone for p in people if p.phone]
    assert all(phone.is_mobile(n) for n in phones)
    assert len(set(phones)) == len(phones)
    assert 0.6 < len(phones) / len(people) < 0.95  # young children and some elderly have none
    assert all(p.phone == "" for p in people if age(p.birth_date) < 12)


def test_age_and_resident_mix_as_designed():
    seed(3000, seed=2)
    people = list(Person.objects.only("birth_date", "resident_type", "nationality", "name_latin"))
    n = len(people)
    ages = collections.Counter(
        "child" if age(p.birth_date) < 15 else "old" if age(p.birth_date) >= 60 else "working"
        for p in people
    )
    assert 0.10 < ages["child"] / n < 0.20
    assert 0.60 < ages["working"] / n < 0.75
    assert 0.13 < ages["old"] / n < 0.23
    types = collections.Counter(p.resident_type for p in people)
    assert 0.55 < types[ResidentType.REGISTERED] / n < 0.72
    assert 0.28 < types[ResidentType.FLOATING] / n < 0.42
    assert 0 < types[ResidentType.FOREIGN] / n < 0.03
    for p in people:
        if p.resident_type == ResidentType.FOREIGN:
            assert p.nationality != "CHN" and p.name_latin
        else:
            assert p.nationality == "CHN"


def test_households_have_one_head_and_everyone_lives_in_their_grid():
    seed(2000)
    heads = collections.Counter(
        Person.objects.filter(relation=Relation.HEAD).values_list("household_id", flat=True)
    )
    assert set(heads.values()) == {1}
    assert len(heads) == Household.objects.count()
    grids = set(Area.objects.filter(level=Level.GRID).values_list("code", flat=True))
    for p in Person.objects.select_related("dwelling", "household"):
        assert p.dwelling.kind == PlaceKind.DWELLING
        assert p.area_code == p.dwelling.area_code == p.household.area_code
        assert p.area_code in grids
        assert p.household.dwelling_id == p.dwelling_id
    residences = {r.person_id: r for r in Residence.objects.all()}
    expected_kind = {
        ResidentType.REGISTERED: ResidenceKind.REGISTERED,
        ResidentType.FLOATING: ResidenceKind.FLOATING,
        ResidentType.FOREIGN: ResidenceKind.LIVING,
    }
    for p in Person.objects.all():
        r = residences[p.pk]
        assert r.dwelling_id == p.dwelling_id and r.area_code == p.area_code
        assert r.kind == expected_kind[p.resident_type]
        assert p.birth_date <= r.start <= REFERENCE_DATE
    # some dwellings stand empty
    occupied = set(Household.objects.values_list("dwelling_id", flat=True))
    dwellings = Place.objects.filter(kind=PlaceKind.DWELLING).count()
    assert 0 < dwellings - len(occupied) < 0.2 * dwellings


def test_grids_hold_about_300_households():
    seed(3000)
    per_grid = collections.Counter(Household.objects.values_list("area_code", flat=True))
    grids = Area.objects.filter(level=Level.GRID).values_list("code", flat=True)
    assert len(grids) >= 3
    for code in grids:
        assert 150 <= per_grid[code] <= 450, (code, per_grid[code])


def test_codes_nest_from_city_to_dwelling():
    seed(2000)
    areas = {a.pk: a for a in Area.objects.all()}
    for a in areas.values():
        if a.parent_id:
            parent = areas[a.parent_id]
            assert a.code.startswith(parent.code)
            assert LEVELS.index(a.level) == LEVELS.index(parent.level) + 1
        if a.level == Level.STREET:
            n = int(a.code[6:])
            assert re.fullmatch(r"\d{9}", a.code)
            assert (n < 100) == (a.kind == "street") and n >= 1
        if a.level == Level.COMMUNITY:
            n = int(a.code[9:])
            assert re.fullmatch(r"\d{12}", a.code)
            assert (n >= 200) == (a.kind == "village")
        if a.level == Level.GRID:
            assert re.fullmatch(r"\d{12}G\d{2}", a.code)
    places = {p.pk: p for p in Place.objects.all()}
    for p in places.values():
        assert p.area_code and p.code.startswith(p.area_code[:12])
        if p.kind == PlaceKind.COMPOUND:
            assert re.fullmatch(r"\d{12}C\d{3}", p.code) and p.compound_type and p.address
            assert p.managed is not None
        else:
            parent = places[p.parent_id]
            assert p.code.startswith(parent.code) and p.area_code == parent.area_code
        if p.kind == PlaceKind.DWELLING:
            assert re.fullmatch(r"\d{12}C\d{3}B\d{2}U\dR\d{4}", p.code)
            assert p.floor == int(p.code[-4:-2])


def test_the_real_districts_of_chengdu_and_only_the_needed_ones_filled():
    seed(2000)
    city = Area.objects.get(level=Level.CITY)
    assert (city.code, city.ext_code, city.name, city.name_en) == (
        "5101",
        "510100",
        "成都市",
        "Chengdu",
    )
    districts = {a.code: a for a in Area.objects.filter(level=Level.DISTRICT)}
    assert districts["510107"].name == "武侯区" and districts["510185"].name == "简阳市"
    assert len(districts) == 20 and all(a.parent_id == city.pk for a in districts.values())
    filled = set(Area.objects.filter(level=Level.STREET).values_list("parent__code", flat=True))
    assert filled == {"510104"}
    # a million residents go to every district; twenty thousand to one
    plan = CitySeeder(1_000_000, 1).plan()
    assert len(plan) == 20 and sum(sum(q) for _, q in plan) == 1_000_000
    assert [d.code for d, _ in CitySeeder(20_000, 1).plan()] == ["510104"]


def _polygon(geometry) -> list:
    assert geometry["type"] == "Polygon"
    ring = geometry["coordinates"][0]
    assert len(ring) >= 4 and ring[0] == ring[-1]
    for lng, lat in ring:
        assert math.isfinite(lng) and math.isfinite(lat)
        assert 102.5 < lng < 105.5 and 29.8 < lat < 31.7
    poly = geo.ring_of(geometry)
    assert geo.signed_area(poly) > 0  # counter-clockwise exterior ring, not degenerate
    return poly


def test_boundaries_are_closed_polygons_and_children_lie_in_their_parent():
    seed(2500)
    areas = {a.pk: a for a in Area.objects.all()}
    polys = {a.code: _polygon(a.boundary) for a in areas.values()}
    for a in areas.values():
        assert geo.contains(polys[a.code], (a.lng, a.lat)), a.code
        if a.parent_id:
            assert geo.contains(polys[areas[a.parent_id].code], (a.lng, a.lat)), a.code
    # children tile the parent: their areas add up to it
    for a in areas.values():
        children = [c for c in areas.values() if c.parent_id == a.pk]
        if children:
            total = sum(geo.signed_area(polys[c.code]) for c in children)
            assert total == pytest.approx(geo.signed_area(polys[a.code]), rel=1e-3), a.code
    compounds = {}
    for c in Place.objects.filter(kind=PlaceKind.COMPOUND):
        compounds[c.pk] = _polygon(c.boundary)
        assert geo.contains(polys[c.area_code], (c.lng, c.lat))
    for b in Place.objects.filter(kind=PlaceKind.BUILDING):
        assert geo.contains(compounds[b.parent_id], (b.lng, b.lat))
    assert not Place.objects.filter(kind=PlaceKind.DWELLING, lat__isnull=True).exists()


def test_facilities_sit_inside_their_areas():
    seed(2500)
    polys = {a.code: geo.ring_of(a.boundary) for a in Area.objects.all()}
    facilities = list(Facility.objects.all())
    for f in facilities:
        assert geo.contains(polys[f.area_code], (f.lng, f.lat)), f.code
        assert f.code.startswith(f.area_code) and f.name and f.name_en
    kinds = collections.Counter(f.kind for f in facilities)
    streets = Area.objects.filter(level=Level.STREET).count()
    communities = Area.objects.filter(level=Level.COMMUNITY).count()
    assert kinds[FacilityKind.HEALTH_CENTRE] == streets
    assert kinds[FacilityKind.SERVICE_CENTRE] == communities
    assert 2 <= kinds[FacilityKind.HOSPITAL] <= 4
    assert kinds[FacilityKind.SCHOOL] >= streets and kinds[FacilityKind.PARK] >= streets


def test_demo_accounts_one_per_role_with_their_scope():
    out = seed(2000)
    User = get_user_model()
    expected = {
        "city": (Role.CITY_OPERATOR, Level.CITY),
        "street": (Role.STREET_STAFF, Level.STREET),
        "community": (Role.COMMUNITY_WORKER, Level.COMMUNITY),
        "grid": (Role.GRID_WORKER, Level.GRID),
        "dept": (Role.DEPARTMENT_HANDLER, Level.CITY),
        "steward": (Role.DATA_STEWARD, Level.CITY),
        "admin": (Role.DATA_STEWARD, Level.CITY),
    }
    for username, (role, level) in expected.items():
        user = User.objects.get(username=username)
        assert user.display_name and user.is_active
        [(got_role, code)] = user.assignments.values_list("role", "area_code")
        assert got_role == role
        assert Area.objects.get(code=code).level == level
        assert re.search(rf"^{username}\s+{DEMO_PASSWORD}\s+{role}\s+{code} ", out, re.M)
        assert user.is_superuser == (username == "admin")
    # one shared password (hashed once, so checking one account checks them all)
    assert User.objects.get(username="grid").check_password(DEMO_PASSWORD)
    assert User.objects.filter(username__in=expected).values("password").distinct().count() == 1
    grid_user = User.objects.get(username="grid")
    grid_code = grid_user.assignments.get().area_code
    visible = Person.objects.for_user(grid_user, "view")
    assert visible.count() == Person.objects.filter(area_code__startswith=grid_code).count() > 0
    assert visible.count() < Person.objects.count()
    assert Person.objects.for_user(User.objects.get(username="dept"), "view").count() == 0


def test_a_second_seed_is_refused_without_reset_and_replaces_the_city_with_it():
    seed(1500)
    before = Person.objects.count(), Area.objects.count()
    old_ids = set(Person.objects.values_list("pk", flat=True)[:50])
    with pytest.raises(CommandError, match="--reset"):
        seed(1500, seed=2)
    assert (Person.objects.count(), Area.objects.count()) == before
    seed(1200, seed=2, reset=True)
    assert Person.objects.count() == 1200
    assert not Person.objects.filter(pk__in=old_ids).exists()
    assert get_user_model().objects.filter(username="grid").count() == 1
    # new rows made the ordinary way still get fresh ids after the bulk load
    Person.objects.create(area_code="5101", name="新人", resident_type=ResidentType.REGISTERED)


def test_reset_also_removes_a_city_loaded_some_other_way(city):
    seed(1000, reset=True)
    assert not Area.objects.filter(code__startswith="510105").exclude(level=Level.DISTRICT).exists()
    assert Person.objects.count() == 1000
    assert list(Area.objects.filter(level=Level.CITY).values_list("code", flat=True)) == [
        chengdu.CITY_CODE
    ]

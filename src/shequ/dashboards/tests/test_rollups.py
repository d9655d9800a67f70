"""Rollups: the full rebuild equals direct counts at every level; incremental updates follow
adds and moves; the result of incremental updates equals a fresh rebuild."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.db.models import Count

from shequ.areas.models import Area, Facility, FacilityKind, Place, PlaceKind
from shequ.dashboards import rollups
from shequ.dashboards.models import Rollup, RollupRun
from shequ.dashboards.providers.common import age_on, years_before
from shequ.people.choices import ResidenceKind, ResidentType, Sex
from shequ.people.models import Household, Person, Residence

pytestmark = pytest.mark.django_db


def cells(keys=None) -> dict:
    qs = Rollup.objects.all()
    if keys:
        qs = qs.filter(key__in=keys)
    return {(r.area_code, r.key, r.day, r.dim): r.value for r in qs if r.value}


def value(code, key, dim=""):
    row = Rollup.objects.filter(area_code=code, key=key, dim=dim).order_by("-day").first()
    return row.value if row else 0


def compound_of(place_code: str) -> str | None:
    for c in Place.objects.filter(kind=PlaceKind.COMPOUND).values_list("code", flat=True):
        if place_code.startswith(c):
            return c
    return None


def direct_counts(as_of: dt.date) -> dict:
    """The population numbers counted the plain way, person by person, for every area and
    compound: what the rollups must equal."""
    codes = list(Area.objects.values_list("code", flat=True))
    sizes = dict(Household.objects.annotate(n=Count("members")).values_list("pk", "n"))
    out: dict = {}

    def add(target, key, dim=""):
        out[(target, key, dim)] = out.get((target, key, dim), 0) + 1

    for p in Person.objects.select_related("dwelling"):
        targets = [c for c in codes if p.area_code.startswith(c)]
        if p.dwelling and compound_of(p.dwelling.code):
            targets.append(compound_of(p.dwelling.code))
        age = age_on(p.birth_date, as_of)
        for t in targets:
            add(t, "pop.residents")
            add(t, "pop.type", p.resident_type)
            if age is not None:
                add(t, "pop.age", f"{p.sex}:{min(age // 5, 20)}")
            if (
                p.birth_date
                and p.birth_date <= years_before(as_of, 60)
                and sizes.get(p.household_id) == 1
            ):
                add(t, "pop.elderly_alone")
    for h in Household.objects.select_related("dwelling"):
        targets = [c for c in codes if h.area_code.startswith(c)]
        if h.dwelling and compound_of(h.dwelling.code):
            targets.append(compound_of(h.dwelling.code))
        for t in targets:
            add(t, "pop.households")
    for f in Facility.objects.all():
        for t in (c for c in codes if f.area_code.startswith(c)):
            add(t, "fac.kind", f.kind)
    return out


def rolled(as_of) -> dict:
    keys = ["pop.residents", "pop.type", "pop.age", "pop.elderly_alone", "pop.households"]
    return {
        (r.area_code, r.key, r.dim): r.value
        for r in Rollup.objects.filter(key__in=[*keys, "fac.kind"])
        if r.value
    }


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """``with committed():`` runs the block's on-commit callbacks (the rollup updates) at its
    end, as a commit would (the test itself runs in one transaction)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def make_elderly_alone(city, *, area_index=0):
    """A 70-year-old living alone in a new household of an existing dwelling."""
    dwelling = city["dwellings"][area_index]
    household = Household.objects.create(
        number=f"HX{area_index}", area_code=dwelling.area_code, dwelling=dwelling
    )
    person = Person.objects.create(
        area_code=dwelling.area_code,
        name="王芳",
        sex=Sex.FEMALE,
        birth_date=dt.date(1950, 3, 1),
        resident_type=ResidentType.FLOATING,
        household=household,
        dwelling=dwelling,
    )
    return person, household


def test_rebuild_equals_direct_counts_on_the_test_city(city):
    make_elderly_alone(city)
    as_of = dt.date(2026, 6, 1)
    rollups.rebuild(as_of=as_of)
    expected = direct_counts(as_of)
    assert rolled(as_of) == expected
    # Spot checks a person can verify by hand: 32 + 1 residents, 16 + 1 households.
    assert value("5101", "pop.residents") == 33
    assert value("5101", "pop.households") == 17
    grid = city["dwellings"][0].area_code
    assert value(grid, "pop.residents") == 5
    assert value(grid[:12] + "C001", "pop.residents") == 5  # the compound of that grid
    assert value("5101", "pop.elderly_alone") == 1
    assert value("5101", "pop.type", "floating") == 1
    assert value("5101", "fac.kind", FacilityKind.HEALTH_CENTRE) == 2
    levels = set(Rollup.objects.values_list("level", flat=True))
    assert levels == {"city", "district", "street", "community", "grid", "compound"}
    assert RollupRun.objects.filter(module="population", as_of=as_of).exists()


def test_rebuild_replaces_and_is_idempotent(city):
    rollups.rebuild()
    first = {k: v for k, v in cells().items() if k[1] != "fresh.facilities"}  # rebuild time
    rollups.rebuild()
    assert {k: v for k, v in cells().items() if k[1] != "fresh.facilities"} == first


def test_residents_over_time_follow_residence_dates(city):
    as_of = dt.date(2026, 6, 15)
    person = city["persons"][0]
    Residence.objects.filter(person=person).update(start=dt.date(2026, 3, 10))
    Residence.objects.filter(person=city["persons"][1]).update(end=dt.date(2026, 5, 2))
    rollups.rebuild(as_of=as_of)
    series = dict(
        Rollup.objects.filter(area_code="5101", key="pop.residents_at").values_list("day", "value")
    )
    assert series[dt.date(2026, 2, 28)] == 31  # before the move-in, one fewer
    assert series[dt.date(2026, 3, 31)] == 32
    assert series[dt.date(2026, 4, 30)] == 32
    assert series[dt.date(2026, 5, 31)] == 31  # the other moved out on 2 May
    assert series[as_of] == 31
    assert len(series) == 24


def test_adding_and_moving_a_resident_updates_every_level(city, committed):
    rollups.rebuild()
    grid_a = city["dwellings"][0].area_code
    grid_b = city["dwellings"][-1].area_code  # the other district
    before_city = value("5101", "pop.residents")
    with committed():
        person, household = make_elderly_alone(city)
    assert value("5101", "pop.residents") == before_city + 1
    assert value(grid_a, "pop.residents") == 5
    assert value(grid_a[:6], "pop.elderly_alone") == 1
    assert value(grid_a, "pop.households") == 3

    # Moving the person (and the household) to the other district.
    target = city["dwellings"][-1]
    with committed():
        household.area_code, household.dwelling = target.area_code, target
        household.save()
        person.area_code, person.dwelling = target.area_code, target
        person.save()
    assert value(grid_a, "pop.residents") == 4
    assert value(grid_b, "pop.residents") == 5
    assert value(grid_a[:6], "pop.elderly_alone") == 0
    assert value(grid_b[:6], "pop.elderly_alone") == 1
    assert value("5101", "pop.residents") == before_city + 1

    # Joining a household of two: no longer alone, and the old household is gone.
    other = city["households"][-1]
    old = person.household
    with committed():
        person.household = other
        person.save()
        old.delete()
    assert value("5101", "pop.elderly_alone") == 0
    assert value(grid_b, "pop.households") == 2

    # A new residence shows in the series' current point; incremental equals a rebuild.
    with committed():
        Residence.objects.create(
            person=person, dwelling=target, kind=ResidenceKind.LIVING, area_code=target.area_code
        )
    keys = [
        "pop.residents",
        "pop.type",
        "pop.age",
        "pop.elderly_alone",
        "pop.households",
        "pop.residents_at",
    ]
    incremental = cells(keys)
    rollups.rebuild(["population"])
    assert cells(keys) == incremental
    # A deleted person leaves every count.
    with committed():
        person.delete()
    assert value("5101", "pop.residents") == before_city


def test_track_applies_on_commit_only(city, django_capture_on_commit_callbacks):
    from django.db import transaction

    rollups.rebuild()
    person = city["persons"][0]
    before = value("5101", "pop.type", "floating")

    class Boom(Exception):
        pass

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Boom),
        transaction.atomic(),
    ):
        with rollups.track(persons=[person.pk]):
            Person.objects.filter(pk=person.pk).update(resident_type=ResidentType.FLOATING)
        raise Boom
    assert callbacks == []  # rolled back: nothing scheduled
    assert value("5101", "pop.type", "floating") == before
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        transaction.atomic(),
        rollups.track(persons=[person.pk]),
    ):
        Person.objects.filter(pk=person.pk).update(resident_type=ResidentType.FLOATING)
    assert len(callbacks) == 1
    assert value("5101", "pop.type", "floating") == before + 1


def test_rebuild_command(city, capsys):
    call_command("rebuild_rollups", "--module", "facilities")
    assert "facilities:" in capsys.readouterr().out
    assert value("5101", "fac.kind", FacilityKind.HEALTH_CENTRE) == 2
    assert not Rollup.objects.filter(key="pop.residents").exists()
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="unknown module"):
        call_command("rebuild_rollups", "--module", "nope")
    with pytest.raises(CommandError, match="not a date"):
        call_command("rebuild_rollups", "--as-of", "2026-13-01")


def test_apply_adds_and_raises_cells_of_every_level_in_a_few_statements(city):
    """``apply`` adds a flow's change and keeps a maximum's greater value, on every level up
    to the city and on the compound a place lies in, creating the cells it lacks; its number
    of statements does not grow with the cells."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    dwelling = city["dwellings"][0]
    compound = compound_of(dwelling.code)
    assert compound
    grid = dwelling.area_code
    day = dt.date(2026, 5, 1)
    chain = [c for c in Area.objects.values_list("code", flat=True) if grid.startswith(c)]
    assert len(chain) >= 4  # city, district, street, community ...
    Rollup.objects.create(area_code=chain[0], level="city", day=day, key="t.count", value=10)
    Rollup.objects.create(area_code=chain[0], level="city", day=day, key="t.fresh", value=500)
    many = {
        (grid, dwelling.code if i == 0 else None, day, "t.count", f"d{i}"): ("add", 1)
        for i in range(40)
    }
    with CaptureQueriesContext(connection) as queries:
        changed = rollups.apply(
            {
                "population": {
                    (grid, dwelling.code, day, "t.count", ""): ("add", 3),
                    (grid, None, day, "t.fresh", ""): ("max", 200),
                    **many,
                },
                "facilities": {(grid, None, day, "t.fresh", "x"): ("max", 700)},
            }
        )
    written = [q for q in queries.captured_queries if "INSERT" in q["sql"]]
    assert len(written) == 2, [q["sql"][:80] for q in queries.captured_queries]  # add, max
    assert len(queries.captured_queries) <= 6  # levels, compounds, 2 upserts (+ savepoint)
    assert changed == len(chain) * (41 + 2) + 2  # 41 counts, 2 maxima; 2 compound counts
    assert Rollup.objects.get(area_code=chain[0], key="t.count", dim="").value == 13
    assert Rollup.objects.get(area_code=chain[0], key="t.fresh", dim="").value == 500
    for code in chain[1:]:
        assert Rollup.objects.get(area_code=code, key="t.count", dim="").value == 3
        assert Rollup.objects.get(area_code=code, key="t.fresh", dim="").value == 200
        assert Rollup.objects.get(area_code=code, key="t.fresh", dim="x").value == 700
    row = Rollup.objects.get(area_code=compound, key="t.count", dim="")
    assert (row.level, row.value) == ("compound", 3)
    assert Rollup.objects.get(area_code=compound, key="t.count", dim="d0").value == 1
    assert not Rollup.objects.filter(area_code=compound, key="t.count", dim="d1").exists()
    # Again: added again, the maximum kept.
    rollups.apply({"population": {(grid, None, day, "t.fresh", ""): ("max", 100),
                                  (grid, None, day, "t.count", ""): ("add", -1)}})  # fmt: skip
    assert Rollup.objects.get(area_code=chain[-1], key="t.fresh", dim="").value == 200
    assert Rollup.objects.get(area_code=chain[-1], key="t.count", dim="").value == 2
    assert Rollup.objects.get(area_code=chain[0], key="t.count", dim="").value == 12

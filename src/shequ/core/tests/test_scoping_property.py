"""Scoping as a property: for random trees, rows and role assignments, ``for_user`` returns
exactly the rows under the areas where one of the user's roles grants the permission.

The expectation is computed here in plain Python from the access matrix (``ROLE_PERMISSIONS``),
not with ``shequ.core.scoping``."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from shequ.areas.models import Area, Place
from shequ.core.models import RoleAssignment
from shequ.core.roles import ROLE_PERMISSIONS, Action, Role
from shequ.people.models import Person

DISTRICTS = ["510104", "510105", "510106", "510107"]


@st.composite
def trees(draw):
    """Area codes of a random city: districts › streets › communities › grids."""
    codes = ["5101"]
    for district in draw(st.lists(st.sampled_from(DISTRICTS), min_size=1, max_size=3, unique=True)):
        codes.append(district)
        for s in range(draw(st.integers(1, 2))):
            street = f"{district}{s + 1:03d}"
            codes.append(street)
            for c in range(draw(st.integers(0, 2))):
                community = f"{street}{c + 1:03d}"
                codes.append(community)
                codes += [f"{community}G{g + 1:02d}" for g in range(draw(st.integers(0, 2)))]
    return codes


@st.composite
def worlds(draw):
    codes = draw(trees())
    # Codes an assignment may name: any node, or an area that has no rows at all.
    assignable = st.sampled_from([*codes, "510199", "5102"])
    users = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "assignments": st.lists(
                        st.tuples(st.sampled_from(Role.values), assignable), max_size=3
                    ),
                    "active": st.booleans(),
                    "superuser": st.booleans(),
                }
            ),
            min_size=1,
            max_size=3,
        )
    )
    person_codes = draw(st.lists(st.sampled_from(codes), max_size=15))
    place_codes = draw(st.lists(st.sampled_from(codes[1:] or codes), max_size=8))
    action = draw(st.sampled_from(Action.values))
    return codes, users, person_codes, place_codes, action


def expected_codes(assignments, perm: str, row_codes):
    """Which row codes the user may see: under an area of a role granting ``perm``."""
    granted = [code for role, code in assignments if perm in ROLE_PERMISSIONS[role]]
    return {c for c in row_codes if any(c.startswith(g) for g in granted)}


class TestScopingProperty(TestCase):
    @settings(max_examples=40, deadline=None)
    @given(world=worlds())
    def test_for_user_is_exactly_the_rows_under_the_granting_assignments(self, world):
        codes, users, person_codes, place_codes, action = world
        Area.objects.bulk_create(
            Area(code=code, level="city", name=code) for code in codes
        )  # the level does not matter to scoping
        persons = Person.objects.bulk_create(
            Person(area_code=code, name=f"P{i}", resident_type="registered")
            for i, code in enumerate(person_codes)
        )
        places = Place.objects.bulk_create(
            Place(code=f"{code}C{i:03d}", kind="compound", name="C", area_code=code)
            for i, code in enumerate(place_codes)
        )
        User = get_user_model()
        for n, spec in enumerate(users):
            user = User.objects.create(
                username=f"u{n}", is_active=spec["active"], is_superuser=spec["superuser"]
            )
            pairs = set(spec["assignments"])
            RoleAssignment.objects.bulk_create(
                RoleAssignment(user=user, role=role, area_code=code) for role, code in pairs
            )
            live = pairs if spec["active"] else set()  # an inactive account sees nothing
            for model, rows, code_of in (
                (Person, persons, lambda r: r.area_code),
                (Place, places, lambda r: r.area_code),
                (Area, Area.objects.all(), lambda r: r.code),
            ):
                perm = f"{model._meta.app_label}.{action}_{model._meta.model_name}"
                allowed = expected_codes(live, perm, {code_of(r) for r in rows})
                expected = {r.pk for r in rows if code_of(r) in allowed}
                got = set(model.objects.for_user(user, action).values_list("pk", flat=True))
                assert got == expected, (model.__name__, action, pairs)
                assert model.user_may(user, action) == any(
                    perm in ROLE_PERMISSIONS[role] for role, _code in live
                )


# --- the prefix query is an index search -------------------------------------------------------


@pytest.mark.django_db
def test_under_is_an_index_range_search():
    queryset = Person.objects.under("510104")
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            # settings turn on case_sensitive_like; without it SQLite cannot use the index.
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
            assert "SEARCH people_person USING INDEX" in plan, plan
            assert "area_code>? AND area_code<?" in plan, plan
        else:
            assert connection.vendor == "postgresql"
            cursor.execute(
                "SELECT indexdef FROM pg_indexes WHERE tablename = 'people_person' "
                "AND indexdef LIKE '%%varchar_pattern_ops%%'"
            )
            definitions = [row[0] for row in cursor.fetchall()]
            assert any("(area_code varchar_pattern_ops)" in d for d in definitions), definitions
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + sql, params)
            plan = " ".join(row[0] for row in cursor.fetchall())
            assert "Index" in plan and "area_code" in plan and "~>=~" in plan, plan

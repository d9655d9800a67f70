"""``core.rows.insert``: the written-out INSERT of the hot write paths."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shequ.core import rows
from shequ.core.models import RoleAssignment

pytestmark = pytest.mark.django_db

COLUMNS = ("username", "password", "is_superuser", "first_name", "last_name", "email",
           "is_staff", "is_active", "date_joined", "display_name")  # fmt: skip


def user_row(name, joined):
    return (name, "!", False, "", "", "", False, True, joined, name.upper())


def test_insert_skips_clashing_rows_and_returns_the_written_ones(monkeypatch):
    User = get_user_model()
    User.objects.create(username="kept", display_name="old")
    joined = dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC)
    monkeypatch.setattr(rows, "CHUNK", 2)  # three statements for five rows
    with CaptureQueriesContext(connection) as queries:
        written = rows.insert(
            User,
            COLUMNS,
            [user_row(n, joined) for n in ("a", "kept", "b", "c", "d")],
            skip_conflicts_on="username",
            returning=("id", "username"),
        )
    assert len(queries.captured_queries) == 3
    assert sorted(name for _pk, name in written) == ["a", "b", "c", "d"]
    assert User.objects.get(username="kept").display_name == "old"  # not overwritten
    a = User.objects.get(pk=dict((n, pk) for pk, n in written)["a"])
    assert (a.display_name, a.is_active, a.is_staff, a.date_joined) == ("A", True, False, joined)


def test_insert_takes_a_foreign_key_as_the_related_id_and_refuses_a_clash_without_skip():
    from django.db import IntegrityError, transaction

    User = get_user_model()
    user = User.objects.create(username="u")
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)  # every value given: no defaults applied
    assert rows.insert(RoleAssignment, ("user", "role", "area_code", "created_at"),
                       [(user.pk, "grid_worker", "5101", now)]) == []  # fmt: skip
    assert list(user.assignments.values_list("role", "area_code")) == [("grid_worker", "5101")]
    with pytest.raises(IntegrityError), transaction.atomic():
        rows.insert(User, COLUMNS, [user_row("u", now)])

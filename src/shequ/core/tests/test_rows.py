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


def test_create_writes_a_new_row_as_save_would_in_one_statement():
    """``rows.create``: the fields' own preparation (``auto_now_add``), the signals' receivers
    told of a created row, the id set, and the instance saved; append-only rows use it."""
    from django.db.models.signals import post_save, pre_save
    from django.utils import timezone

    from shequ.core.models import PersonalDataAccess

    user = get_user_model().objects.create(username="steward")
    heard = []

    def before(sender, instance, **kw):
        heard.append(("pre", instance.pk, instance._state.adding))

    def after(sender, instance, created, **kw):
        heard.append(("post", instance.pk, created, instance._state.adding))

    pre_save.connect(before, sender=PersonalDataAccess)
    post_save.connect(after, sender=PersonalDataAccess)
    try:
        started = timezone.now()
        access = PersonalDataAccess(
            user=user, model="people.person", object_id="7", area_code="5101",
            fields="phone", reason="回访",
        )  # fmt: skip
        with CaptureQueriesContext(connection) as queries:
            rows.create(access)
    finally:
        pre_save.disconnect(before, sender=PersonalDataAccess)
        post_save.disconnect(after, sender=PersonalDataAccess)
    table = PersonalDataAccess._meta.db_table
    # One statement for the row (the rest are the audit trail's, which hears of the reveal).
    assert [q["sql"][:40] for q in queries.captured_queries if table in q["sql"]] == [
        f'INSERT INTO "{table}" ("user_id", "at", '[:40]
    ]
    assert access.pk is not None and access.at >= started
    assert heard == [("pre", None, True), ("post", access.pk, True, False)]
    stored = PersonalDataAccess.objects.get(pk=access.pk)
    assert (stored.user, stored.at, stored.reason, stored.channel) == (
        user,
        access.at,
        "回访",
        "web",
    )
    with pytest.raises(PermissionError):
        access.save()  # append-only: written once


def test_create_refuses_what_only_the_orm_can_write():
    from django.db.models import F

    user = get_user_model()(username="x", password="!", display_name=F("username"))
    with pytest.raises(TypeError, match="display_name"):
        rows.create(user)
    assert not get_user_model().objects.filter(username="x").exists()

"""The audit trail: what is recorded, by whom, never a value; append-only; retention."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory
from django.utils import timezone

from shequ.core import idnumber
from shequ.core.leakscan import find
from shequ.core.models import PersonalDataAccess, RoleAssignment
from shequ.core.roles import Role
from shequ.governance import services
from shequ.governance.audit import record
from shequ.governance.context import AuditContextMiddleware, acting
from shequ.governance.models import AuditEvent, AuditKind
from shequ.people import services as people_services
from shequ.people.models import Batch, BatchStatus, Person, Source

pytestmark = pytest.mark.django_db

NEW_ID = idnumber.make("510104", dt.date(1988, 8, 8), 77)
NEW_PHONE = "13912345678"


def raw_audit_text() -> str:
    """Every column of every audit row, as the database holds it."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {AuditEvent._meta.db_table}")
        return "\n".join(" ".join(str(v) for v in row) for row in cursor.fetchall())


def events(**filters):
    return list(AuditEvent.objects.filter(**filters).order_by("id"))


# --------------------------------------------------------------------------- what is recorded
def test_a_personal_data_change_records_who_where_and_field_names_never_values(city, make_user):
    person = city["persons"][0]
    old_id, old_phone = person.id_number, person.phone
    steward = make_user("steward", Role.DATA_STEWARD, "510104")
    before = AuditEvent.objects.count()
    with acting("correction", user=steward):
        person.id_number, person.phone, person.ethnicity = NEW_ID, NEW_PHONE, "02"
        person.save()
    (event,) = AuditEvent.objects.all()[: AuditEvent.objects.count() - before]
    assert event.kind == AuditKind.CHANGED
    assert (event.object_type, event.object_id, event.area_code) == (
        "people.person",
        str(person.pk),
        person.area_code,
    )
    assert event.changed_fields == ["ethnicity", "id_number", "phone"]
    assert event.actor == steward
    assert event.actor_label == "steward (correction)"
    assert event.actor_roles == "data_steward@510104"
    text = raw_audit_text()
    for value in (old_id, old_phone, NEW_ID, NEW_PHONE):
        assert value not in text
    assert find(text) == []


def test_saving_without_a_change_records_nothing(city):
    person = city["persons"][0]
    before = AuditEvent.objects.count()
    person.save()
    Person.objects.get(pk=person.pk).save()
    assert AuditEvent.objects.count() == before


def test_create_and_delete_are_recorded(city):
    grid = city["grids"][0]
    person = Person.objects.create(
        area_code=grid.code, name="新居民", resident_type="floating", phone=NEW_PHONE
    )
    (created,) = events(kind=AuditKind.CREATED, object_id=str(person.pk))
    assert created.object_type == "people.person"
    assert created.changed_fields == ["name", "phone"]  # the personal fields filled, by name
    pk = person.pk
    person.delete()
    (deleted,) = events(kind=AuditKind.DELETED, object_id=str(pk))
    assert deleted.area_code == grid.code
    assert NEW_PHONE not in raw_audit_text()


def test_a_case_is_audited_when_a_personal_field_changes_only(city):
    from shequ.cases.testing import access_cases

    case, _other = access_cases(city)
    (created,) = events(kind=AuditKind.CREATED, object_type="cases.case", object_id=str(case.pk))
    assert "reporter_phone" in created.changed_fields
    before = AuditEvent.objects.count()
    case.address = "人民路1号门口"
    case.save()
    assert AuditEvent.objects.count() == before  # not personal: the case's own timeline
    case.reporter_phone = NEW_PHONE
    case.save()
    (changed,) = events(kind=AuditKind.CHANGED, object_type="cases.case")
    assert changed.changed_fields == ["reporter_phone"]
    assert find(raw_audit_text()) == []


def test_the_actor_is_the_signed_in_user_of_the_request(city, make_user):
    worker = make_user("worker", Role.COMMUNITY_WORKER, "510104001001")
    person = city["persons"][0]
    request = RequestFactory().post("/people/")
    request.user = worker

    def view(_request):
        person.phone = NEW_PHONE
        person.save()
        return None

    AuditContextMiddleware(view)(request)
    (event,) = events(kind=AuditKind.CHANGED)
    assert (event.actor, event.actor_label) == (worker, "worker")
    assert event.actor_roles == "community_worker@510104001001"
    # Outside a request and any named context: "system" (tests are not a management command).
    person.phone = "13912340000"
    person.save()
    assert events(kind=AuditKind.CHANGED)[-1].actor_label == "system"


def test_a_resident_without_an_account_is_anonymous(city):
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().post("/cases/report/")
    request.user = AnonymousUser()

    def view(_request):
        Person.objects.create(
            area_code=city["grids"][0].code, name="匿名", resident_type="floating"
        )

    AuditContextMiddleware(view)(request)
    assert events(kind=AuditKind.CREATED)[-1].actor_label == "anonymous"


def test_merge_decisions_and_reveals_and_roles_are_recorded(city, make_user):
    steward = make_user("steward", Role.DATA_STEWARD, "510104")
    a, b = city["persons"][0], city["persons"][1]
    people_services.merge_persons(a.pk, [b.pk], user=steward, reason="同一人, 身份证一致")
    (decision,) = events(kind=AuditKind.LINK_DECISION)
    assert decision.actor == steward
    assert decision.reason == "同一人, 身份证一致"
    assert decision.detail.startswith("merge: person")
    assert events(kind=AuditKind.DELETED, object_id=str(b.pk))  # the merged-away person

    PersonalDataAccess.objects.create(
        user=steward,
        model="people.person",
        object_id=str(a.pk),
        area_code=a.area_code,
        fields="id_number,phone",
        reason="核实身份",
        channel="api",
    )
    (reveal,) = events(kind=AuditKind.REVEAL)
    assert (reveal.actor, reveal.changed_fields, reveal.reason) == (
        steward,
        ["id_number", "phone"],
        "核实身份",
    )

    assignment = RoleAssignment.objects.create(
        user=steward, role=Role.GRID_WORKER, area_code=city["grids"][0].code
    )
    assignment.area_code = city["grids"][1].code
    assignment.save()
    assignment.delete()
    kinds = [(e.kind, e.detail) for e in events(object_type="core.user", object_id=steward.pk)]
    grid0, grid1 = city["grids"][0].code, city["grids"][1].code
    assert kinds[-4:] == [
        (AuditKind.ROLE_GRANTED, f"grid_worker @ {grid0}"),
        (AuditKind.ROLE_REVOKED, f"grid_worker @ {grid0}"),
        (AuditKind.ROLE_GRANTED, f"grid_worker @ {grid1}"),
        (AuditKind.ROLE_REVOKED, f"grid_worker @ {grid1}"),
    ]


def test_an_import_is_recorded_at_batch_level(city, make_user):
    steward = make_user("steward", Role.DATA_STEWARD, "510104")
    source = Source.objects.create(code="police_hukou")
    batch = Batch.objects.create(
        source=source,
        file_name="张伟-13800138000.csv",
        sha256="c" * 64,
        file_format="csv",
        area_code="510104001",
        created_by=steward,
    )
    batch.status, batch.rows, batch.new_persons = BatchStatus.DONE, 120, 7
    batch.save()
    batch.progress = 100
    batch.save()  # no new status: nothing more
    started, finished = events(kind=AuditKind.IMPORT)
    assert started.actor == steward and started.area_code == "510104001"
    assert finished.detail == ("police_hukou: done, 120 rows, 0 flagged, 0 linked, 7 new persons")
    assert "13800138000" not in raw_audit_text()  # the file name is not recorded


def test_a_lockout_is_recorded(client, make_user, city, settings):
    make_user("gw")
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "gw", "password": "wrong"})
    (event,) = events(kind=AuditKind.LOCKOUT)
    assert "'gw'" in event.detail
    assert event.area_code == "5101"  # filed at the city: the city's data stewards see it


def test_free_text_is_scrubbed_of_id_numbers_and_phones(city):
    event = record(
        AuditKind.LINK_DECISION,
        reason=f"电话 {NEW_PHONE}，证件 {NEW_ID}",
        detail=f"typed {NEW_PHONE}",
    )
    event.refresh_from_db()
    assert NEW_PHONE not in event.reason and NEW_ID not in event.reason
    assert "139****5678" in event.reason
    assert find(raw_audit_text()) == []


def test_changed_fields_take_names_only(city):
    with pytest.raises(ValueError):
        record(AuditKind.CHANGED, fields=[NEW_PHONE])
    with pytest.raises(ValueError):
        record(AuditKind.CHANGED, fields=["Phone Number"])


# --------------------------------------------------------------------------- append-only
def test_audit_rows_are_append_only_in_the_orm(city):
    event = record(AuditKind.PURGE, detail="x")
    event.detail = "changed"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(detail="changed")
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).detail == "x"


def test_the_database_refuses_to_update_audit_rows(city):
    event = record(AuditKind.PURGE, detail="x")
    table = AuditEvent._meta.db_table
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET detail = 'changed' WHERE id = %s", [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).detail == "x"


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="deletes are refused by a PostgreSQL trigger"
)
def test_postgresql_refuses_to_delete_audit_rows_outside_the_purge(city):
    event = record(AuditKind.PURGE, detail="x")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AuditEvent._meta.db_table} WHERE id = %s", [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_the_audit_trail_keeps_only_the_indexes_its_filters_use(city):
    """Every audited write maintains them: exact-match filters need no LIKE twins, and the
    object type is audit_object's first column (migration 0003)."""
    with connection.cursor() as cursor:
        found = {
            index: info["columns"]
            for index, info in connection.introspection.get_constraints(
                cursor, AuditEvent._meta.db_table
            ).items()
            if info["index"] and not info["primary_key"]
        }
    assert sorted(map(tuple, found.values())) == sorted(
        [
            ("actor_id",),
            ("actor_label",),
            ("area_code",),
            ("at",),
            ("kind",),
            ("object_type", "object_id"),
        ]
        + ([("area_code",)] if connection.vendor == "postgresql" else [])  # its prefix LIKE
    )
    events = AuditEvent.objects.filter(actor_label="system", kind=AuditKind.PURGE)
    record(AuditKind.PURGE, detail="found")
    assert [e.detail for e in events] == ["found"]


# --------------------------------------------------------------------------- retention
def _event_at(days_ago: int) -> AuditEvent:
    return AuditEvent.objects.create(
        at=timezone.now() - dt.timedelta(days=days_ago),
        actor_label="system",
        kind=AuditKind.CHANGED,
        area_code="5101",
    )


def test_purge_deletes_events_older_than_the_retention_and_records_its_run(city, settings):
    settings.AUDIT_RETENTION_DAYS = 200
    old, kept = _event_at(201), _event_at(199)
    with acting("command:purge_audit"):
        assert services.purge_audit() == 1
    assert not AuditEvent.objects.filter(pk=old.pk).exists()
    assert AuditEvent.objects.filter(pk=kept.pk).exists()
    run = AuditEvent.objects.filter(kind=AuditKind.PURGE).get()
    assert run.actor_label == "command:purge_audit"
    assert run.detail.startswith("1 events before") and "(kept 200 days)" in run.detail


def test_purge_refuses_a_retention_under_180_days(city, settings):
    _event_at(179)
    settings.AUDIT_RETENTION_DAYS = 179
    with pytest.raises(CommandError, match="at least 180 days"):
        call_command("purge_audit")
    with pytest.raises(ValueError, match="AUDIT_RETENTION_DAYS is 90"):
        services.purge_audit(days=90)
    assert AuditEvent.objects.filter(kind=AuditKind.PURGE).count() == 0
    assert AuditEvent.objects.count() > 1  # nothing deleted


def test_the_command_and_the_daily_job_purge(city, settings, capsys):
    settings.AUDIT_RETENTION_DAYS = 365
    _event_at(400)
    call_command("purge_audit")
    assert "1 audit events older than 365 days deleted." in capsys.readouterr().out
    from shequ.governance.tasks import purge_audit_daily

    _event_at(366)
    purge_audit_daily.call_local()
    runs = events(kind=AuditKind.PURGE)
    assert [r.actor_label for r in runs] == ["command:purge_audit", "task:purge_audit"]
    assert runs[-1].detail.startswith("1 events before")


def test_a_user_who_acted_cannot_be_deleted_only_deactivated(city, make_user):
    from django.db.models import ProtectedError

    steward = make_user("steward", Role.DATA_STEWARD, "510104")
    record(AuditKind.LINK_DECISION, reason="合并重复", actor=steward, area_code="510104")
    with pytest.raises(ProtectedError):
        steward.delete()
    assert AuditEvent.objects.filter(actor=steward).count() == 1

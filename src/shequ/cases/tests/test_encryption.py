"""The reporter's contact is encrypted at rest: no plain phone or e-mail in a database row,
exact lookup by keyed hash (hotline caller, tracking page), the migration encrypts old rows."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps as django_apps
from django.core.cache import cache
from django.core.exceptions import FieldError
from django.db import connection
from django.urls import reverse

from shequ.cases.models import Case
from shequ.core import crypto, personal
from shequ.core.leakscan import find
from shequ.core.roles import Role

pytestmark = pytest.mark.django_db

PHONE, EMAIL = "13912345678", "Wang.XM@example.com"


@pytest.fixture(autouse=True)
def _clear_rate_limits():
    cache.clear()


def raw_rows(table: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
        return [" ".join(str(v) for v in row) for row in cursor.fetchall()]


def raw_contact(case) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reporter_phone, reporter_email, reporter_phone_hash, reporter_email_hash "
            "FROM cases_case WHERE id = %s",
            [case.pk],
        )
        return cursor.fetchone()


def test_no_plain_contact_in_any_row_of_the_cases_tables(new_case):
    case = new_case(reporter_phone="139-1234-5678", reporter_email=EMAIL)
    new_case(text="路灯晚上不亮，走路很黑", reporter_phone="028 8555 1234")
    stored_phone, stored_email, phone_hash, email_hash = raw_contact(case)
    assert stored_phone.startswith(crypto.PREFIX) and stored_email.startswith(crypto.PREFIX)
    assert (phone_hash, email_hash) == (
        crypto.hash_phone(PHONE),
        crypto.keyed_hash("email", EMAIL),
    )
    scanned = 0
    for model in django_apps.get_app_config("cases").get_models():
        for text in raw_rows(model._meta.db_table):
            assert not find(text), f"{model._meta.label}: plain phone in a row"
            for secret in (PHONE, "02885551234", EMAIL, EMAIL.lower(), "example.com"):
                assert secret not in text, f"{model._meta.label}: {secret} in a row"
            scanned += 1
    assert scanned > 2
    # ... while the ORM reads the plain values back, and everything shown is masked.
    fresh = Case.objects.get(pk=case.pk)
    assert (fresh.reporter_phone, fresh.reporter_email) == (PHONE, EMAIL)
    assert personal.display(fresh, "reporter_phone") == "139****5678"
    assert set(personal.revealable_fields(Case)) == {
        "reporter_name",
        "reporter_phone",
        "reporter_email",
    }


def test_plain_lookup_refuses_and_the_hash_finds(new_case):
    case = new_case(reporter_phone=PHONE)
    with pytest.raises(FieldError):
        list(Case.objects.filter(reporter_phone=PHONE))
    with pytest.raises(FieldError):
        list(Case.objects.filter(reporter_email__icontains="example"))
    assert list(Case.objects.filter(reporter_phone_hash=crypto.hash_phone(PHONE))) == [case]
    assert Case.objects.filter(reporter_email="").count() == 1  # none given: stays empty
    assert raw_contact(case)[3] == ""


def test_tracking_finds_the_case_by_number_and_hashed_contact(client, new_case):
    case = new_case(reporter_phone=PHONE, reporter_email=EMAIL)
    other = new_case(text="电梯坏了老人下不了楼", reporter_phone="13700001111")
    url = reverse("cases:track")
    target = reverse("cases:track_case", args=[case.token])
    assert client.post(url, {"number": case.number, "contact": "+86 139 1234 5678"})[
        "Location"
    ] == (target)
    assert client.post(url, {"number": case.number, "contact": " wang.xm@EXAMPLE.com "})[
        "Location"
    ] == (target)
    # Another reporter's contact, an unknown address or no contact at all: not found.
    for contact in ("13700001111", "li@example.com", "not a contact"):
        page = client.post(url, {"number": case.number, "contact": contact})
        assert page.status_code == 200, contact
    assert client.post(url, {"number": other.number, "contact": "13700001111"}).status_code == 302


def test_hotline_finds_the_callers_cases_by_hash(client, new_case, make_user):
    mine = new_case(reporter_phone=PHONE)
    new_case(text="噪音很大晚上睡不着", reporter_phone="13700001111")
    client.force_login(make_user("op", Role.CITY_OPERATOR, "5101"))
    page = client.post(reverse("cases:hotline"), {"do": "lookup", "phone": "139 1234 5678"})
    assert [c.pk for c in page.context["caller_cases"]] == [mine.pk]


def test_the_migration_encrypts_rows_written_before_it(new_case):
    case = new_case(reporter_phone=PHONE, reporter_email=EMAIL)
    with connection.cursor() as cursor:  # as the row was before 0002: plain, no hashes
        cursor.execute(
            "UPDATE cases_case SET reporter_phone = %s, reporter_email = %s, "
            "reporter_phone_hash = '', reporter_email_hash = '' WHERE id = %s",
            [PHONE, EMAIL, case.pk],
        )
    assert Case.objects.get(pk=case.pk).reporter_phone == PHONE  # legacy plain still reads
    migration = importlib.import_module("shequ.cases.migrations.0002_encrypt_reporter_contact")
    (run,) = [op for op in migration.Migration.operations if hasattr(op, "code")]
    run.code(django_apps, connection.schema_editor())
    stored_phone, stored_email, phone_hash, email_hash = raw_contact(case)
    assert PHONE not in stored_phone and EMAIL not in stored_email
    assert crypto.key_id_of(stored_phone) == crypto.current_key_id()
    assert phone_hash == crypto.hash_phone(PHONE)
    assert Case.objects.get(reporter_phone_hash=phone_hash).pk == case.pk
    assert email_hash == crypto.keyed_hash("email", EMAIL.lower())
    fresh = Case.objects.get(pk=case.pk)
    assert (fresh.reporter_phone, fresh.reporter_email) == (PHONE, EMAIL)

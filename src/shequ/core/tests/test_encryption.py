"""Encryption at rest: no plain ID number or phone in a database row; lookup by keyed hash;
key rotation; search by ID or phone through POST only, scoped and rate-limited."""

from __future__ import annotations

import base64
import os

import pytest
from django.apps import apps
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import connection
from rest_framework.test import APIClient

from shequ.core import crypto
from shequ.core.crypto import hash_id, hash_phone
from shequ.core.leakscan import find
from shequ.core.rekey import encrypted_fields
from shequ.core.roles import Role
from shequ.people.models import Person, RawRecord

pytestmark = pytest.mark.django_db

PERSONAL_APPS = ("core", "people", "campaigns")


def raw_rows(model) -> list[tuple]:
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table}")
        return cursor.fetchall()


def test_database_rows_hold_no_plain_id_number_or_phone(city):
    from shequ.people.testing import PEOPLE, batch_pair

    person = city["persons"][0]
    batch = batch_pair(city)[0]
    RawRecord.objects.create(
        batch=batch,
        source=batch.source,
        row=2,
        record_id="R1",
        raw={"GMSFHM": PEOPLE[0][3], "mobile": PEOPLE[0][4]},
        std={"id": PEOPLE[0][3]},
        area_code=person.area_code,
        id_number=PEOPLE[0][3],
        phone=PEOPLE[0][4],
    )
    secrets = {p.id_number for p in city["persons"]} | {p.phone for p in city["persons"]}
    secrets |= {PEOPLE[0][3], PEOPLE[0][4]}
    scanned = 0
    for model in apps.get_models():
        if model._meta.app_label not in PERSONAL_APPS:
            continue
        for row in raw_rows(model):
            text = " ".join(str(v) for v in row)
            assert not find(text), f"{model._meta.label}: plain personal data in a row"
            assert not any(s in text for s in secrets), model._meta.label
            scanned += 1
    assert scanned > len(city["persons"])
    # ... while the ORM reads the plain values back.
    fresh = Person.objects.get(pk=person.pk)
    assert (fresh.id_number, fresh.phone) == (person.id_number, person.phone)
    record = RawRecord.objects.get(record_id="R1")
    assert record.raw["GMSFHM"] == PEOPLE[0][3] and record.phone == PEOPLE[0][4]


def test_every_encrypted_field_is_a_registered_personal_field():
    from shequ.core import personal

    for model in apps.get_models():
        for field in encrypted_fields(model):
            if field.name in ("raw", "std"):
                continue  # whole rows as read: they hold the registered fields
            assert field.name in personal.fields_of(model), f"{model._meta.label}.{field.name}"


def test_lookup_is_by_keyed_hash_and_a_plain_lookup_refuses(city):
    person = city["persons"][3]
    assert Person.objects.get(id_number_hash=hash_id(person.id_number.lower())) == person
    assert Person.objects.get(phone_hash=hash_phone(f" {person.phone} ")) == person
    assert len(person.id_number_hash) == 64 and person.id_number not in person.id_number_hash
    with pytest.raises(FieldError):
        list(Person.objects.filter(id_number=person.id_number))
    with pytest.raises(FieldError):
        list(Person.objects.filter(phone__startswith="139"))
    assert Person.objects.filter(phone="").count() == 0  # empty is still found


def test_ciphertexts_differ_and_carry_the_key_id():
    a, b = crypto.encrypt("13912345678"), crypto.encrypt("13912345678")
    assert a != b and crypto.decrypt(a) == crypto.decrypt(b) == "13912345678"
    assert crypto.key_id_of(a) == crypto.current_key_id()
    assert crypto.encrypt("") == "" and crypto.decrypt("") == ""


def test_rotation_re_encrypts_under_the_new_key(city, settings):
    person = city["persons"][0]
    old = settings.SHEQU_DATA_KEY
    new = "k2:" + base64.urlsafe_b64encode(os.urandom(32)).decode()
    settings.SHEQU_DATA_KEY = f"{new},{old}"
    call_command("rotate_data_key", batch=3, verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, phone FROM people_person")
        stored = cursor.fetchall()
    assert {crypto.key_id_of(v) for row in stored for v in row if v} == {"k2"}
    settings.SHEQU_DATA_KEY = new  # the old key is gone: everything still reads
    fresh = Person.objects.get(pk=person.pk)
    assert (fresh.id_number, fresh.phone) == (person.id_number, person.phone)
    assert Person.objects.get(id_number_hash=hash_id(person.id_number)) == fresh


class TestSearch:
    url = "/api/v1/persons/search/"

    def client(self, user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    def test_search_by_id_number_or_phone_in_scope_masked(self, city, make_user):
        inside, outside = city["persons"][0], city["persons"][-1]
        client = self.client(make_user("gw", Role.GRID_WORKER, inside.area_code))
        response = client.post(self.url, {"id_number": inside.id_number}, format="json")
        assert response.status_code == 200
        assert [row["id"] for row in response.data] == [inside.pk]
        assert "*" in response.data[0]["id_number"]
        response = client.post(self.url, {"phone": inside.phone}, format="json")
        assert [row["id"] for row in response.data] == [inside.pk]
        # Out of scope: nothing found, exactly like a number nobody has.
        response = client.post(self.url, {"id_number": outside.id_number}, format="json")
        assert response.status_code == 200 and response.data == []
        assert client.post(self.url, {}, format="json").status_code == 400

    def test_search_access_and_no_get(self, city, make_user):
        person = city["persons"][0]
        assert APIClient().post(self.url, {"phone": person.phone}).status_code == 401
        handler = make_user("dept", Role.DEPARTMENT_HANDLER, "5101")
        assert self.client(handler).post(self.url, {"phone": person.phone}).status_code == 403
        gw = make_user("gw", Role.GRID_WORKER, person.area_code)
        assert self.client(gw).get(self.url).status_code == 405

    def test_search_is_rate_limited(self, city, make_user, settings):
        from django.core.cache import cache

        cache.clear()
        settings.SHEQU_RATE_LIMITS = {"search": (3, 60)}
        person = city["persons"][0]
        client = self.client(make_user("gw", Role.GRID_WORKER, person.area_code))
        codes = [client.post(self.url, {"phone": person.phone}).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        cache.clear()


def test_keyed_hashes_have_one_plain_index_each():
    """Hashes are looked up exactly: each has a plain index from Meta.indexes, and on
    PostgreSQL no LIKE (pattern_ops) twin that every write would pay for."""
    from shequ.core.fields import hash_fields

    models_with_hashes = [m for m in apps.get_models() if hash_fields(m)]
    assert {m._meta.label for m in models_with_hashes} >= {"people.Person", "cases.Case"}
    with connection.cursor() as cursor:
        for model in models_with_hashes:
            constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
            for field in hash_fields(model):
                indexes = [
                    (name, c)
                    for name, c in constraints.items()
                    if c["index"] and c["columns"] == [field.column]
                ]
                assert len(indexes) == 1, (model._meta.label, field.name, indexes)
                assert not indexes[0][0].endswith("_like")
                assert not indexes[0][1]["unique"]


def test_a_keyed_hash_indexed_with_db_index_or_not_at_all_fails_the_check():
    from django.db import models
    from django.test.utils import isolate_apps

    from shequ.core.fields import KeyedHashField

    with isolate_apps("shequ.core"):

        class Twin(models.Model):  # noqa: DJ008
            phone = models.CharField(max_length=20)
            phone_hash = KeyedHashField(source="phone", kind="phone", db_index=True)

            class Meta:
                app_label = "core"

        class Bare(models.Model):  # noqa: DJ008
            phone = models.CharField(max_length=20)
            phone_hash = KeyedHashField(source="phone", kind="phone")

            class Meta:
                app_label = "core"

        class Right(models.Model):  # noqa: DJ008
            phone = models.CharField(max_length=20)
            phone_hash = KeyedHashField(source="phone", kind="phone")

            class Meta:
                app_label = "core"
                indexes = [models.Index(fields=["phone_hash"], name="right_phone_hash")]

        twin = Twin._meta.get_field("phone_hash").check()
        bare = Bare._meta.get_field("phone_hash").check()
        right = Right._meta.get_field("phone_hash").check()
    assert [e.id for e in twin] == ["shequ.E001"] and "Twin.phone_hash" in twin[0].msg
    assert [e.id for e in bare] == ["shequ.E002"] and "Meta.indexes" in bare[0].msg
    assert right == []

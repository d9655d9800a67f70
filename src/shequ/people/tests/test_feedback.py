"""Feedback to sources: records that disagree with the golden record, masked unless revealed."""

import csv
import io

import pytest
from django.core.management import call_command

from shequ.core.models import PersonalDataAccess
from shequ.core.roles import Role
from shequ.people.ingest import ingest_file
from shequ.people.testing import (
    CLINIC_COLUMNS,
    POLICE_COLUMNS,
    clinic_rows,
    police_rows,
    population,
    write_csv,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def lists(city, tmp_path):
    people = population(160)
    ingest_file("police_hukou", write_csv(tmp_path / "p.csv", POLICE_COLUMNS, police_rows(people)))
    rows = clinic_rows(people[:40], first_visit="20230301")
    # The same patient registered twice, earlier with another phone.
    dup = dict(rows[0], patient_no="MZ0099", first_visit="20190101", mobile="13312345678")
    ingest_file("clinic", write_csv(tmp_path / "c.csv", CLINIC_COLUMNS, [*rows, dup]))
    return people


def parse(text):
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def test_feedback_lists_disagreements_masked(lists, make_user, client):
    client.force_login(make_user("cw", Role.COMMUNITY_WORKER, "510104001001"))
    assert client.get("/people/sources/clinic/feedback.csv").status_code == 403
    client.force_login(make_user("steward", Role.DATA_STEWARD, "5101"))
    rows = parse(client.get("/people/sources/clinic/feedback.csv").content.decode("utf-8"))
    found = {(r["record_id"], r["field"]) for r in rows}
    assert ("MZ0099", "phone") in found  # the older phone, not the golden one
    assert ("MZ0001", "record_id") in found  # the later registration: a likely duplicate
    text = client.get("/people/sources/clinic/feedback.csv").content.decode("utf-8")
    assert "13312345678" not in text and "133****5678" in text


def test_feedback_reveal_is_recorded_and_the_command_masks(lists, make_user, client, tmp_path):
    steward = make_user("steward", Role.DATA_STEWARD, "5101")
    client.force_login(steward)
    assert client.post("/people/sources/clinic/feedback.csv", {"reason": ""}).status_code == 400
    response = client.post("/people/sources/clinic/feedback.csv", {"reason": "send to clinic"})
    assert response.status_code == 200
    assert "13312345678" in response.content.decode("utf-8")
    access = PersonalDataAccess.objects.get()
    assert (access.user, access.object_id) == (steward, "clinic")
    out = tmp_path / "fb.csv"
    call_command("source_feedback", "clinic", "--out", str(out), stdout=io.StringIO())
    rows = parse(out.read_text("utf-8-sig"))
    assert {r["record_id"] for r in rows} >= {"MZ0099"}
    for r in rows:
        if r["field"] in ("id_number", "phone"):
            assert "*" in r["source_value"]
    assert PersonalDataAccess.objects.count() <= 1

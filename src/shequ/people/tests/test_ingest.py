"""Ingest as data stewards rely on it: provenance, idempotency, flags, refusal, formats,
the upload page and API (the background job runs immediately in tests)."""

import csv
import io

import pytest
from django.test import TestCase
from rest_framework.test import APIClient

from shequ.core.roles import Role
from shequ.people.ingest import IngestRefused, ingest_file
from shequ.people.models import Batch, BatchStatus, Person, RawRecord
from shequ.people.testing import (
    CLINIC_COLUMNS,
    POLICE_COLUMNS,
    clinic_rows,
    police_rows,
    write_csv,
    write_jsonl,
    write_xlsx,
)

pytestmark = pytest.mark.django_db


def counts():
    return Batch.objects.count(), RawRecord.objects.count(), Person.objects.count()


def test_rows_kept_as_read_with_provenance_and_reimport_changes_nothing(city, make_user, tmp_path):
    steward = make_user("steward", Role.DATA_STEWARD, "5101")
    rows = police_rows()
    path = write_csv(tmp_path / "hukou.csv", POLICE_COLUMNS, rows)
    result = ingest_file("police_hukou", path, user=steward, link=False)
    assert result.created
    batch = result.batch
    assert (batch.rows, batch.flagged_rows, batch.status) == (3, 0, BatchStatus.DONE)
    assert (batch.file_name, batch.created_by, batch.source.code) == (
        "hukou.csv",
        steward,
        "police_hukou",
    )
    records = list(RawRecord.objects.filter(batch=batch).order_by("row"))
    assert [r.row for r in records] == [2, 3, 4]
    assert [r.raw for r in records] == rows  # exactly as read
    assert records[0].std["name"]["text"] == "王建国"
    # The address parsed down to the dwelling; the record sits in the dwelling's grid.
    assert records[0].dwelling.code.endswith("B01U1R0501")
    assert records[0].area_code == records[0].dwelling.area_code
    before = counts()
    again = ingest_file("police_hukou", path, user=steward)
    assert not again.created and again.batch == batch
    assert counts() == before
    # The same content under another name is still the same file.
    copy = tmp_path / "copy.csv"
    copy.write_bytes(path.read_bytes())
    assert not ingest_file("police_hukou", copy).created
    assert counts() == before


def test_bad_values_are_kept_and_flagged_with_reasons(city, tmp_path):
    rows = clinic_rows()
    good_id = rows[0]["id_card"]
    rows[0]["id_card"] = good_id[:-1] + ("0" if good_id[-1] != "0" else "1")  # wrong check digit
    rows[1]["birth_date"] = "1971/2/31"  # impossible date
    rows[2]["mobile"] = "12345"  # not a phone
    path = write_csv(tmp_path / "clinic.csv", CLINIC_COLUMNS, rows)
    batch = ingest_file("clinic", path, link=False).batch
    assert batch.rows == 3 and batch.flagged_rows == 3
    flags = {r.record_id: r.flags for r in RawRecord.objects.filter(batch=batch)}
    assert [f for f, _ in flags["MZ0001"]] == ["id_number"]
    assert any(f == "birth_date" for f, _ in flags["MZ0002"])
    assert any(f == "phone" for f, _ in flags["MZ0003"])
    assert all(reason for fl in flags.values() for _f, reason in fl)


def test_unreadable_files_are_refused_whole_and_nothing_is_written(city, tmp_path):
    ingest_file("police_hukou", write_csv(tmp_path / "ok.csv", POLICE_COLUMNS, police_rows()))
    before = counts()
    missing = write_csv(
        tmp_path / "nocol.csv", [c for c in POLICE_COLUMNS if c != "GMSFHM"],
        [{k: v for k, v in r.items() if k != "GMSFHM"} for r in police_rows(prefix="X")],
    )  # fmt: skip
    with pytest.raises(IngestRefused, match=r"nocol\.csv: line 1: .*GMSFHM"):
        ingest_file("police_hukou", missing)
    broken = write_jsonl(tmp_path / "broken.jsonl", clinic_rows(prefix="J"))
    text = broken.read_text("utf-8").splitlines()
    text[1] = text[1][:-5]
    broken.write_text("\n".join(text) + "\n", "utf-8")
    with pytest.raises(IngestRefused, match=r"broken\.jsonl: line 2"):
        ingest_file("clinic", broken)
    fake = tmp_path / "fake.xlsx"
    fake.write_text("not a workbook", "utf-8")
    with pytest.raises(IngestRefused, match=r"fake\.xlsx"):
        ingest_file("clinic", fake)
    with pytest.raises(IngestRefused, match="nosuch"):
        ingest_file("nosuch", missing)
    assert counts() == before


@pytest.mark.parametrize("fmt", ["xlsx", "jsonl"])
def test_xlsx_and_json_lines(city, tmp_path, fmt):
    rows = clinic_rows()
    if fmt == "xlsx":
        path = write_xlsx(tmp_path / "clinic.xlsx", CLINIC_COLUMNS, rows)
    else:
        path = write_jsonl(tmp_path / "clinic.jsonl", rows)
    batch = ingest_file("clinic", path, link=False).batch
    assert (batch.file_format, batch.rows, batch.flagged_rows) == (fmt, 3, 0)
    rec = RawRecord.objects.get(batch=batch, record_id="MZ0002")
    assert rec.raw["patient_name"] == "李秀英"
    assert rec.std["id"]["kind"] == "resident"
    assert str(rec.birth_date) == "1971-09-01"


def _upload(client, name, content: bytes, source="police_hukou"):
    # Jobs are queued on commit; the test transaction never commits, so run them as the
    # request's transaction would (Huey itself runs immediately in tests).
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(
            "/api/v1/batches/upload/", {"source": source, "file": _file(name, content)},
            format="multipart",
        )  # fmt: skip


def _file(name, content):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="text/csv")


class TestUploadApi:
    def test_upload_runs_the_job_and_reports_status_and_flags(self, city, make_user, tmp_path):
        rows = police_rows()
        rows[0]["CSRQ"] = "19681332"
        content = write_csv(tmp_path / "h.csv", POLICE_COLUMNS, rows).read_bytes()
        client = APIClient()
        assert _upload(client, "h.csv", content).status_code == 401
        client.force_authenticate(make_user("gw", Role.GRID_WORKER, city["grids"][0].code))
        assert _upload(client, "h.csv", content).status_code == 403
        steward = make_user("steward", Role.DATA_STEWARD, "5101")
        client.force_authenticate(steward)
        response = _upload(client, "h.csv", content)
        assert response.status_code == 201, response.content
        assert response.data["status"] == "pending"  # queued; the page polls the batch
        data = client.get(f"/api/v1/batches/{response.data['id']}/").data
        assert (data["status"], data["progress"], data["rows"], data["flagged_rows"]) == (
            "done", 100, 3, 1,
        )  # fmt: skip
        assert data["linked_records"] == 3
        again = _upload(client, "again.csv", content)
        assert again.status_code == 200 and again.data["id"] == data["id"]
        assert RawRecord.objects.count() == 3
        flagged = client.get(f"/api/v1/batches/{data['id']}/flagged/")
        assert flagged.status_code == 200
        assert [(r["row"], r["field"]) for r in flagged.data["results"]] == [(2, "birth_date")]
        refused = _upload(client, "bad.csv", b"a,b\n1,2\n")
        assert refused.status_code == 201
        refused = client.get(f"/api/v1/batches/{refused.data['id']}/")
        assert refused.data["status"] == "refused"
        assert "RYBH" in refused.data["message"]
        assert RawRecord.objects.count() == 3
        # Out of scope: a street worker elsewhere sees neither the batch nor its flags.
        other = make_user("st", Role.STREET_STAFF, "510105001")
        client.force_authenticate(other)
        assert client.get(f"/api/v1/batches/{data['id']}/flagged/").status_code == 404

    def test_upload_page_and_flagged_report(self, city, make_user, client, tmp_path):
        rows = police_rows()
        rows[1]["GMSFHM"] = rows[1]["GMSFHM"][:-1] + "Y"
        content = write_csv(tmp_path / "h.csv", POLICE_COLUMNS, rows).read_bytes()
        client.force_login(make_user("cw", Role.COMMUNITY_WORKER, city["communities"][0].code))
        assert (
            client.post(
                "/people/sources/", {"source": "police_hukou", "file": _file("h.csv", content)}
            ).status_code
            == 403
        )
        client.force_login(make_user("steward", Role.DATA_STEWARD, "5101"))
        page = client.get("/people/sources/")
        assert page.status_code == 200 and b'enctype="multipart/form-data"' in page.content
        with TestCase.captureOnCommitCallbacks(execute=True):
            response = client.post(
                "/people/sources/", {"source": "police_hukou", "file": _file("h.csv", content)}
            )
        batch = Batch.objects.get()
        assert (
            response.status_code == 302 and response["Location"] == f"/people/batches/{batch.pk}/"
        )
        page = client.get(response["Location"])
        assert b'id="batch-progress"' in page.content and b"people/batch.js" in page.content
        report = client.get(f"/people/batches/{batch.pk}/flagged.csv")
        lines = list(
            csv.reader(io.StringIO(b"".join(report.streaming_content).decode("utf-8-sig")))
        )
        assert lines[0] == ["row", "record_id", "field", "reason"]
        assert [(r[0], r[1], r[2]) for r in lines[1:]] == [("3", "RK0002", "id_number")]

"""Golden record: most trusted source per field, then the most recent; each field's source;
residence history from dated records at dwellings."""

import datetime as dt

import pytest

from shequ.people.choices import ResidenceKind, ResidentType
from shequ.people.golden import RecordView, survive
from shequ.people.ingest import ingest_file
from shequ.people.models import Person, RawRecord, Residence, Source
from shequ.people.testing import (
    CLINIC_COLUMNS,
    PEOPLE,
    POLICE_COLUMNS,
    VISIT_COLUMNS,
    clinic_rows,
    police_rows,
    visit_rows,
    write_csv,
)

pytestmark = pytest.mark.django_db


def view(pk, source, std, date):
    return RecordView(pk, source, f"R{pk}", std, date, None, "5101")


def test_survivorship_most_trusted_then_most_recent():
    trust = {
        "police_hukou": Source(code="police_hukou", trust=90),
        "clinic": Source(code="clinic", trust=60, field_trust={"phone": 95}),
        "visit_forms": Source(code="visit_forms", trust=30),
    }
    name = {"text": "王建国", "kind": "han", "sex_hint": ""}
    records = [
        view(1, "visit_forms", {"name": {**name, "text": "王健国"}, "phones": ["13800000001"]},
             dt.date(2024, 6, 1)),
        view(2, "police_hukou", {"name": name, "phones": [], "address_role": "hukou",
                                 "address": {"district": "510104"}}, dt.date(2010, 1, 1)),
        view(3, "clinic", {"name": {**name, "text": "王建郭"}, "phones": ["13800000002"]},
             dt.date(2020, 1, 1)),
        view(4, "clinic", {"name": name, "phones": ["13800000003"]}, dt.date(2023, 1, 1)),
    ]  # fmt: skip
    values, sources = survive(records, trust)
    assert values["name"] == "王建国" and sources["name"]["source"] == "police_hukou"
    # Phone: the clinic is trusted most for phones; of its two records the most recent wins.
    assert values["phone"] == "13800000003" and sources["phone"]["record"] == 4
    assert values["resident_type"] == ResidentType.REGISTERED
    assert values["hukou_region"] == "510104"
    # A value staff entered on the person (the register) outranks every list.
    values, sources = survive(records, trust, {"phone": "13911112222"})
    assert values["phone"] == "13911112222" and sources["phone"] == {"source": "register"}


def test_golden_record_and_residence_history_from_lists(city, tmp_path):
    people = PEOPLE[:1]
    ingest_file("police_hukou", write_csv(tmp_path / "p.csv", POLICE_COLUMNS, police_rows(people)))
    rows = clinic_rows(people, first_visit="20230301")
    rows[0]["patient_name"] = "王健国"  # a look-alike typo in a less trusted list
    rows[0]["mobile"] = "13700001111"
    ingest_file("clinic", write_csv(tmp_path / "c.csv", CLINIC_COLUMNS, rows))
    ingest_file(
        "visit_forms",
        write_csv(tmp_path / "v.csv", VISIT_COLUMNS, visit_rows(people, visit="20240610")),
    )
    records = RawRecord.objects.all()
    assert len({r.person_id for r in records}) == 1
    person = Person.objects.get(pk=records[0].person_id)
    assert person.name == "王建国" and person.field_sources["name"]["source"] == "police_hukou"
    assert person.resident_type == ResidentType.REGISTERED
    # The visit (2024) is newer than the clinic (2023) at equal trust for the phone? No: the
    # clinic (60) is trusted more than the visit forms (30).
    assert person.phone == "13700001111" and person.field_sources["phone"]["source"] == "clinic"
    visit = records.get(source__code="visit_forms")
    assert visit.dwelling is not None
    assert person.dwelling_id == visit.dwelling_id
    assert person.area_code == visit.dwelling.area_code
    living = Residence.objects.get(person=person, kind=ResidenceKind.LIVING)
    assert (living.dwelling_id, living.start) == (visit.dwelling_id, dt.date(2024, 6, 10))

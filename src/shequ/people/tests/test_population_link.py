"""Incremental linking: new batches link against existing persons without relinking them;
person ids stay stable; each link explains itself on the person page."""

import pytest

from shequ.core.roles import Role
from shequ.people.ingest import ingest_file
from shequ.people.models import DecisionKind, LinkDecision, Person, RawRecord
from shequ.people.services import link_pending
from shequ.people.testing import (
    CLINIC_COLUMNS,
    POLICE_COLUMNS,
    clinic_rows,
    police_rows,
    population,
    write_csv,
)

pytestmark = pytest.mark.django_db


def persons_of(source):
    return dict(RawRecord.objects.filter(source__code=source).values_list("record_id", "person_id"))


def test_a_new_batch_links_to_existing_persons_and_ids_stay_stable(city, tmp_path):
    people = population(160)
    ingest_file("police_hukou", write_csv(tmp_path / "p.csv", POLICE_COLUMNS, police_rows(people)))
    police = persons_of("police_hukou")
    assert len(set(police.values())) == 160
    first_ids = set(Person.objects.values_list("id", flat=True))
    # The clinic's list: two thirds of the same people, some without an ID, plus newcomers.
    rows = clinic_rows(people[:100] + population(20, seed=99))
    for r in rows[::3]:
        r["id_card"] = ""
    ingest_file("clinic", write_csv(tmp_path / "c.csv", CLINIC_COLUMNS, rows))
    assert persons_of("police_hukou") == police  # nothing relinked
    clinic = persons_of("clinic")
    same = sum(clinic[f"MZ{n:04d}"] == police[f"RK{n:04d}"] for n in range(1, 101))
    assert same >= 95
    newcomers = {clinic[f"MZ{n:04d}"] for n in range(101, 121)}
    assert not newcomers & set(police.values())
    assert set(Person.objects.values_list("id", flat=True)) >= first_ids
    # Linked with explanations: the weight and the comparisons behind it.
    decision = LinkDecision.objects.filter(
        kind=DecisionKind.AUTO, record__source__code="clinic"
    ).first()
    assert decision.match_weight > 0
    assert {p["comparison"] for p in decision.explanation["comparisons"]} >= {"name", "birth"}
    # Running again changes nothing.
    outcome = link_pending()
    assert outcome.pending == 0
    assert persons_of("clinic") == clinic


def test_records_link_to_a_person_entered_before_any_list(city, tmp_path):
    person = city["persons"][0]
    people = [(person.name, person.sex, person.birth_date, person.id_number, person.phone)]
    ingest_file("clinic", write_csv(tmp_path / "c.csv", CLINIC_COLUMNS, clinic_rows(people)))
    record = RawRecord.objects.get()
    assert record.person_id == person.pk
    person.refresh_from_db()
    # The register's own values keep precedence; their source says so.
    assert person.field_sources["id_number"] == {"source": "register"}


def test_person_page_shows_records_links_and_provenance(city, make_user, client, tmp_path):
    people = population(160)
    steward = make_user("steward", Role.DATA_STEWARD, "5101")
    ingest_file(
        "police_hukou",
        write_csv(tmp_path / "p.csv", POLICE_COLUMNS, police_rows(people)),
        user=steward,
    )
    ingest_file(
        "clinic",
        write_csv(tmp_path / "c.csv", CLINIC_COLUMNS, clinic_rows(people[:50])),
        user=steward,
    )
    record = RawRecord.objects.get(source__code="clinic", record_id="MZ0001")
    client.force_login(steward)
    page = client.get(f"/people/persons/{record.person_id}/").content.decode()
    assert "MZ0001" in page and "RK0001" in page and "c.csv" in page and "p.csv" in page
    assert 'id="links"' in page and "birth" in page
    # Personal columns of the raw rows are masked.
    raw_id = record.raw["id_card"]
    assert raw_id not in page and raw_id[:4] + "*" in page

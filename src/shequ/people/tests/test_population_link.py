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


def test_each_batch_records_the_model_that_linked_it(city, make_user, client, tmp_path):
    from shequ.people import services
    from shequ.people.models import Batch

    steward = make_user("steward", Role.DATA_STEWARD, "5101")
    # A first short list: too few records to estimate weights, exact ID numbers only.
    first = ingest_file(
        "police_hukou", write_csv(tmp_path / "a.csv", POLICE_COLUMNS, police_rows()), user=steward
    ).batch
    assert first.linkage_model["mode"] == "exact_id"
    assert "fingerprint" not in first.linkage_model
    assert first.linkage_model["match_probability"] == 0.5
    # Two longer ones from two sources: weights estimated by EM in the run and stored.
    people = population(160, seed=11)
    ingest_file(
        "police_hukou",
        write_csv(tmp_path / "b.csv", POLICE_COLUMNS, police_rows(people, prefix="HK")),
        user=steward,
    )
    second = ingest_file(
        "clinic",
        write_csv(tmp_path / "c.csv", CLINIC_COLUMNS, clinic_rows(people[:120])),
        user=steward,
    ).batch
    model = second.linkage_model
    assert model["mode"] == "estimated" and model["estimated_in_batch"] == second.pk
    assert model["estimated_on"] > 120 and len(model["fingerprint"]) == 12  # new + context
    assert services.stored_model()["fingerprint"] == model["fingerprint"]
    # A small batch afterwards is scored with stored weights when they were estimated on
    # more records than the run holds (here: as if on a larger population): the same
    # fingerprint, and the batch they were estimated in.
    services.store_model({**services.stored_model(), "n_records": 5_000}, batch=second)
    third = ingest_file(
        "clinic",
        write_csv(tmp_path / "d.csv", CLINIC_COLUMNS, clinic_rows(people[120:], prefix="MX")),
        user=steward,
    ).batch
    assert third.linkage_model["mode"] == "stored"
    assert third.linkage_model["fingerprint"] == model["fingerprint"]
    assert third.linkage_model["estimated_in_batch"] == second.pk
    # Shown on the batch page and in the API.
    client.force_login(steward)
    page = client.get(f"/people/batches/{third.pk}/").content.decode()
    assert 'id="batch-model"' in page and model["fingerprint"] in page
    assert f"/people/batches/{second.pk}/" in page
    data = client.get(f"/api/v1/batches/{third.pk}/").json()
    assert data["linkage_model"]["fingerprint"] == model["fingerprint"]
    assert Batch.objects.get(pk=first.pk).linkage_model["mode"] == "exact_id"


def test_a_later_batch_joins_persons_by_the_clustering_rules(city, make_user, client, tmp_path):
    """A record with nothing but a name is below the threshold on every pair; the engine's
    clustering joins it to the only identified person of that name, and so does the store
    (with the reason on the link). A surname + title record (王先生) joins the one person
    sharing its phone."""
    from shequ.people.testing import PROPERTY_COLUMNS

    people = population(160, seed=5)
    ingest_file("police_hukou", write_csv(tmp_path / "p.csv", POLICE_COLUMNS, police_rows(people)))
    ingest_file("clinic", write_csv(tmp_path / "c.csv", CLINIC_COLUMNS, clinic_rows(people)))
    names = [p[0] for p in people]
    titled = next(k for k, p in enumerate(people) if p[1] == "1" and names.count(p[0]) == 1)
    named = next(k for k in range(len(people)) if k != titled and names.count(names[k]) == 1)
    rows = []
    for k, (name, _sex, _birth, id_, phone) in enumerate(people[:120]):
        shown, shown_phone, shown_id = name, phone, id_[:6] + "*" * 8 + id_[-4:]
        if k == titled:
            shown, shown_id = name[0] + "先生", ""
        if k == named:
            shown_phone, shown_id = "", ""
        flat = f"{k % 9 + 1}-1-{k + 101}"
        rows.append(
            {"登记编号": f"WY{k:04d}", "小区名称": "锦绣苑00", "楼栋房号": flat,
             "住户姓名": shown, "住户类型": "业主", "联系电话": shown_phone, "证件号码": shown_id,
             "登记日期": "20200101", "备注": ""}
        )  # fmt: skip
    ingest_file("property_mgmt", write_csv(tmp_path / "w.csv", PROPERTY_COLUMNS, rows))
    police = persons_of("police_hukou")
    prop = persons_of("property_mgmt")
    assert prop[f"WY{titled:04d}"] == police[f"RK{titled + 1:04d}"]
    assert prop[f"WY{named:04d}"] == police[f"RK{named + 1:04d}"]
    decision = LinkDecision.objects.get(record__record_id=f"WY{named:04d}")
    assert decision.explanation.get("joined_by") == "clustering"
    # the person page says why a link below the threshold holds
    client.force_login(make_user("steward", Role.DATA_STEWARD, "5101"))
    page = client.get(f"/people/persons/{decision.person_id}/").content.decode()
    assert f"WY{named:04d}" in page and 'data-joined-by="clustering"' in page

"""Steward decisions (accept, reject, split, merge) are recorded and survive later runs."""

import pytest

from shequ.core.roles import Role
from shequ.people.ingest import ingest_file
from shequ.people.models import (
    DecisionKind,
    LinkDecision,
    Person,
    RawRecord,
    ReviewItem,
    ReviewStatus,
)
from shequ.people.services import decide_review, link_pending
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
def linked(city, tmp_path):
    people = population(160)
    ingest_file("police_hukou", write_csv(tmp_path / "p.csv", POLICE_COLUMNS, police_rows(people)))
    ingest_file("clinic", write_csv(tmp_path / "c.csv", CLINIC_COLUMNS, clinic_rows(people[:40])))
    return people


def rec(record_id):
    return RawRecord.objects.get(record_id=record_id)


def test_a_rejected_pair_never_relinks(linked, make_user, tmp_path):
    steward = make_user("steward", Role.DATA_STEWARD, "5101")
    a, b = rec("RK0001"), rec("MZ0001")
    assert a.person_id == b.person_id
    item = ReviewItem.objects.create(
        record=a,
        other=b,
        match_weight=3.0,
        match_probability=0.9,
        linked=True,
        area_code=a.area_code,
    )
    decide_review(item, False, user=steward, reason="different people, checked by phone")
    a.refresh_from_db(), b.refresh_from_db()
    assert a.person_id != b.person_id
    kept = a.person_id
    decision = LinkDecision.objects.get(kind=DecisionKind.REJECT)
    assert (decision.decided_by, decision.reason) == (steward, "different people, checked by phone")
    # A later list with the same person again: it may join either, never both.
    rows = clinic_rows(linked[:1], prefix="NEW")
    ingest_file("clinic", write_csv(tmp_path / "again.csv", CLINIC_COLUMNS, rows))
    a.refresh_from_db(), b.refresh_from_db()
    assert a.person_id == kept and a.person_id != b.person_id
    assert link_pending().pending == 0


def test_accept_merges_into_the_oldest_and_stays(linked, make_user):
    steward = make_user("steward", Role.DATA_STEWARD, "5101")
    a, b = rec("RK0002"), rec("RK0003")
    older, newer = sorted((a.person_id, b.person_id))
    item = ReviewItem.objects.create(
        record=a, other=b, match_weight=0.5, match_probability=0.6, area_code=a.area_code
    )
    decide_review(item, True, user=steward, reason="same person: name change")
    a.refresh_from_db(), b.refresh_from_db()
    assert a.person_id == b.person_id == older
    assert not Person.objects.filter(pk=newer).exists()
    item.refresh_from_db()
    assert item.status == ReviewStatus.ACCEPTED and item.decided_by == steward
    link_pending()
    a.refresh_from_db(), b.refresh_from_db()
    assert a.person_id == b.person_id == older


def test_split_and_merge_pages(linked, make_user, client, city):
    a, b = rec("RK0004"), rec("MZ0004")
    person = a.person_id
    client.force_login(make_user("op", Role.CITY_OPERATOR, "5101"))
    assert (
        client.post(
            f"/people/persons/{person}/split/", {"record": b.pk, "reason": "xxxx"}
        ).status_code
        == 403
    )
    client.force_login(make_user("steward", Role.DATA_STEWARD, "5101"))
    response = client.post(
        f"/people/persons/{person}/split/", {"record": b.pk, "reason": "two people"}
    )
    b.refresh_from_db()
    assert b.person_id != person and response["Location"] == f"/people/persons/{b.person_id}/"
    assert LinkDecision.objects.filter(kind=DecisionKind.SPLIT, record=b, other=a).exists()
    response = client.post(
        f"/people/persons/{b.person_id}/merge/", {"other": person, "reason": "it was right"}
    )
    b.refresh_from_db()
    assert b.person_id == person and response["Location"] == f"/people/persons/{person}/"


def test_review_page_lists_and_decides(linked, make_user, client):
    a, b = rec("RK0005"), rec("MZ0005")
    item = ReviewItem.objects.create(
        record=a,
        other=b,
        match_weight=1.0,
        match_probability=0.7,
        linked=True,
        area_code=a.area_code,
    )
    client.force_login(make_user("op", Role.CITY_OPERATOR, "5101"))
    assert client.get("/people/review/").status_code == 403
    outsider = make_user("cw", Role.COMMUNITY_WORKER, "510105001001")
    client.force_login(outsider)
    if not a.area_code.startswith("510105"):
        assert f"review-{item.pk}" not in client.get("/people/review/").content.decode()
    client.force_login(make_user("steward", Role.DATA_STEWARD, "5101"))
    page = client.get("/people/review/").content.decode()
    assert f"review-{item.pk}" in page
    assert a.raw["GMSFHM"] not in page  # masked
    client.post(f"/people/review/{item.pk}/decide/", {"decision": "accept", "reason": "same id"})
    item.refresh_from_db()
    assert item.status == ReviewStatus.ACCEPTED

"""The data steward's audit browser: scope, filters, pagination, CSV, and the read-only API."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from shequ.core.leakscan import find
from shequ.core.roles import Role
from shequ.governance.audit import record
from shequ.governance.models import AuditEvent, AuditKind
from shequ.governance.views import PAGE_SIZE

pytestmark = pytest.mark.django_db


@pytest.fixture
def steward(city, make_user):
    return make_user("steward", Role.DATA_STEWARD, "510104001")


@pytest.fixture
def trail(city, steward, make_user):
    """Changes in both districts, by two actors (the city's persons were created already)."""
    worker = make_user("worker", Role.GRID_WORKER, city["grids"][0].code)
    inside, outside = city["persons"][0], city["persons"][-1]
    record(
        AuditKind.REVEAL,
        object_type="people.person",
        object_id=inside.pk,
        area_code=inside.area_code,
        fields=["phone"],
        reason="上门核实",
        actor=worker,
    )
    record(
        AuditKind.REVEAL,
        object_type="people.person",
        object_id=outside.pk,
        area_code=outside.area_code,
        fields=["phone"],
        reason="别区核实",
        actor=worker,
    )
    return {"worker": worker, "inside": inside, "outside": outside}


def rows_of(response) -> list[list[str]]:
    body = b"".join(c if isinstance(c, bytes) else c.encode() for c in response.streaming_content)
    return list(csv.reader(io.StringIO(body.decode().lstrip("\ufeff"))))


def test_access(client, city, make_user):
    url = reverse("governance:audit")
    assert "/accounts/login/" in client.get(url)["Location"]
    for role in Role:
        if role == Role.DATA_STEWARD:
            continue
        client.force_login(make_user(f"u-{role}", role, "5101"))
        assert client.get(url).status_code == 403, role
        assert client.get(reverse("governance:audit_csv")).status_code == 403, role


def test_a_steward_sees_the_events_of_their_areas_only(client, steward, trail):
    client.force_login(steward)
    response = client.get(reverse("governance:audit"), {"kind": "reveal"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "上门核实" in html and "别区核实" not in html
    assert [e.reason for e in response.context["page"]] == ["上门核实"]
    # Asking for the other district narrows to nothing; it never widens the scope.
    response = client.get(reverse("governance:audit"), {"under": "510105"})
    assert response.context["page"].paginator.count == 0


def test_filters(client, steward, trail, city):
    client.force_login(steward)
    url = reverse("governance:audit")

    def count(**params):
        return client.get(url, params).context["page"].paginator.count

    everything = count()
    in_scope = AuditEvent.objects.filter(area_code__startswith="510104001")
    assert everything == in_scope.count() > 10
    assert count(actor="worker") == 1
    assert (
        count(kind=["reveal", "created"]) == in_scope.filter(kind__in=["reveal", "created"]).count()
    )
    assert (
        count(object_type="people.person", object_id=str(trail["inside"].pk)) == 2
    )  # create, reveal
    grid = city["grids"][0].code
    assert count(under=grid) == in_scope.filter(area_code__startswith=grid).count()
    today = timezone.localdate()
    assert count(after=today.isoformat(), before=today.isoformat()) == everything
    assert count(after=(today + dt.timedelta(days=1)).isoformat()) == 0
    # A malformed filter is an error on the page, not a wider list.
    response = client.get(url, {"after": "not-a-date", "under": "51 01"})
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 0
    assert response.context["filterset"].errors


def test_pagination(client, steward, city):
    for i in range(PAGE_SIZE + 5):
        record(AuditKind.CHANGED, object_type="people.person", object_id=i, area_code="510104001")
    client.force_login(steward)
    first = client.get(reverse("governance:audit"), {"kind": "changed"})
    second = client.get(reverse("governance:audit"), {"kind": "changed", "page": 2})
    assert len(first.context["page"]) == PAGE_SIZE and len(second.context["page"]) == 5
    assert "kind=changed&amp;page=2" in first.content.decode()
    ids = {e.pk for e in first.context["page"]} | {e.pk for e in second.context["page"]}
    assert len(ids) == PAGE_SIZE + 5


def test_csv_download_follows_the_filters_and_holds_no_value(client, steward, trail):
    client.force_login(steward)
    response = client.get(reverse("governance:audit_csv"), {"kind": "reveal"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="audit-')
    rows = rows_of(response)
    assert rows[0][:4] == ["at", "actor", "actor_roles", "kind"]
    assert [r[8] for r in rows[1:]] == ["上门核实"]
    everything = rows_of(client.get(reverse("governance:audit_csv")))
    assert (
        len(everything) - 1 == AuditEvent.objects.filter(area_code__startswith="510104001").count()
    )
    text = "\n".join(",".join(r) for r in everything)
    assert find(text) == []
    person = trail["inside"]
    assert person.phone not in text and person.id_number not in text


def test_the_api_is_read_only_and_scoped(steward, trail, make_user):
    client = APIClient()
    client.force_authenticate(steward)
    response = client.get("/api/v1/audit/", {"kind": "reveal"})
    assert response.status_code == 200
    (row,) = response.data["results"]
    assert row["actor"] == "worker" and row["changed_fields"] == ["phone"]
    outside = AuditEvent.objects.get(reason="别区核实")
    assert client.get(f"/api/v1/audit/{outside.pk}/").status_code == 404
    count = AuditEvent.objects.count()
    # No write: the viewset is read-only (the change permission is asked first: 403).
    assert client.post("/api/v1/audit/", {}).status_code in (403, 405)
    assert client.delete(f"/api/v1/audit/{row['id']}/").status_code in (403, 405)
    assert AuditEvent.objects.count() == count
    worker = APIClient()
    worker.force_authenticate(trail["worker"])
    assert worker.get("/api/v1/audit/").status_code == 403

"""Export requests: ask, approve or refuse (never one's own), produce once, watermark, masks,
scope, rate limits and expiry — through the services, the pages and the API."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from shequ.core import ratelimit
from shequ.core.leakscan import find
from shequ.core.roles import Role
from shequ.core.testing import add_device, totp_code, verified, verify_session
from shequ.governance import services
from shequ.governance.models import AuditEvent, AuditKind, ExportRequest, ExportStatus
from shequ.people.models import Person

pytestmark = pytest.mark.django_db

STREET = "510104001"
PURPOSE = "季度人口核查, 交街道综治办比对"


@pytest.fixture
def people(city, make_user):
    return {
        # The operations centre may view everyone, reveal nobody.
        "operator": make_user("operator", Role.CITY_OPERATOR, "5101"),
        "staff": make_user("staff", Role.STREET_STAFF, STREET),  # may reveal people here
        "steward": make_user("steward", Role.DATA_STEWARD, "510104"),
        "steward2": make_user("steward2", Role.DATA_STEWARD, "5101"),
        "other_steward": make_user("other-steward", Role.DATA_STEWARD, "510105"),
    }


def ask(user, **overrides) -> ExportRequest:
    data = {
        "dataset": "persons",
        "fields": ["id", "name", "id_number", "phone", "resident_type"],
        "area_code": STREET,
        "purpose": PURPOSE,
        "recipient": "锦江区综治中心",
    }
    return services.request_export(user, **{**data, **overrides})


def read_csv(content: bytes) -> tuple[str, list[list[str]]]:
    text = content.decode("utf-8")
    assert text.startswith("\ufeff")
    first, rest = text[1:].split("\r\n", 1)
    return first, list(csv.reader(io.StringIO(rest)))


def download(client, req):
    response = client.post(reverse("governance:export_download", args=[req.number]))
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return response, content


# --------------------------------------------------------------------------- the whole loop
def test_approve_then_produce_once_with_row_count_and_watermark(client, people):
    req = ask(people["operator"])
    assert req.number.startswith(f"EXP-{dt.date.today().year}-") and len(req.number) == 15
    assert req.status == ExportStatus.REQUESTED
    services.decide(req, people["steward"], approve=True, reason="用途明确, 范围最小")
    req.refresh_from_db()
    assert (req.status, req.approver) == (ExportStatus.APPROVED, people["steward"])

    client.force_login(people["operator"])
    response, content = download(client, req)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response.get("X-Personal-Data") is None  # the operator may not reveal: all masked
    first, rows = read_csv(content)
    assert first.startswith(f"# {req.number} · purpose: {PURPOSE} · recipient: 锦江区综治中心")
    assert "approved by steward at" in first
    assert rows[0] == ["export_request", "id", "name", "id_number", "phone", "resident_type"]
    expected = Person.objects.filter(area_code__startswith=STREET)
    assert len(rows) - 1 == expected.count() == 16
    assert {r[0] for r in rows[1:]} == {req.number}
    assert {r[1] for r in rows[1:]} == {str(p.pk) for p in expected}
    person = expected.order_by("area_code", "pk").first()
    assert rows[1][2] == person.name[0] + "*" * (len(person.name) - 1)
    assert rows[1][3] == person.id_number[:4] + "*" * 11 + person.id_number[-3:]
    assert find(content.decode()) == []

    req.refresh_from_db()
    assert (req.status, req.row_count) == (ExportStatus.PRODUCED, 16)
    assert req.sha256 == hashlib.sha256(content).hexdigest()
    kinds = list(
        AuditEvent.objects.filter(object_id=req.number).order_by("id").values_list("kind", "actor")
    )
    assert kinds == [
        (AuditKind.EXPORT_REQUESTED, people["operator"].pk),
        (AuditKind.EXPORT_APPROVED, people["steward"].pk),
        (AuditKind.EXPORT_PRODUCED, people["operator"].pk),
    ]
    produced = AuditEvent.objects.get(kind=AuditKind.EXPORT_PRODUCED)
    assert produced.detail.startswith(f"persons: 16 rows, sha256 {req.sha256}")
    assert produced.changed_fields == sorted(req.fields)

    # Produced once: the second download is refused with a clear message.
    response, _content = download(client, req)
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert "produced once" in page.content.decode()
    with pytest.raises(services.ExportRefused, match="produced once"):
        services.produce(req, people["operator"])
    assert AuditEvent.objects.filter(kind=AuditKind.EXPORT_PRODUCED).count() == 1


def test_a_requester_who_may_reveal_gets_plain_values_marked_as_revealed(client, people):
    req = ask(people["staff"], fields=["id", "id_number", "phone"])
    services.decide(req, people["steward"], approve=True, reason="核查需要")
    verify_session(client, people["staff"])  # plain values are a reveal: signed in with a code
    response, content = download(client, req)
    assert response["X-Personal-Data"] == "revealed"
    _first, rows = read_csv(content)
    plain = {p.pk: p for p in Person.objects.filter(area_code__startswith=STREET)}
    for _number, pk, id_number, phone in rows[1:]:
        assert (id_number, phone) == (plain[int(pk)].id_number, plain[int(pk)].phone)
    # The audit trail says personal fields went out plain, and holds none of them.
    produced = AuditEvent.objects.get(kind=AuditKind.EXPORT_PRODUCED)
    assert produced.detail.endswith("personal fields plain")
    assert all(not find(" ".join(map(str, e.__dict__.values()))) for e in AuditEvent.objects.all())


def test_plain_personal_values_need_a_two_factor_code_like_any_reveal(client, people):
    req = ask(people["staff"], fields=["id", "id_number"])
    services.decide(req, people["steward"], approve=True, reason="核查需要")
    # Web: a session signed in with the password only is sent back with the reason.
    client.force_login(people["staff"])
    response = client.post(reverse("governance:export_download", args=[req.number]), follow=True)
    assert "two-factor" in response.content.decode() or "双因素" in response.content.decode()
    # API: a token without the X-OTP-Code header is refused (403); with a good code, produced.
    api = APIClient()
    api.force_authenticate(people["staff"])
    url = f"/api/v1/export-requests/{req.number}/produce/"
    assert api.post(url).status_code == 403
    req.refresh_from_db()
    assert req.status == ExportStatus.APPROVED and not req.row_count  # nothing went out
    device = add_device(people["staff"])
    response = api.post(url, HTTP_X_OTP_CODE=totp_code(device))
    assert response.status_code == 200 and response["X-Personal-Data"] == "revealed"


def test_cases_need_a_period_and_are_filtered_by_it(city, people):
    from shequ.cases.testing import access_cases

    inside, _outside = access_cases(city)
    with pytest.raises(ValidationError) as exc:
        ask(people["staff"], dataset="cases", fields=["number", "reporter_phone"])
    assert "period_start" in exc.value.message_dict
    day = timezone.localtime(inside.created_at).date()
    fields = ["number", "state", "reporter_phone"]
    req = ask(people["staff"], dataset="cases", fields=fields, period_start=day, period_end=day)
    earlier = ask(
        people["staff"],
        dataset="cases",
        fields=fields,
        period_start=day - dt.timedelta(days=30),
        period_end=day - dt.timedelta(days=1),
    )
    for r in (req, earlier):
        services.decide(r, people["steward"], approve=True, reason="同意导出")
    result = services.produce(req, verified(people["staff"]))
    rows = list(csv.reader(io.StringIO(result.file.read().decode("utf-8").split("\r\n", 1)[1])))
    assert [r[1] for r in rows[1:]] == [inside.number]  # not the other district's case
    assert rows[1][3] == inside.reporter_phone and result.plain_personal  # staff may reveal
    assert services.produce(earlier, people["staff"]).rows == 0


# --------------------------------------------------------------------------- the rules
def test_a_requester_asks_only_within_their_areas_and_for_known_fields(people):
    with pytest.raises(ValidationError) as exc:
        ask(people["staff"], area_code="510105001")  # the other district
    assert "area_code" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        ask(people["staff"], area_code="510104")  # above their street
    assert "area_code" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        ask(people["staff"], fields=["id", "password"])
    assert "password" not in str(exc.value) and "fields" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        ask(people["staff"], purpose="看看")
    assert "purpose" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        ask(people["staff"], purpose="核对 13800138000 的住址和家庭情况")
    assert "purpose" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        ask(people["staff"], dataset="everything")
    assert "dataset" in exc.value.message_dict
    assert not ExportRequest.objects.exists()


def test_roles_without_the_permission_may_not_ask(city, make_user):
    handler = make_user("handler", Role.DEPARTMENT_HANDLER, "5101")
    with pytest.raises(PermissionDenied):
        ask(handler)


def test_a_steward_never_decides_their_own_request_nor_twice_nor_outside(people):
    own = ask(people["steward"])
    with pytest.raises(services.ExportRefused, match="your own request"):
        services.decide(own, people["steward"], approve=True, reason="自己批准")
    with pytest.raises(PermissionDenied):
        services.decide(own, people["other_steward"], approve=True, reason="不是我的区域")
    with pytest.raises(ValidationError):
        services.decide(own, people["steward2"], approve=True, reason="")
    services.decide(own, people["steward2"], approve=False, reason="范围过大")
    with pytest.raises(services.ExportRefused, match="already decided"):
        services.decide(own, people["steward2"], approve=True, reason="改变主意")
    with pytest.raises(services.ExportRefused, match=r"status: Refused"):
        services.produce(own, people["steward"])
    own.refresh_from_db()
    assert own.status == ExportStatus.REFUSED and own.decision_reason == "范围过大"
    assert AuditEvent.objects.filter(kind=AuditKind.EXPORT_REFUSED).count() == 1


def test_only_the_requester_produces(people):
    req = ask(people["operator"])
    services.decide(req, people["steward"], approve=True, reason="同意导出")
    with pytest.raises(PermissionDenied):
        services.produce(req, people["steward"])
    req.refresh_from_db()
    assert req.status == ExportStatus.APPROVED


def test_an_approval_not_used_in_time_expires(people, settings):
    settings.EXPORT_APPROVAL_DAYS = 7
    req = ask(people["operator"])
    services.decide(req, people["steward"], approve=True, reason="同意导出")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=8)
    refused = pytest.raises(services.ExportRefused, match=r"status: Expired")
    with time_machine.travel(later), refused:
        services.produce(req, people["operator"])
    req.refresh_from_db()
    assert req.status == ExportStatus.EXPIRED
    assert AuditEvent.objects.filter(kind=AuditKind.EXPORT_EXPIRED).count() == 1


def test_the_daily_job_expires_stale_approvals(people):
    from shequ.governance.tasks import expire_export_approvals_daily

    req = ask(people["operator"])
    services.decide(req, people["steward"], approve=True, reason="同意导出")
    assert expire_export_approvals_daily.call_local() == 0
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=30)):
        assert expire_export_approvals_daily.call_local() == 1
    event = AuditEvent.objects.get(kind=AuditKind.EXPORT_EXPIRED)
    assert event.actor_label == "task:expire_export_approvals"


def test_requests_and_productions_are_rate_limited(people, settings):
    settings.SHEQU_RATE_LIMITS = {"export_request": (2, 3600), "export": (1, 3600)}
    first = ask(people["operator"])
    second = ask(people["operator"])
    with pytest.raises(ratelimit.RateLimited):
        ask(people["operator"])
    assert ExportRequest.objects.count() == 2
    for req in (first, second):
        services.decide(req, people["steward"], approve=True, reason="同意导出")
    services.produce(first, people["operator"])
    with pytest.raises(ratelimit.RateLimited):
        services.produce(second, people["operator"])
    second.refresh_from_db()
    assert second.status == ExportStatus.APPROVED  # still there for later


def test_the_visits_dataset_withholds_health_answers_from_a_requester_who_may_not_reveal(
    city, people
):
    from shequ.campaigns.testing import sample

    sample(city)
    window = {"period_start": dt.date(2020, 2, 1), "period_end": dt.date(2020, 2, 29)}
    req = ask(
        people["operator"],
        dataset="visits",
        fields=["dwelling", "outcome", "answers"],
        area_code="5101",
        **window,
    )
    services.decide(req, people["steward2"], approve=True, reason="同意导出")
    result = services.produce(req, people["operator"])
    rows = list(csv.reader(io.StringIO(result.file.read().decode("utf-8").split("\r\n", 1)[1])))
    assert result.rows == 2 and not result.plain_personal
    assert [r[3] for r in rows[1:]] == ["***", "***"]

    req = ask(people["steward"], dataset="visits", fields=["answers"], **window)
    services.decide(req, people["steward2"], approve=True, reason="同意导出")
    result = services.produce(req, verified(people["steward"]))
    rows = list(csv.reader(io.StringIO(result.file.read().decode("utf-8").split("\r\n", 1)[1])))
    assert result.rows == 1 and result.plain_personal
    assert '"temperature": 37.8' in rows[1][1]


# --------------------------------------------------------------------------- pages
def test_the_request_form_the_queue_and_the_decision_pages(client, people):
    client.force_login(people["operator"])
    page = client.get(reverse("governance:export_new"))
    assert page.status_code == 200
    response = client.post(
        reverse("governance:export_new"),
        {
            "dataset": "persons",
            "fields_persons": ["id", "resident_type"],
            "fields_cases": ["number"],  # another dataset's group: ignored
            "area_code": STREET,
            "purpose": PURPOSE,
            "recipient": "",
        },
    )
    req = ExportRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("governance:export_detail", args=[req.number])
    assert req.fields == ["id", "resident_type"] and req.recipient == ""
    assert req.number in client.get(reverse("governance:exports")).content.decode()
    # A bad field answers the form again with the error at the field.
    response = client.post(
        reverse("governance:export_new"),
        {"dataset": "persons", "area_code": "510105", "purpose": PURPOSE},
    )
    assert response.status_code == 200
    assert ExportRequest.objects.count() == 1

    client.force_login(people["steward"])
    queue = client.get(reverse("governance:export_queue")).content.decode()
    assert req.number in queue
    detail = client.get(reverse("governance:export_detail", args=[req.number])).content.decode()
    assert 'id="decide"' in detail
    response = client.post(
        reverse("governance:export_decide", args=[req.number]),
        {"decision": "approve", "reason": "用途明确"},
    )
    assert response.status_code == 302
    req.refresh_from_db()
    assert req.status == ExportStatus.APPROVED


def test_page_access(client, people, make_user):
    req = ask(people["operator"])
    detail = reverse("governance:export_detail", args=[req.number])
    missing = reverse("governance:export_detail", args=["EXP-2026-999999"])
    urls = [reverse("governance:exports"), reverse("governance:export_new"), detail]
    for url in [*urls, reverse("governance:export_queue")]:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    download = client.post(reverse("governance:export_download", args=[req.number]))
    assert "/accounts/login/" in download["Location"]
    client.force_login(make_user("handler", Role.DEPARTMENT_HANDLER, "5101"))
    for url in [*urls, reverse("governance:export_queue")]:
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("governance:export_download", args=[req.number])).status_code == 403
    # A requester sees their own requests only; another requester in scope gets 404.
    client.force_login(make_user("staff2", Role.STREET_STAFF, STREET))
    assert client.get(detail).status_code == 404
    assert client.get(reverse("governance:export_queue")).status_code == 403
    # A steward of the other district: 404, the same as a missing request.
    client.force_login(people["other_steward"])
    out, gone = client.get(detail), client.get(missing)
    assert out.status_code == gone.status_code == 404
    decide = reverse("governance:export_decide", args=[req.number])
    assert client.post(decide, {"decision": "approve", "reason": "同意导出"}).status_code == 404
    download = reverse("governance:export_download", args=[req.number])
    assert client.post(download).status_code == 404
    # The steward of the area sees it (and may not produce it); the requester too.
    client.force_login(people["steward"])
    assert client.get(detail).status_code == 200
    services.decide(req, people["steward"], approve=True, reason="同意导出")
    assert client.post(download).status_code == 403
    req.refresh_from_db()
    assert req.status == ExportStatus.APPROVED
    client.force_login(people["operator"])
    assert client.get(detail).status_code == 200
    assert client.post(decide, {"decision": "approve", "reason": "同意导出"}).status_code == 403


# --------------------------------------------------------------------------- API
def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_api_loop(people, make_user):
    body = {
        "dataset": "persons",
        "fields": ["id", "phone"],
        "area_code": STREET,
        "purpose": PURPOSE,
    }
    assert APIClient().post("/api/v1/export-requests/", body, format="json").status_code == 401
    handler = make_user("handler", Role.DEPARTMENT_HANDLER, "5101")
    assert api(handler).post("/api/v1/export-requests/", body, format="json").status_code == 403
    response = api(people["operator"]).post("/api/v1/export-requests/", body, format="json")
    assert response.status_code == 201, response.content
    number = response.data["number"]
    bad = api(people["operator"]).post(
        "/api/v1/export-requests/", {**body, "area_code": "5102"}, format="json"
    )
    assert bad.status_code == 400 and "area_code" in bad.data

    url = f"/api/v1/export-requests/{number}/"
    assert (
        api(people["other_steward"]).post(url + "approve/", {"reason": "同意导出"}).status_code
        == 404
    )
    assert api(people["operator"]).post(url + "approve/", {"reason": "同意导出"}).status_code == 403
    assert api(people["steward"]).post(url + "approve/", {"reason": ""}).status_code == 400
    response = api(people["steward"]).post(url + "approve/", {"reason": "同意导出"})
    assert response.status_code == 200 and response.data["status"] == "approved"
    response = api(people["steward"]).post(url + "refuse/", {"reason": "改变主意"})
    assert response.status_code == 409 and "already decided" in str(response.data["detail"])

    assert api(people["steward"]).post(url + "produce/").status_code == 403
    response = api(people["operator"]).post(url + "produce/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert int(response["X-Export-Rows"]) == 16
    again = api(people["operator"]).post(url + "produce/")
    assert again.status_code == 409 and "produced once" in str(again.data["detail"])
    listed = api(people["operator"]).get("/api/v1/export-requests/").data
    assert [r["number"] for r in listed["results"]] == [number]
    assert listed["results"][0]["row_count"] == 16


def test_the_api_refuses_an_own_approval_with_409(people):
    response = api(people["steward"]).post(
        "/api/v1/export-requests/",
        {"dataset": "persons", "fields": ["id"], "area_code": STREET, "purpose": PURPOSE},
        format="json",
    )
    number = response.data["number"]
    response = api(people["steward"]).post(
        f"/api/v1/export-requests/{number}/approve/", {"reason": "自己批准"}
    )
    assert response.status_code == 409


def test_the_api_rate_limit_answers_429(people, settings):
    settings.SHEQU_RATE_LIMITS = {"export_request": (1, 3600)}
    body = {"dataset": "persons", "fields": ["id"], "area_code": STREET, "purpose": PURPOSE}
    client = api(people["operator"])
    assert client.post("/api/v1/export-requests/", body, format="json").status_code == 201
    assert client.post("/api/v1/export-requests/", body, format="json").status_code == 429

"""Open311 GeoReport v2 at /open311/v2/: every endpoint in JSON and XML, each answer checked
against the response schemas (``open311.schemas``); errors, filters, status mapping, privacy."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from shequ.areas.models import Place, PlaceKind
from shequ.cases import services
from shequ.cases.models import Case, Channel
from shequ.cases.open311.models import (
    ApiClient,
    Datatype,
    Open311Request,
    Service,
    ServiceAttribute,
)
from shequ.cases.open311.schemas import StructureError, check
from shequ.cases.workflow import Outcome, State

BASE = "/open311/v2"
FORMATS = ["json", "xml"]
PHONE = "13912345678"
ID_NUMBER = "510104199003071234"


@pytest.fixture(autouse=True)
def _clear_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def attributes(matrix):
    garbage = matrix["categories"]["ENV.GARBAGE"]
    rows = [
        dict(
            code="bin",
            datatype=Datatype.SINGLEVALUELIST,
            required=True,
            order=1,
            description="垃圾在哪里？",
            description_en="Where is the garbage?",
            values=[
                {"key": "street", "name": "街边", "name_en": "Street"},
                {"key": "yard", "name": "院内", "name_en": "Yard"},
            ],
        ),
        dict(code="bags", datatype=Datatype.NUMBER, order=2, description="大约几袋？"),
        dict(code="since", datatype=Datatype.DATETIME, order=3, description="从何时开始？"),
        dict(
            code="kinds",
            datatype=Datatype.MULTIVALUELIST,
            order=4,
            description="哪些垃圾？",
            values=[
                {"key": "kitchen", "name": "厨余"},
                {"key": "bulky", "name": "大件"},
                {"key": "building", "name": "建筑垃圾"},
            ],
        ),
        dict(code="landmark", datatype=Datatype.STRING, order=5, description="附近地标"),
        dict(code="details", datatype=Datatype.TEXT, order=6, description="补充说明"),
        dict(
            code="hint",
            datatype=Datatype.TEXT,
            variable=False,
            order=0,
            description="大件垃圾请先预约。",
        ),
    ]
    for row in rows:
        ServiceAttribute.objects.create(category=garbage, **row)
    return garbage


@pytest.fixture
def api_key(db):
    _client, key = ApiClient.issue("Tianfu app", max_per_minute=50)
    return key


EN = {"HTTP_ACCEPT_LANGUAGE": "en"}  # the assertions read the English texts


def get(client, path, kind, fmt, code=200, **params):
    response = client.get(f"{BASE}/{path}.{fmt}", params, **EN)
    assert response.status_code == code, response.content[:500]
    return check(kind, fmt, response.content, response["Content-Type"])


def post(client, fmt, data, kind="created", status=201):
    response = client.post(f"{BASE}/requests.{fmt}", data, **EN)
    assert response.status_code == status, response.content[:800]
    return check(kind, fmt, response.content, response["Content-Type"])


def valid_post(grid, key, **extra):
    data = {
        "api_key": key,
        "service_code": "ENV.GARBAGE",
        "lat": str(grid.lat),
        "long": str(grid.lng),
        "description": "小区门口垃圾堆了三天没人清运",
        "attribute[bin]": "street",
        "attribute[kinds][]": ["kitchen", "bulky"],
        "attribute[bags]": "6",
        "attribute[since]": "2026-01-10T08:00:00+08:00",
        "first_name": "小明",
        "last_name": "王",
        "phone": PHONE,
        "email": "wang.xm@example.com",
        "account_id": "acct-77",
        "device_id": "dev-42",
        "media_url": "https://img.example.com/p/1.jpg",
    }
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}


def descriptions(data) -> str:
    return " | ".join(e["description"] for e in data)


# --- the schema checks themselves ------------------------------------------------------------


def test_schema_checks_reject_answers_that_break_the_spec():
    good = b'[{"code": 400, "description": "x"}]'
    assert check("errors", "json", good) == [{"code": 400, "description": "x"}]
    with pytest.raises(StructureError):
        check("errors", "json", b'[{"code": "400", "description": "x"}]')
    with pytest.raises(StructureError):  # a list datatype without values
        check(
            "service_definition",
            "json",
            b'{"service_code": "A", "attributes": [{"variable": true, "code": "c", '
            b'"datatype": "singlevaluelist", "required": false, "datatype_description": null, '
            b'"order": 1, "description": "q"}]}',
        )
    xml = b'<?xml version="1.0"?><errors><error><code>403</code><description>k</description>'
    assert check("errors", "xml", xml + b"</error></errors>") == [{"code": 403, "description": "k"}]
    with pytest.raises(StructureError):  # wrong item element
        check("errors", "xml", xml.replace(b"<error>", b"<err>") + b"</err></errors>")
    with pytest.raises(StructureError):  # a date that is not W3C
        check(
            "token",
            "json",
            b'[{"service_request_id": "1", "token": "t", "requested_datetime": "2026/01/01"}]',
        )


# --- discovery and services ------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_discovery(client, db, fmt):
    data = get(client, "discovery", "discovery", fmt)
    endpoint = data["endpoints"][0]
    assert endpoint["url"] == "http://testserver/open311/v2"
    assert set(endpoint["formats"]) == {"application/json", "text/xml"}


@pytest.mark.parametrize("fmt", FORMATS)
def test_services_list_every_published_category(client, attributes, matrix, fmt):
    Service.objects.create(category=matrix["categories"]["NOISE"], published=False)
    Service.objects.create(
        category=matrix["categories"]["ROAD"], description="路灯、井盖、路面", type="batch"
    )
    data = get(client, "services", "services", fmt)
    by_code = {s["service_code"]: s for s in data}
    assert set(by_code) == {"ENV", "ENV.GARBAGE", "HOUSING", "HOUSING.LIFT", "ROAD"}
    garbage = by_code["ENV.GARBAGE"]
    assert garbage["service_name"] == "Garbage collection"
    assert garbage["metadata"] is True and by_code["ENV"]["metadata"] is False
    assert garbage["group"] == "Sanitation" and by_code["ENV"]["group"] == "Sanitation"
    assert garbage["keywords"] == "垃圾,清运"
    assert garbage["type"] == "realtime" and by_code["ROAD"]["type"] == "batch"
    assert by_code["ROAD"]["description"] == "路灯、井盖、路面"
    assert garbage["description"] == "Sanitation › Garbage collection"


def test_chinese_by_default(client, attributes, new_case):
    data = check("errors", "json", client.post(f"{BASE}/requests.json", {}).content)
    assert data == [{"code": 403, "description": "缺少 api_key 或 api_key 无效。"}]
    services_ = check("services", "xml", client.get(f"{BASE}/services.xml").content)
    assert {s["service_name"] for s in services_} >= {"垃圾清运", "噪声扰民"}
    case = new_case()
    row = check("requests", "json", client.get(f"{BASE}/requests/{case.number}.json").content)[0]
    with translation.override("zh-hans"):
        assert row["status_notes"] == str(State.DISPATCHED.label)
    assert row["agency_responsible"] == "锦江区城管局"


def test_services_speak_english_when_asked(client, attributes):
    response = client.get(f"{BASE}/services.json", HTTP_ACCEPT_LANGUAGE="en")
    data = check("services", "json", response.content)
    garbage = next(s for s in data if s["service_code"] == "ENV.GARBAGE")
    assert (garbage["service_name"], garbage["group"]) == ("Garbage collection", "Sanitation")
    definition = check(
        "service_definition",
        "json",
        client.get(f"{BASE}/services/ENV.GARBAGE.json", HTTP_ACCEPT_LANGUAGE="en").content,
    )
    first = next(a for a in definition["attributes"] if a["code"] == "bin")
    assert first["description"] == "Where is the garbage?"
    assert first["values"][0] == {"key": "street", "name": "Street"}


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_definition(client, attributes, fmt):
    data = get(client, "services/ENV.GARBAGE", "service_definition", fmt)
    assert data["service_code"] == "ENV.GARBAGE"
    attrs = data["attributes"]
    assert [a["code"] for a in attrs] == [
        "hint",
        "bin",
        "bags",
        "since",
        "kinds",
        "landmark",
        "details",
    ]
    assert {a["datatype"] for a in attrs} == {
        "string",
        "number",
        "datetime",
        "text",
        "singlevaluelist",
        "multivaluelist",
    }
    bin_ = attrs[1]
    assert bin_["required"] is True and bin_["variable"] is True and bin_["order"] == 1
    assert [v["key"] for v in bin_["values"]] == ["street", "yard"]
    assert attrs[0]["variable"] is False


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_definition_without_attributes_and_unknown(client, matrix, fmt):
    assert get(client, "services/NOISE", "service_definition", fmt)["attributes"] == []
    data = get(client, "services/NOPE", "errors", fmt, code=404)
    assert data[0]["code"] == 404 and "NOPE" in data[0]["description"]


# --- POST requests ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_post_creates_the_case_through_intake(client, attributes, grid, api_key, fmt):
    data = post(client, fmt, valid_post(grid, api_key))
    answer = data[0]
    case = Case.objects.get(number=answer["service_request_id"])
    assert answer["account_id"] == "acct-77"
    assert case.number in answer["service_notice"]
    assert case.channel == Channel.OPEN311
    assert case.category.code == "ENV.GARBAGE"
    assert case.area_code == grid.code
    assert case.state == "dispatched" and case.department.code == "JJ-CG"
    # The reporter's contact is kept on the case (masked by the cases app's rules).
    assert (case.reporter_name, case.reporter_phone) == ("王小明", PHONE)
    assert case.reporter_email == "wang.xm@example.com"
    # The handlers read the answers in the case's text.
    assert "垃圾在哪里？: 街边" in case.text and "哪些垃圾？: 厨余, 大件" in case.text
    o311 = Open311Request.objects.get(case=case)
    assert o311.attributes == {
        "bin": "street",
        "bags": "6",
        "since": "2026-01-10T08:00:00+08:00",
        "kinds": ["kitchen", "bulky"],
    }
    assert (o311.device_id, o311.account_id) == ("dev-42", "acct-77")
    assert answer["token"] == o311.token
    # And the token leads back to the request.
    token = get(client, f"tokens/{o311.token}", "token", fmt)
    assert token == [{"service_request_id": case.number, "token": o311.token}]


@pytest.mark.parametrize("fmt", FORMATS)
def test_post_without_a_valid_api_key_is_refused(client, attributes, grid, api_key, fmt):
    for key in (None, "", "not-a-key"):
        data = post(client, fmt, valid_post(grid, key), kind="errors", status=403)
        assert data[0]["code"] == 403 and "api_key" in data[0]["description"]
    ApiClient.objects.update(active=False)
    post(client, fmt, valid_post(grid, api_key), kind="errors", status=403)
    assert not Case.objects.exists()


@pytest.mark.parametrize("fmt", FORMATS)
def test_post_needs_a_location(client, attributes, grid, api_key, fmt):
    data = post(
        client, fmt, valid_post(grid, api_key, lat=None, long=None), kind="errors", status=400
    )
    assert data[0]["code"] == 400 and "address_string" in data[0]["description"]
    data = post(client, fmt, valid_post(grid, api_key, long=None), kind="errors", status=400)
    assert "lat and long" in descriptions(data)
    data = post(client, fmt, valid_post(grid, api_key, lat="91"), kind="errors", status=400)
    assert "lat must be" in descriptions(data)
    data = post(client, fmt, valid_post(grid, api_key, lat="1", long="1"), "errors", 400)
    assert descriptions(data).startswith("lat:")  # outside every area we serve
    assert not Case.objects.exists()


def test_post_by_address_string_and_address_id(client, attributes, city, api_key):
    compound = Place.objects.filter(kind=PlaceKind.COMPOUND).order_by("code").first()
    data = post(
        client,
        "json",
        valid_post(city["grids"][0], api_key, lat=None, long=None, address_string=compound.name),
    )
    case = Case.objects.get(number=data[0]["service_request_id"])
    assert (case.place, case.area_code) == (compound, compound.area_code)

    dwelling = Place.objects.filter(kind=PlaceKind.DWELLING).order_by("code").last()
    data = post(
        client,
        "json",
        valid_post(city["grids"][0], api_key, lat=None, long=None, address_id=dwelling.code),
    )
    case = Case.objects.get(number=data[0]["service_request_id"])
    assert case.place == dwelling and case.area_code == dwelling.area_code
    # The public answer names the compound, never the dwelling.
    row = get(client, f"requests/{case.number}", "requests", "json")[0]
    assert dwelling.code.startswith(row["address_id"]) and row["address_id"] != dwelling.code
    assert re.fullmatch(r".+C\d+", row["address_id"])

    data = post(
        client, "json", valid_post(city["grids"][0], api_key, address_id="X1"), "errors", 400
    )
    assert "address_id X1" in descriptions(data)


@pytest.mark.parametrize("fmt", FORMATS)
def test_post_validates_service_and_attributes(client, attributes, grid, api_key, fmt):
    data = post(client, fmt, valid_post(grid, api_key, service_code=None), "errors", 400)
    assert "service_code is required" in descriptions(data)
    data = post(client, fmt, valid_post(grid, api_key, service_code="NOPE"), "errors", 400)
    assert "NOPE" in descriptions(data)
    bad = valid_post(
        grid,
        api_key,
        **{
            "attribute[bin]": None,
            "attribute[bags]": "many",
            "attribute[since]": "last week",
            "attribute[kinds][]": ["kitchen", "gold"],
            "attribute[landmark]": "x" * 201,
            "attribute[colour]": "red",
            "email": "not-mail",
            "media_url": "ftp://x/y.jpg",
            "description": "垃" * 4001,
        },
    )
    data = post(client, fmt, bad, kind="errors", status=400)
    text = descriptions(data)
    assert len(data) == 9 and {e["code"] for e in data} == {400}
    for part in (
        "attribute[bin] is required",
        "attribute[bags] must be a number",
        "attribute[since] must be a W3C date-time",
        "attribute[kinds]: gold is not one of kitchen, bulky, building",
        "attribute[landmark] must be one line",
        "attribute[colour] is not an attribute",
        "email is not",
        "media_url must be",
        "description is longer",
    ):
        assert part in text, part
    data = post(
        client,
        fmt,
        valid_post(grid, api_key, **{"attribute[bin]": ["street", "yard"]}),
        "errors",
        400,
    )
    assert "attribute[bin] takes one value" in descriptions(data)
    data = post(client, fmt, valid_post(grid, api_key, phone="12345"), "errors", 400)
    assert descriptions(data).startswith("phone:")
    assert not Case.objects.exists() and not Open311Request.objects.exists()


def test_post_is_rate_limited_per_api_key(client, attributes, grid):
    _c, slow = ApiClient.issue("slow app", max_per_minute=2)
    _c, other = ApiClient.issue("other app", max_per_minute=2)
    for _ in range(2):
        post(client, "json", valid_post(grid, slow))
    data = post(client, "json", valid_post(grid, slow), kind="errors", status=429)
    assert data[0]["code"] == 429
    post(client, "json", valid_post(grid, other))  # each key has its own budget
    assert Case.objects.count() == 3


def test_post_needs_no_csrf_token(attributes, grid, api_key):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(f"{BASE}/requests.json", valid_post(grid, api_key))
    assert response.status_code == 201


# --- GET requests ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_get_request_by_id_and_unknown(client, new_case, fmt):
    case = new_case()
    data = get(client, f"requests/{case.number}", "requests", fmt)
    assert len(data) == 1
    row = data[0]
    assert row["service_request_id"] == case.number
    assert row["status"] == "open" and row["service_code"] == "ENV.GARBAGE"
    assert row["agency_responsible"] == "Jinjiang Urban Management"
    assert row["requested_datetime"] == timezone.localtime(case.created_at).isoformat(
        timespec="seconds"
    )
    assert row["expected_datetime"] == timezone.localtime(case.resolve_by).isoformat(
        timespec="seconds"
    )
    assert row["requested_datetime"].endswith("+08:00")
    assert row["lat"] == round(case.lat, 4) and row["long"] == round(case.lng, 4)
    data = get(client, "requests/SQ1", "errors", fmt, code=404)
    assert data[0]["code"] == 404


@pytest.mark.parametrize("fmt", FORMATS)
def test_get_requests_filters(client, new_case, matrix, grid, fmt):
    now = timezone.now()
    garbage = new_case()
    noise = new_case(text="楼下广场舞噪音扰民到深夜", category="NOISE")
    closed = new_case(text="路灯坏了一直不亮", category="ROAD")
    services.close_case(closed, acting_user=None, outcome="not_ours", note="属于供电公司")
    old = new_case(now=now - dt.timedelta(days=100))
    numbers = lambda rows: {r["service_request_id"] for r in rows}  # noqa: E731

    everything = get(client, "requests", "requests", fmt)
    assert numbers(everything) == {garbage.number, noise.number, closed.number}  # 90 days
    assert everything[0]["service_request_id"] == closed.number  # newest first
    assert numbers(get(client, "requests", "requests", fmt, service_code="NOISE,ROAD")) == {
        noise.number,
        closed.number,
    }
    assert numbers(get(client, "requests", "requests", fmt, status="closed")) == {closed.number}
    assert numbers(get(client, "requests", "requests", fmt, status="open")) == {
        garbage.number,
        noise.number,
    }
    assert len(get(client, "requests", "requests", fmt, status="open,closed")) == 3
    start = timezone.localtime(now - dt.timedelta(days=120))
    end = timezone.localtime(now - dt.timedelta(days=95))
    assert numbers(
        get(
            client,
            "requests",
            "requests",
            fmt,
            start_date=start.isoformat(timespec="seconds"),
            end_date=end.isoformat(timespec="seconds"),
        )
    ) == {old.number}
    # Only a start: 90 days from it; a date alone is a W3C date too; Z is UTC.
    assert numbers(get(client, "requests", "requests", fmt, start_date=f"{start:%Y-%m-%d}")) == {
        old.number
    }
    utc = (now - dt.timedelta(days=101)).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert old.number in numbers(get(client, "requests", "requests", fmt, start_date=utc))
    # service_request_id overrides every other argument.
    ids = get(
        client,
        "requests",
        "requests",
        fmt,
        service_request_id=f"{old.number},{noise.number}",
        status="closed",
    )
    assert numbers(ids) == {old.number, noise.number}

    for params, words in (
        ({"status": "pending"}, "status must be"),
        ({"start_date": "yesterday"}, "start_date must be a W3C"),
        ({"end_date": "2026-13-45"}, "end_date must be a W3C"),
        ({"start_date": "2026-01-01", "end_date": "2026-06-01"}, "more than 90 days"),
        ({"start_date": "2026-02-01", "end_date": "2026-01-01"}, "before start_date"),
    ):
        data = get(client, "requests", "errors", fmt, 400, **params)
        assert words in descriptions(data), params


def test_get_requests_answers_at_most_1000_newest(client, new_case):
    first = new_case()
    now = timezone.now()
    Case.objects.bulk_create(
        Case(
            number=f"SQ20990101{i:06d}",
            token=f"bulk-token-{i}",
            title="路面坑洼",
            text="路面坑洼需要修补",
            channel=Channel.WEB,
            area_code=first.area_code,
            created_at=now - dt.timedelta(minutes=i + 1),
        )
        for i in range(1000)
    )
    with CaptureQueriesContext(connection) as queries:
        data = check("requests", "json", client.get(f"{BASE}/requests.json").content)
    assert len(data) == 1000
    assert data[0]["service_request_id"] == first.number  # the newest kept
    assert "SQ20990101000999" not in {r["service_request_id"] for r in data}
    assert len(queries) <= 3  # one query for the rows, whatever their number


def test_get_requests_query_count_does_not_grow(client, new_case):
    def count():
        with CaptureQueriesContext(connection) as queries:
            client.get(f"{BASE}/requests.json")
        return len(queries)

    new_case()
    few = count()
    for _ in range(5):
        new_case()
    assert count() == few


# --- status mapping --------------------------------------------------------------------------


def en(label) -> str:
    with translation.override("en"):
        return str(label)


def status_of(client, case, fmt="json"):
    row = get(client, f"requests/{case.number}", "requests", fmt)[0]
    return row["status"], row["status_notes"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_statuses_follow_the_workflow(client, new_case, matrix, fmt):
    case = new_case(text="路灯坏了一直不亮", category="ROAD")  # no auto-dispatch: stays new
    assert status_of(client, case, fmt) == ("open", en(State.NEW.label))
    case = services.accept_case(case, acting_user=None)
    case = services.register_case(case, acting_user=None)
    case = services.dispatch_case(case, acting_user=None, note="请城管委处理")
    status, notes = status_of(client, case, fmt)
    assert status == "open" and "请城管委处理" in notes
    row = get(client, f"requests/{case.number}", "requests", fmt)[0]
    assert row["agency_responsible"] == "City Management Committee"
    case = services.start_case(case, acting_user=None)
    case = services.report_case(case, acting_user=None, note="已更换灯泡")
    assert status_of(client, case, fmt)[0] == "open"
    case = services.verify_case(case, acting_user=None)
    case = services.close_case(case, acting_user=None, outcome="resolved", note="复核通过")
    status, notes = status_of(client, case, fmt)
    assert status == "closed" and en(Outcome.RESOLVED.label) in notes and "复核通过" in notes
    case = services.evaluate_case(case, satisfaction="dissatisfied", by_reporter=True)
    assert status_of(client, case, fmt)[0] == "open"  # under review: may be reopened
    case = services.uphold_case(case, acting_user=None, note="已按规定处理")
    assert status_of(client, case, fmt)[0] == "closed"


def test_staff_only_notes_never_reach_status_notes(client, new_case, make_user):
    case = new_case()
    services.add_note(
        case, acting_user=make_user("cg", "city_operator", "5101"), note="内部：联系人脾气差"
    )
    _status, notes = status_of(client, case)
    assert "联系人" not in notes


# --- privacy ---------------------------------------------------------------------------------


def test_no_personal_data_in_any_public_answer(
    client, attributes, new_case, grid, api_key, make_user
):
    email = "zhang.wei@example.com"
    new_case(
        text=f"我是张伟，电话{PHONE}，身份证{ID_NUMBER}，邮箱{email}，楼道堆满垃圾",
        reporter_name="张伟",
        reporter_phone=PHONE,
        reporter_email=email,
        address="锦江区幸福小区3栋2单元501室",
    )
    created = post(
        client,
        "json",
        valid_post(
            grid,
            api_key,
            description=f"王小明反映：联系 {PHONE} 或 {email}",
            address_string="幸福小区12号楼1单元302",
        ),
    )[0]
    module = new_case(
        text="入户筛查随访：独居老人需要上门照护",
        channel="module",
        source_ref="campaigns.visit:1",
        reporter_phone="13700001111",
    )
    case = Case.objects.get(number=created["service_request_id"])
    operator = make_user("op", "city_operator", "5101")
    services.add_note(case, acting_user=operator, note=f"已电话联系{PHONE}（王小明）", public=True)
    services.accept_case(new_case(category="ROAD"), acting_user=None, note=f"请回电{PHONE}")

    secrets = [
        "张伟",
        "王小明",
        PHONE,
        "139 1234 5678",
        ID_NUMBER,
        email,
        "wang.xm@example.com",
        "zhang.wei",
        "acct-77",
        "dev-42",
        "3栋",
        "2单元",
        "501",
        "12号楼",
        "302",
        "13700001111",
        "独居老人",
        case.token,
        module.number,
    ]
    bodies = []
    for fmt in FORMATS:
        for path, kind in (
            ("requests", "requests"),
            (f"requests/{case.number}", "requests"),
            (f"tokens/{created['token']}", "token"),
            ("services", "services"),
            ("discovery", "discovery"),
        ):
            response = client.get(f"{BASE}/{path}.{fmt}")
            check(kind, fmt, response.content)
            bodies.append(response.content.decode())
        assert client.get(f"{BASE}/requests/{module.number}.{fmt}").status_code == 404
    text = "\n".join(bodies)
    for secret in secrets:
        assert secret not in text, secret
    # What remains is useful: the masked description and the compound-level address.
    rows = check("requests", "json", client.get(f"{BASE}/requests.json").content)
    by_text = {r["address"]: r for r in rows if r["address"]}
    assert set(by_text) == {"锦江区幸福小区", "幸福小区"}
    assert "139****5678" in by_text["幸福小区"]["description"]
    assert "***@example.com" in by_text["幸福小区"]["description"]
    assert "5101***********234" in by_text["锦江区幸福小区"]["description"]
    assert "张*" in by_text["锦江区幸福小区"]["description"]


# --- errors for everything else --------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_other_methods_paths_and_jurisdictions(client, matrix, fmt):
    response = client.put(f"{BASE}/services.{fmt}")
    assert response.status_code == 405 and response["Allow"] == "GET"
    check("errors", fmt, response.content, response["Content-Type"])
    response = client.delete(f"{BASE}/requests.{fmt}")
    assert response.status_code == 405 and response["Allow"] == "GET, POST"
    get(client, "nothing/here", "errors", fmt, code=404)
    get(client, "tokens/unknown-token", "errors", fmt, code=404)
    assert len(get(client, "services", "services", fmt, jurisdiction_id="510100")) == 6
    data = get(client, "services", "errors", fmt, code=404, jurisdiction_id="310100")
    assert "310100" in data[0]["description"]

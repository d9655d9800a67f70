"""Interoperability: a third-party Open311 client, ``georeport`` from PyPI, against a live server.

``georeport`` (0.3.1) reads services, service definitions and requests in JSON and XML, but
has no call to create a request ("GeoReport does not currently support the creation of new
311 service requests", its README). The POST is therefore sent with ``requests`` — the HTTP
library georeport itself uses — as the spec describes it (form-encoded, api_key), and the
request is then read back through georeport. Nothing of the client is patched.
"""

from __future__ import annotations

import pytest
import requests
from georeport import GeoReport

from shequ.cases.models import Case, Channel
from shequ.cases.open311.models import ApiClient, Datatype, ServiceAttribute
from shequ.cases.open311.schemas import check

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def server(live_server, matrix):
    ServiceAttribute.objects.create(
        category=matrix["categories"]["ENV.GARBAGE"],
        code="bin",
        datatype=Datatype.SINGLEVALUELIST,
        required=True,
        order=1,
        description="垃圾在哪里？",
        values=[{"key": "street", "name": "街边"}, {"key": "yard", "name": "院内"}],
    )
    ServiceAttribute.objects.create(
        category=matrix["categories"]["ENV.GARBAGE"],
        code="bags",
        datatype=Datatype.NUMBER,
        order=2,
        description="大约几袋？",
    )
    return f"{live_server.url}/open311/v2"


def as_list(value):
    """xmltodict gives a lone repeated element as a dict, several as a list."""
    return value if isinstance(value, list) else [value]


def test_georeport_client_against_the_live_server(server, grid):
    _client, key = ApiClient.issue("georeport interop")
    json_client = GeoReport(server, api_key=key)
    xml_client = GeoReport(server, api_key=key, output_format="xml")

    # Services: the same list in both formats.
    services = json_client.get_service_list()
    check("services", "json", requests.get(f"{server}/services.json", timeout=10).content)
    codes = {s["service_code"] for s in services}
    assert {"ENV", "ENV.GARBAGE", "NOISE"} <= codes
    xml_services = as_list(xml_client.get_service_list())
    assert {s["service_code"] for s in xml_services} == codes
    garbage = next(s for s in xml_services if s["service_code"] == "ENV.GARBAGE")
    assert garbage["metadata"] == "true" and garbage["group"] == "环境卫生"

    # The service definition of a service with metadata.
    definition = json_client.get_service_definition("ENV.GARBAGE")
    assert [a["code"] for a in definition["attributes"]] == ["bin", "bags"]
    assert definition["attributes"][0]["values"][0] == {"key": "street", "name": "街边"}
    xml_definition = xml_client.get_service_definition("ENV.GARBAGE")
    xml_attributes = as_list(xml_definition["attributes"]["attribute"])
    assert xml_attributes[0]["code"] == "bin" and xml_attributes[0]["required"] == "true"

    # POST a request with the api_key (georeport has no call for it: see the module's doc).
    response = requests.post(
        f"{server}/requests.json",
        data={
            "api_key": json_client.api_key,
            "service_code": "ENV.GARBAGE",
            "lat": grid.lat,
            "long": grid.lng,
            "description": "小区门口垃圾堆了三天没人清运",
            "attribute[bin]": "street",
            "attribute[bags]": "4",
            "phone": "13912345678",
            "first_name": "Ming",
            "last_name": "Wang",
        },
        timeout=10,
    )
    assert response.status_code == 201, response.text
    created = check("created", "json", response.content, response.headers["Content-Type"])[0]
    number = created["service_request_id"]
    case = Case.objects.get(number=number)
    assert case.channel == Channel.OPEN311 and case.reporter_phone == "13912345678"

    # Read it back through the client, in JSON and XML.
    row = json_client.get_service_request(number)
    assert row["service_request_id"] == number and row["status"] == "open"
    assert row["service_code"] == "ENV.GARBAGE"
    assert row["agency_responsible"] == "锦江区城管局"
    assert row["description"] == "小区门口垃圾堆了三天没人清运"
    xml_row = xml_client.get_service_request(number)
    assert {k: xml_row[k] for k in ("service_request_id", "status", "service_code")} == {
        "service_request_id": number,
        "status": "open",
        "service_code": "ENV.GARBAGE",
    }
    assert float(xml_row["lat"]) == row["lat"]
    listed = json_client.get_service_requests(service_code="ENV.GARBAGE", status="open")
    assert [r["service_request_id"] for r in listed] == [number]
    xml_listed = as_list(xml_client.get_service_requests(service_request_id=number))
    assert [r["service_request_id"] for r in xml_listed] == [number]
    # No personal data in what the client reads.
    for body in (str(row), str(xml_row), str(listed)):
        assert "13912345678" not in body and "Wang" not in body

    # A client set up for another jurisdiction is told so (404 with the spec's error list).
    elsewhere = GeoReport(server, jurisdiction="310100")
    with pytest.raises(requests.HTTPError) as refused:
        elsewhere.get_service_list()
    assert refused.value.response.status_code == 404
    errors = check("errors", "json", refused.value.response.content)
    assert "310100" in errors[0]["description"]
    assert GeoReport(server, jurisdiction="510100").get_service_list() == services

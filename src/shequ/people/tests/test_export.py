"""The masked CSV export of the persons under an area."""

import csv
import io

import pytest
from django.test import Client
from django.urls import reverse

from shequ.core import personal
from shequ.core.roles import Role
from shequ.people.exports import COLUMNS
from shequ.people.models import Person

pytestmark = pytest.mark.django_db


def url(code):
    return reverse("people:persons_csv", kwargs={"area_code": code})


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def steward(city, make_user):
    """A data steward of district 510104: may export persons there."""
    return client_for(make_user("steward", Role.DATA_STEWARD, "510104"))


def download(client, code):
    response = client.get(url(code))
    assert response.status_code == 200
    assert response.streaming
    body = b"".join(response.streaming_content)
    return response, body


def test_streams_masked_csv_of_the_persons_under_the_area(city, steward):
    response, body = download(steward, "510104001001")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="persons-510104001001.csv"' in response["Content-Disposition"]
    assert body.startswith("\ufeff".encode())  # Excel reads UTF-8 by the BOM
    text = body.decode("utf-8-sig")
    table = list(csv.DictReader(io.StringIO(text)))
    expected = Person.objects.under("510104001001")
    assert [int(row["id"]) for row in table] == sorted(expected.values_list("pk", flat=True))
    assert len(table) == 8
    for row in table:
        person = Person.objects.get(pk=row["id"])
        assert row["name"] == person.name
        assert row["id_number"] == personal.display(person, "id_number")
        assert row["phone"] == personal.display(person, "phone")
        assert row["household_number"] == person.household.number
        assert row["dwelling"] == person.dwelling.code
        assert row["birth_date"] == person.birth_date.isoformat()
    for person in city["persons"]:
        assert person.id_number not in text and person.phone not in text


def test_header_row_is_the_field_names(steward):
    _response, body = download(steward, "510104")
    header = body.decode("utf-8-sig").splitlines()[0]
    assert header == ",".join(name for name, _value in COLUMNS)
    assert "id_number" in header and "phone" in header


def test_whole_district(city, steward):
    _response, body = download(steward, "510104")
    assert len(body.decode("utf-8-sig").splitlines()) == 1 + 16


def test_cells_that_look_like_formulas_are_quoted(city, steward):
    person = city["persons"][0]
    Person.objects.filter(pk=person.pk).update(name='=HYPERLINK("http://x","y")')
    _response, body = download(steward, person.area_code)
    table = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    row = next(r for r in table if int(r["id"]) == person.pk)
    assert row["name"] == '\'=HYPERLINK("http://x","y")'


@pytest.mark.parametrize(
    "code",
    [
        "510105",  # the other district
        "510105001001",
        "5101",  # above the steward's district: would include the other district
        "510104999",  # under the district but no such area
    ],
)
def test_outside_the_export_scope_or_missing_is_404(steward, code):
    assert steward.get(url(code)).status_code == 404


def test_without_export_permission_is_403(city, make_user):
    # Street staff and grid workers may view (and reveal) but not export the population roll.
    for role, code in [(Role.STREET_STAFF, "510104001"), (Role.GRID_WORKER, "510104001001G01")]:
        client = client_for(make_user(f"u-{role}", role, code))
        assert client.get(url(code)).status_code == 403
    assert client_for(make_user("nobody")).get(url("510104")).status_code == 403


def test_export_scope_is_the_export_permission_not_view(city, make_user):
    # A steward of one community who views the whole city exports only their community.
    user = make_user("mixed", Role.CITY_OPERATOR, "5101")
    user.assignments.create(role=Role.DATA_STEWARD, area_code="510104001001")
    client = client_for(user)
    assert client.get(url("510104001002")).status_code == 404
    _response, body = download(client, "510104001001")
    assert len(body.decode("utf-8-sig").splitlines()) == 1 + 8


def test_anonymous_is_sent_to_sign_in(city):
    response = Client().get(url("510104"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))

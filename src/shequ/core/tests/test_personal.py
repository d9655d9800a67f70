"""Personal data: masked by default; a reveal is allowed only with a reason, to a role that may
reveal, in scope, and writes exactly one append-only PersonalDataAccess row.

The users here are verified with a two-factor code (``testing.verified``): the two-factor rule
itself is tested in test_twofactor.py."""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction

from shequ.core import personal
from shequ.core.models import PersonalDataAccess
from shequ.core.personal import RevealRefused, reveal
from shequ.core.roles import Role
from shequ.core.testing import verified

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(city):
    return city["persons"][0]  # lives in grid 510104001001G01


def test_personal_fields_are_masked_by_default(person):
    assert personal.display(person, "id_number") == (
        person.id_number[:4] + "*" * 11 + person.id_number[-3:]
    )
    assert personal.display(person, "phone") == person.phone[:3] + "****" + person.phone[-4:]
    assert personal.display(person, "name") == person.name  # registered, but not masked
    assert set(personal.revealable_fields(type(person))) == {"id_number", "phone"}


def test_a_reveal_returns_the_values_and_writes_exactly_one_access_row(person, make_user):
    worker = verified(make_user("worker", Role.COMMUNITY_WORKER, "510104001001"))
    values = reveal(
        worker, person, ["id_number", "phone"], "  家访核实身份  ", channel="api", ip="10.0.0.7"
    )
    assert values == {"id_number": person.id_number, "phone": person.phone}
    (row,) = PersonalDataAccess.objects.all()
    assert row.user == worker
    assert (row.model, row.object_id, row.area_code) == (
        "people.person",
        str(person.pk),
        person.area_code,
    )
    assert (row.fields, row.reason, row.channel, row.ip_address) == (
        "id_number,phone",
        "家访核实身份",
        "api",
        "10.0.0.7",
    )
    reveal(worker, person, ["phone", "phone"], "second visit")
    assert PersonalDataAccess.objects.count() == 2
    assert PersonalDataAccess.objects.order_by("-pk").first().fields == "phone"


@pytest.mark.parametrize("reason", ["", "   ", "why", None])
def test_a_reveal_without_a_reason_is_refused_and_leaves_no_row(person, make_user, reason):
    worker = verified(make_user("worker", Role.COMMUNITY_WORKER, "510104001001"))
    with pytest.raises(RevealRefused):
        reveal(worker, person, ["id_number"], reason)
    assert PersonalDataAccess.objects.count() == 0


@pytest.mark.parametrize("fields", [[], [""], ["name"], ["id_number", "password"]])
def test_only_masked_fields_can_be_revealed(person, make_user, fields):
    worker = verified(make_user("worker", Role.COMMUNITY_WORKER, "510104001001"))
    with pytest.raises(RevealRefused):
        reveal(worker, person, fields, "checking the record")
    assert PersonalDataAccess.objects.count() == 0


@pytest.mark.parametrize(
    ("role", "area"),
    [
        (Role.CITY_OPERATOR, "5101"),  # sees the city, may not reveal
        (Role.DEPARTMENT_HANDLER, "5101"),  # no business with the population roll
        (Role.GRID_WORKER, "510104001001G02"),  # may reveal, but in another grid
        (Role.COMMUNITY_WORKER, "510104001002"),  # the neighbouring community
        (Role.DATA_STEWARD, "510105"),  # another district
    ],
)
def test_a_reveal_by_a_wrong_role_or_out_of_scope_is_denied_and_leaves_no_row(
    person, make_user, role, area
):
    user = verified(make_user("someone", role, area))
    with pytest.raises(PermissionDenied):
        reveal(user, person, ["id_number"], "checking the record")
    assert PersonalDataAccess.objects.count() == 0


def test_the_superuser_flag_does_not_allow_a_reveal(person, make_user):
    user = verified(make_user("root", Role.CITY_OPERATOR, "5101"))
    user.is_superuser = user.is_staff = True
    user.save()
    with pytest.raises(PermissionDenied):
        reveal(user, person, ["phone"], "checking the record")
    assert PersonalDataAccess.objects.count() == 0


def test_access_rows_cannot_be_changed_or_deleted_through_the_orm(person, make_user):
    worker = verified(make_user("worker", Role.GRID_WORKER, "510104001001G01"))
    reveal(worker, person, ["id_number"], "door-to-door check")
    row = PersonalDataAccess.objects.get()
    original = (row.pk, row.reason, row.fields, row.at)

    row.reason = "something else"
    with pytest.raises(PermissionError):
        row.save()
    with pytest.raises(PermissionError):
        row.delete()
    with pytest.raises(PermissionError):
        PersonalDataAccess.objects.filter(pk=row.pk).update(reason="rewritten")
    with pytest.raises(PermissionError):
        PersonalDataAccess.objects.all().update(reason="rewritten")
    with pytest.raises(PermissionError):
        PersonalDataAccess.objects.filter(pk=row.pk).delete()
    with pytest.raises(PermissionError):
        PersonalDataAccess.objects.all().delete()
    row.reason = "bulk"
    with pytest.raises(PermissionError), transaction.atomic():  # a savepoint: the test goes on
        PersonalDataAccess.objects.bulk_update([row], ["reason"])

    fresh = PersonalDataAccess.objects.get()
    assert (fresh.pk, fresh.reason, fresh.fields, fresh.at) == original


def test_reveals_are_rate_limited_on_every_channel(person, make_user, settings, client):
    from django.urls import reverse
    from rest_framework.test import APIClient

    from shequ.core.testing import verify_session

    settings.SHEQU_RATE_LIMITS = {"reveal": (2, 60)}
    worker = verified(make_user("worker", Role.COMMUNITY_WORKER, "510104001001"))
    reveal(worker, person, ["phone"], "家访核实身份")
    reveal(worker, person, ["phone"], "家访核实身份", channel="api")
    with pytest.raises(personal.RevealThrottled):
        reveal(worker, person, ["phone"], "家访核实身份")
    assert PersonalDataAccess.objects.count() == 2
    # The page shows the reason and no value; the API answers 429.
    verify_session(client, worker)
    page = client.post(
        reverse("people:reveal", args=[person.pk]),
        {"field": ["phone"], "reason": "家访核实身份"},
        HTTP_ACCEPT_LANGUAGE="en",
    ).content.decode()
    assert "Too many reveals" in page and person.phone not in page
    api = APIClient()
    api.force_authenticate(worker)
    response = api.post(
        f"/api/v1/persons/{person.pk}/reveal/",
        {"fields": ["phone"], "reason": "家访核实身份"},
        format="json",
    )
    assert response.status_code == 429
    assert PersonalDataAccess.objects.count() == 2

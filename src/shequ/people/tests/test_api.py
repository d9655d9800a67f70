"""The people API: personal fields masked everywhere, the audited reveal, the filters."""

import datetime as dt
import time

import pytest
from rest_framework.test import APIClient

from shequ.core import personal
from shequ.core.models import PersonalDataAccess
from shequ.core.roles import Role
from shequ.core.testing import PASSWORD, add_device, totp_code, verified
from shequ.people.api.filtersets import years_before
from shequ.people.choices import ResidentType
from shequ.people.models import Person

pytestmark = pytest.mark.django_db


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def operator(city, make_user):
    """The city operations centre: views every person, may not reveal."""
    return client_for(make_user("op", Role.CITY_OPERATOR, "5101"))


def persons(client, **params):
    response = client.get("/api/v1/persons/", {"page_size": 500, **params})
    assert response.status_code == 200, response.content
    return response.data["results"]


def ids(client, **params):
    return sorted(row["id"] for row in persons(client, **params))


def pks(queryset):
    return sorted(queryset.values_list("pk", flat=True))


class TestMasking:
    def urls(self, city):
        yield "/api/v1/persons/?page_size=500"
        yield "/api/v1/households/?page_size=500"
        yield "/api/v1/residences/?page_size=500"
        for person in city["persons"]:
            yield f"/api/v1/persons/{person.pk}/"
        for household in city["households"]:
            yield f"/api/v1/households/{household.pk}/"

    def test_no_plain_id_number_or_phone_in_any_answer(self, city, operator):
        secrets = [p.id_number for p in city["persons"]] + [p.phone for p in city["persons"]]
        assert all(len(s) >= 11 for s in secrets)
        for url in self.urls(city):
            response = operator.get(url)
            assert response.status_code == 200, url
            body = response.content.decode()
            leaked = [s for s in secrets if s in body]
            assert not leaked, (url, leaked)

    def test_masks_are_shown(self, city, operator):
        person = city["persons"][0]
        data = operator.get(f"/api/v1/persons/{person.pk}/").data
        assert data["id_number"] == personal.display(person, "id_number")
        assert data["id_number"].startswith("5101") and "*" in data["id_number"]
        assert data["phone"] == person.phone[:3] + "****" + person.phone[-4:]
        for row in persons(operator):
            assert "*" in row["id_number"] and "*" in row["phone"]

    def test_even_a_user_who_may_reveal_sees_masks(self, city, make_user):
        client = client_for(make_user("gw", Role.GRID_WORKER, city["grids"][0].code))
        for row in persons(client):
            person = Person.objects.get(pk=row["id"])
            assert row["id_number"] != person.id_number and row["phone"] != person.phone


def test_person_fields(city, operator):
    person = city["persons"][0]
    data = operator.get(f"/api/v1/persons/{person.pk}/").data
    assert data["name"] == person.name
    assert data["sex"] == "1" and data["resident_type"] == "registered"
    assert data["birth_date"] == person.birth_date.isoformat()
    assert data["age"] == person.age
    assert data["nationality"] == "CHN" and data["ethnicity"] == "01"
    assert data["household"] == person.household_id
    assert data["household_number"] == person.household.number
    assert data["relation"] == "02"
    assert data["dwelling"] == person.dwelling.code
    assert data["area_code"] == person.area_code


def test_household_with_members_in_brief(city, operator):
    household = city["households"][0]
    data = operator.get(f"/api/v1/households/{household.pk}/").data
    assert data["number"] == household.number
    assert data["dwelling"] == household.dwelling.code
    assert data["member_count"] == 2
    assert {m["relation"] for m in data["members"]} == {"02", "10"}
    assert {m["name"] for m in data["members"]} == {
        p.name for p in city["persons"] if p.household_id == household.pk
    }


def test_household_members_are_scoped_too(city, make_user):
    # A member registered elsewhere is not shown to a worker of the household's grid.
    household = city["households"][0]
    stranger = city["persons"][-1]
    stranger.household = household
    stranger.save()
    client = client_for(make_user("gw", Role.GRID_WORKER, household.area_code))
    data = client.get(f"/api/v1/households/{household.pk}/").data
    assert data["member_count"] == 2
    assert stranger.pk not in {m["id"] for m in data["members"]}


class TestReveal:
    def url(self, person):
        return f"/api/v1/persons/{person.pk}/reveal/"

    def body(self, **overrides):
        return {
            "fields": ["id_number", "phone"],
            "reason": "Door visit: confirm tenant",
            **overrides,
        }

    def test_reveal_returns_plain_values_and_writes_one_row(self, city, make_user):
        person = city["persons"][0]
        user = verified(make_user("gw", Role.GRID_WORKER, person.area_code))
        response = client_for(user).post(self.url(person), self.body(), format="json")
        assert response.status_code == 200
        assert response.data == {"id_number": person.id_number, "phone": person.phone}
        access = PersonalDataAccess.objects.get()
        assert access.user == user and access.channel == "api"
        assert access.model == "people.person" and access.object_id == str(person.pk)
        assert access.fields == "id_number,phone" and access.area_code == person.area_code
        assert access.reason == "Door visit: confirm tenant"
        assert access.ip_address == "127.0.0.1"

    def test_one_field(self, city, make_user):
        person = city["persons"][0]
        client = client_for(verified(make_user("gw", Role.GRID_WORKER, person.area_code)))
        response = client.post(self.url(person), self.body(fields=["phone"]), format="json")
        assert response.data == {"phone": person.phone}
        assert PersonalDataAccess.objects.get().fields == "phone"

    def test_with_a_token_and_form_data(self, city, make_user):
        person = city["persons"][0]
        device = add_device(make_user("gw", Role.GRID_WORKER, person.area_code))
        client = APIClient()
        token = client.post(
            "/api/v1/auth/token/",
            {"username": "gw", "password": PASSWORD, "otp_code": totp_code(device)},
        )
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.data['token']}")
        # A token alone never reveals: each reveal carries the authenticator's current code.
        response = client.post(
            self.url(person),
            {"fields": "id_number", "reason": "Check ID"},
            HTTP_X_OTP_CODE=totp_code(device, at=time.time() + 30),
        )
        assert response.status_code == 200 and response.data["id_number"] == person.id_number
        assert response["Cache-Control"] == "no-store, private"
        assert PersonalDataAccess.objects.count() == 1

    @pytest.mark.parametrize(
        "body, field",
        [
            ({"fields": ["id_number"]}, "reason"),
            ({"fields": ["id_number"], "reason": "   "}, "reason"),
            ({"fields": ["id_number"], "reason": "ok"}, "reason"),
            ({"fields": ["name"], "reason": "Door visit"}, "fields"),
            ({"fields": ["salary"], "reason": "Door visit"}, "fields"),
            ({"fields": [], "reason": "Door visit"}, "fields"),
            ({"reason": "Door visit"}, "fields"),
        ],
    )
    def test_refused_without_reason_or_with_unknown_fields(self, city, make_user, body, field):
        person = city["persons"][0]
        client = client_for(make_user("gw", Role.GRID_WORKER, person.area_code))
        response = client.post(self.url(person), body, format="json")
        assert response.status_code == 400
        assert list(response.data) == [field]
        assert str(response.data[field][0])
        assert person.id_number not in response.content.decode()
        assert not PersonalDataAccess.objects.exists()

    def test_reason_message_is_clear(self, city, make_user):
        person = city["persons"][0]
        client = client_for(make_user("gw", Role.GRID_WORKER, person.area_code))
        response = client.post(
            self.url(person), {"fields": ["phone"]}, format="json", HTTP_ACCEPT_LANGUAGE="en"
        )
        assert response.data["reason"] == ["A reveal needs a reason (at least 4 characters)."]

    @pytest.mark.parametrize("role", [Role.CITY_OPERATOR, Role.DEPARTMENT_HANDLER])
    def test_roles_without_reveal_get_403(self, city, make_user, role):
        person = city["persons"][0]
        client = client_for(make_user("u", role, "5101"))
        response = client.post(self.url(person), self.body(), format="json")
        assert response.status_code == 403
        assert person.id_number not in response.content.decode()
        assert not PersonalDataAccess.objects.exists()

    def test_out_of_scope_is_404(self, city, make_user):
        person, elsewhere = city["persons"][0], city["persons"][-1]
        client = client_for(make_user("gw", Role.GRID_WORKER, person.area_code))
        assert client.post(self.url(elsewhere), self.body(), format="json").status_code == 404
        missing = Person(pk=999999)
        assert client.post(self.url(missing), self.body(), format="json").status_code == 404
        assert not PersonalDataAccess.objects.exists()

    def test_visible_but_not_revealable_here_is_403(self, city, make_user):
        # Views the whole city, may reveal in one grid only.
        inside, outside = city["persons"][0], city["persons"][-1]
        user = make_user("both", Role.CITY_OPERATOR, "5101")
        user.assignments.create(role=Role.GRID_WORKER, area_code=inside.area_code)
        client = client_for(verified(user))
        response = client.post(
            self.url(outside), self.body(), format="json", HTTP_ACCEPT_LANGUAGE="en"
        )
        assert response.status_code == 403
        assert response.data["detail"] == "Your role may not reveal personal data here."
        assert client.post(self.url(inside), self.body(), format="json").status_code == 200
        assert PersonalDataAccess.objects.get().object_id == str(inside.pk)

    def test_anonymous_is_401(self, city):
        response = APIClient().post(self.url(city["persons"][0]), self.body(), format="json")
        assert response.status_code == 401
        assert not PersonalDataAccess.objects.exists()

    def test_reveal_by_session_needs_the_csrf_token(self, city, make_user):
        person = city["persons"][0]
        client = APIClient(enforce_csrf_checks=True)
        client.force_login(make_user("gw", Role.GRID_WORKER, person.area_code))
        response = client.post(self.url(person), self.body(), format="json")
        assert response.status_code == 403
        assert not PersonalDataAccess.objects.exists()

    def test_get_is_not_allowed(self, city, make_user):
        person = city["persons"][0]
        client = client_for(make_user("gw", Role.GRID_WORKER, person.area_code))
        assert client.get(self.url(person)).status_code == 405


class TestPersonFilters:
    def test_under(self, city, operator):
        grid = city["grids"][3]
        assert ids(operator, under=grid.code) == pks(Person.objects.under(grid.code))
        assert len(ids(operator, under=grid.code)) == 4
        assert len(ids(operator, under="510105")) == 16

    def test_codes_and_choices(self, city, operator):
        person = city["persons"][5]
        assert ids(operator, household=person.household_id) == pks(
            Person.objects.filter(household=person.household)
        )
        assert ids(operator, household_number=person.household.number) == ids(
            operator, household=person.household_id
        )
        assert ids(operator, dwelling=person.dwelling.code) == pks(
            Person.objects.filter(dwelling=person.dwelling)
        )
        assert len(ids(operator, sex="2")) == 16
        Person.objects.filter(pk=person.pk).update(resident_type=ResidentType.FLOATING)
        assert ids(operator, resident_type="floating") == [person.pk]
        assert ids(operator, resident_type="floating", under="510105") == []

    def test_name(self, city, operator):
        assert ids(operator, name="伟1") == pks(Person.objects.filter(name__contains="伟1"))
        assert len(ids(operator, name="伟1")) == 8  # 张伟1, 张伟10 ... 张伟16
        Person.objects.filter(pk=city["persons"][0].pk).update(name_latin="Zhang Wei")
        assert ids(operator, name="zhang wei") == [city["persons"][0].pk]

    def test_birth_year_range(self, city, operator):
        expected = pks(Person.objects.filter(birth_date__year__range=(1975, 1980)))
        assert expected
        assert ids(operator, birth_year_min=1975, birth_year_max=1980) == expected

    def test_age_range(self, city, operator):
        ages = {p.pk: p.age for p in Person.objects.all()}
        low, high = sorted(set(ages.values()))[3], sorted(set(ages.values()))[8]
        expected = sorted(pk for pk, age in ages.items() if low <= age <= high)
        assert 0 < len(expected) < len(ages)
        assert ids(operator, age_min=low, age_max=high) == expected

    def test_age_boundaries_on_birthdays(self, city, operator):
        today = dt.date.today()
        person = city["persons"][0]
        Person.objects.filter(pk=person.pk).update(birth_date=years_before(today, 30))
        assert person.pk in ids(operator, age_min=30, age_max=30)
        Person.objects.filter(pk=person.pk).update(
            birth_date=years_before(today, 30) + dt.timedelta(days=1)
        )
        assert person.pk in ids(operator, age_min=29, age_max=29)
        assert person.pk not in ids(operator, age_min=30)

    def test_ordering(self, city, operator):
        rows = persons(operator, ordering="-birth_date")
        dates = [row["birth_date"] for row in rows]
        assert dates == sorted(dates, reverse=True)

    @pytest.mark.parametrize(
        "params",
        [
            {"age_min": "old"},
            {"age_max": "-1"},
            {"birth_year_min": "1990.5"},
            {"sex": "M"},
            {"resident_type": "alien"},
            {"household": "H000001"},
            {"dwelling": "../etc"},
            {"under": "%"},
            {"ordering": "id_number"},
            {"ordering": "phone"},
            {"age_min": "x", "sex": "x"},
        ],
    )
    def test_bad_values_are_400_with_the_field_named(self, operator, params):
        response = operator.get("/api/v1/persons/", params)
        assert response.status_code == 400
        assert set(response.data) == set(params)


def test_household_and_residence_filters(city, operator):
    dwelling = city["dwellings"][2]
    response = operator.get("/api/v1/households/", {"dwelling": dwelling.code})
    assert [h["number"] for h in response.data["results"]] == [
        h.number for h in city["households"] if h.dwelling_id == dwelling.pk
    ]
    response = operator.get("/api/v1/households/", {"under": "510105001001", "page_size": 500})
    assert response.data["count"] == 4
    assert {h["area_code"][:12] for h in response.data["results"]} == {"510105001001"}
    person = city["persons"][0]
    response = operator.get("/api/v1/residences/", {"person": person.pk})
    assert [r["dwelling"] for r in response.data["results"]] == [person.dwelling.code]
    assert operator.get("/api/v1/residences/", {"under": "510105"}).data["count"] == 16
    assert operator.get("/api/v1/residences/", {"kind": "floating"}).data["count"] == 0
    assert operator.get("/api/v1/households/", {"under": "x%"}).status_code == 400

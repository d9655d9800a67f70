"""Household and person pages: access matrix, masking everywhere, the audited reveal."""

import pytest
from django.urls import reverse

from shequ.core.models import PersonalDataAccess
from shequ.core.roles import Role
from shequ.core.testing import verify_session

pytestmark = pytest.mark.django_db

BACKEND = "django.contrib.auth.backends.ModelBackend"


def login(client, user):
    client.force_login(user, backend=BACKEND)
    return client


def test_access_matrix_of_household_and_person_pages(client, city, make_user):
    person, household = city["persons"][0], city["households"][0]
    urls = [
        reverse("people:household", args=[household.pk]),
        reverse("people:person", args=[person.pk]),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    # Department handlers may see places but have no business with people: 403.
    for user in (make_user("nobody"), make_user("dept", Role.DEPARTMENT_HANDLER, "5101")):
        login(client, user)
        for url in urls:
            assert client.get(url).status_code == 403, (user.username, url)
    login(client, make_user("other", Role.GRID_WORKER, city["grids"][1].code))
    for url in urls:
        assert client.get(url).status_code == 404, url
    for user in (
        make_user("gw", Role.GRID_WORKER, city["grids"][0].code),
        make_user("city", Role.CITY_OPERATOR, "5101"),
    ):
        login(client, user)
        for url in urls:
            assert client.get(url).status_code == 200, (user.username, url)
    assert client.get(reverse("people:person", args=[999999])).status_code == 404
    assert client.get(reverse("people:household", args=[999999])).status_code == 404


def test_reveal_access_matrix(client, city, make_user):
    person = city["persons"][0]
    url = reverse("people:reveal", args=[person.pk])
    data = {"field": ["phone"], "reason": "visit follow-up"}
    response = client.post(url, data)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    # The city operator sees people but may not reveal: 403, and no form on the page.
    operator = make_user("city", Role.CITY_OPERATOR, "5101")
    login(client, operator)
    assert client.post(url, data).status_code == 403
    page = client.get(reverse("people:person", args=[person.pk])).content.decode()
    assert url not in page and 'name="reason"' not in page
    # A grid worker elsewhere: the person is out of scope, 404 like a missing one.
    login(client, make_user("other", Role.GRID_WORKER, city["grids"][1].code))
    assert client.post(url, data).status_code == 404
    assert client.post(reverse("people:reveal", args=[999999]), data).status_code == 404
    # Holding reveal elsewhere but only view here: 403 from the reveal itself.
    mixed = make_user("mixed", Role.GRID_WORKER, city["grids"][1].code)
    from shequ.core.models import RoleAssignment

    RoleAssignment.objects.create(user=mixed, role=Role.CITY_OPERATOR, area_code="5101")
    login(client, mixed)
    assert client.get(reverse("people:person", args=[person.pk])).status_code == 200
    assert client.post(url, data).status_code == 403
    # Nothing was revealed by any of these.
    assert PersonalDataAccess.objects.count() == 0


def test_full_id_number_and_phone_never_appear_in_page_html(client, city, make_user):
    """Even for a role that may reveal, every page shows only the masks until a reveal."""
    worker = make_user("gw", Role.GRID_WORKER, city["grids"][0].code)
    login(client, worker)
    dwelling = city["dwellings"][0]
    persons = [p for p in city["persons"] if p.dwelling_id == dwelling.pk]
    household = city["households"][0]
    pages = [
        reverse("areas:area", args=[city["grids"][0].code]),
        reverse("areas:place", args=[dwelling.code]),
        reverse("people:household", args=[household.pk]),
        *[reverse("people:person", args=[p.pk]) for p in persons],
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200
        html = response.content.decode()
        for person in persons:
            assert person.id_number not in html, url
            assert person.phone not in html, url
    html = client.get(reverse("people:person", args=[persons[0].pk])).content.decode()
    assert persons[0].id_number[:4] + "*" * 11 + persons[0].id_number[-3:] in html
    assert persons[0].phone[:3] + "****" + persons[0].phone[-4:] in html
    assert persons[0].name in html and persons[1].name in html  # household member
    assert "no-store" in client.get(pages[-1])["Cache-Control"]


def test_reveal_shows_the_values_once_and_writes_one_access_record(client, city, make_user):
    person = city["persons"][0]
    worker = make_user("gw", Role.GRID_WORKER, city["grids"][0].code)
    verify_session(client, worker)  # signed in with the authenticator's code
    page = client.get(reverse("people:person", args=[person.pk])).content.decode()
    assert reverse("people:reveal", args=[person.pk]) in page and 'name="reason"' in page

    response = client.post(
        reverse("people:reveal", args=[person.pk]),
        {"field": ["id_number", "phone"], "reason": "confirm identity at the door"},
        REMOTE_ADDR="10.1.2.3",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert person.id_number in html and person.phone in html
    access = PersonalDataAccess.objects.get()
    assert (access.user, access.model, access.object_id) == (
        worker,
        "people.person",
        str(person.pk),
    )
    assert (access.fields, access.reason) == ("id_number,phone", "confirm identity at the door")
    assert (access.area_code, access.channel, access.ip_address) == (
        person.area_code,
        "web",
        "10.1.2.3",
    )
    assert "no-store" in response["Cache-Control"]
    # Nothing of it stays: the next view of the page is masked again.
    html = client.get(reverse("people:person", args=[person.pk])).content.decode()
    assert person.id_number not in html and person.phone not in html

    # Only the chosen field is shown.
    response = client.post(
        reverse("people:reveal", args=[person.pk]), {"field": ["phone"], "reason": "call back"}
    )
    html = response.content.decode()
    assert person.phone in html and person.id_number not in html
    assert PersonalDataAccess.objects.count() == 2


@pytest.mark.parametrize(
    "data",
    [
        {"field": ["phone"], "reason": ""},
        {"field": ["phone"], "reason": "   "},
        {"field": ["phone"]},
        {"field": [], "reason": "confirm identity"},
        {"field": ["name"], "reason": "confirm identity"},
    ],
)
def test_reveal_refused_without_reason_or_field(client, city, make_user, data):
    person = city["persons"][0]
    login(client, make_user("gw", Role.GRID_WORKER, city["grids"][0].code))
    response = client.post(reverse("people:reveal", args=[person.pk]), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert person.phone not in html and person.id_number not in html
    assert 'class="field-error"' in html or 'class="form-errors"' in html
    assert PersonalDataAccess.objects.count() == 0


def test_reveal_is_post_only(client, city, make_user):
    person = city["persons"][0]
    login(client, make_user("gw", Role.GRID_WORKER, city["grids"][0].code))
    assert client.get(reverse("people:reveal", args=[person.pk])).status_code == 405


def test_household_page_lists_members_and_links_the_dwelling(client, city, make_user):
    household = city["households"][0]
    login(client, make_user("cw", Role.COMMUNITY_WORKER, city["communities"][0].code))
    response = client.get(reverse("people:household", args=[household.pk]))
    html = response.content.decode()
    members = [p for p in city["persons"] if p.household_id == household.pk]
    assert [p.pk for p in response.context["members"]] == [p.pk for p in members]
    for person in members:
        assert reverse("people:person", args=[person.pk]) in html
    assert reverse("areas:place", args=[household.dwelling.code]) in html
    assert "户主" in html  # relation to the head, translated


def test_person_page_in_english(client, city, make_user):
    person = city["persons"][0]
    login(client, make_user("gw", Role.GRID_WORKER, city["grids"][0].code))
    url = reverse("people:person", args=[person.pk])
    client.post(reverse("set_language"), {"language": "en", "next": url})
    html = client.get(url).content.decode()
    for text in ("ID number", "Phone", "Residences", "Reveal personal data", "Male", "Building 1"):
        assert text in html, text

"""The area and place pages: access matrix, breadcrumbs, counts, map data, query budget,
language switch, login and lock-out pages, admin registration."""

import json
import re

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from shequ.areas import codes
from shequ.areas.models import Area, Level, Place, PlaceKind
from shequ.core.roles import Role
from shequ.core.testing import PASSWORD, add_device, square, totp_code, verified
from shequ.people.choices import ResidentType
from shequ.people.models import Household, Person

pytestmark = pytest.mark.django_db

BACKEND = "django.contrib.auth.backends.ModelBackend"


def login(client, user):
    client.force_login(user, backend=BACKEND)
    return client


def place_urls(city):
    """One page of each kind inside the first grid: area, compound, building, unit, dwelling."""
    dwelling = city["dwellings"][0]
    unit = dwelling.parent
    building = unit.parent
    compound = building.parent
    return [
        reverse("areas:area", args=[city["grids"][0].code]),
        reverse("areas:place", args=[compound.code]),
        reverse("areas:place", args=[building.code]),
        reverse("areas:place", args=[unit.code]),
        reverse("areas:place", args=[dwelling.code]),
    ]


def test_access_matrix_of_area_and_place_pages(client, city, make_user):
    urls = place_urls(city)
    # Anonymous: to the login page.
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url
    # Signed in but no role anywhere: 403.
    login(client, make_user("nobody"))
    for url in urls:
        assert client.get(url).status_code == 403, url
    # A grid worker of the other district's grid: everything here is out of scope, like missing.
    login(client, make_user("other", Role.GRID_WORKER, city["grids"][-1].code))
    for url in [*urls, reverse("areas:area", args=["5101"])]:
        assert client.get(url).status_code == 404, url
    # In scope: the grid worker of this grid, and a department handler of the city.
    for user in (
        make_user("gw", Role.GRID_WORKER, city["grids"][0].code),
        make_user("dept", Role.DEPARTMENT_HANDLER, "5101"),
    ):
        login(client, user)
        for url in urls:
            assert client.get(url).status_code == 200, (user.username, url)
    # Missing codes answer 404 like out-of-scope ones.
    assert client.get(reverse("areas:area", args=["5101999"])).status_code == 404
    assert client.get(reverse("areas:place", args=["NOPE"])).status_code == 404


def test_home_redirects_to_the_single_area_or_lists_several(client, city, make_user):
    assert client.get(reverse("home")).status_code == 302
    login(client, make_user("one", Role.STREET_STAFF, "510104001"))
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("areas:area", args=["510104001"])

    two = make_user("two", Role.COMMUNITY_WORKER, "510104001001", "510105001002")
    login(client, two)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    html = response.content.decode()
    assert reverse("areas:area", args=["510104001001"]) in html
    assert reverse("areas:area", args=["510105001002"]) in html
    assert "锦江区社区1" in html


def test_area_page_counts_children_and_maps_their_boundaries(client, city, make_user):
    login(client, make_user("street", Role.STREET_STAFF, "510104001"))
    response = client.get(reverse("areas:area", args=["510104001"]))
    assert response.status_code == 200
    rows = {row["area"].code: row for row in response.context["rows"]}
    # Each community: 2 grids x 1 compound x 2 dwellings, one household and 2 people each.
    assert set(rows) == {"510104001001", "510104001002"}
    for row in rows.values():
        assert (row["residents"], row["households"], row["dwellings"]) == (8, 4, 4)
    assert response.context["totals"] == {"residents": 16, "households": 8, "dwellings": 8}
    html = response.content.decode()
    assert "锦江区社区1" in html and "锦江区一街道" in html
    assert "锦江区社区卫生服务中心" in html  # the street's facility

    data = json.loads(re.search(r'id="area-map-data"[^>]*>(.*?)</script>', html, re.S).group(1))
    features = data["areas"]["features"]
    assert [f["properties"]["url"] for f in features] == [
        reverse("areas:area", args=["510104001001"]),
        reverse("areas:area", args=["510104001002"]),
    ]
    assert features[0]["geometry"]["type"] == "Polygon"
    assert data["outline"]["geometry"] == Area.objects.get(code="510104001").boundary
    # Leaflet is vendored, no CDN, no inline script code.
    assert "/static/vendor/leaflet/leaflet.js" in html
    assert "unpkg" not in html and "cdn" not in html.lower()
    assert re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", html) == []


def test_community_page_lists_compounds_with_links(client, city, make_user):
    login(client, make_user("cw", Role.COMMUNITY_WORKER, "510104001001"))
    response = client.get(reverse("areas:area", args=["510104001001"]))
    compounds = {row["place"].code: row for row in response.context["compounds"]}
    assert set(compounds) == {"510104001001C001", "510104001001C002"}
    assert compounds["510104001001C001"]["dwellings"] == 2
    assert compounds["510104001001C001"]["residents"] == 4
    assert reverse("areas:place", args=["510104001001C001"]) in response.content.decode()


def test_breadcrumb_links_only_where_in_scope(client, city, make_user):
    grid = city["grids"][0]
    login(client, make_user("gw", Role.GRID_WORKER, grid.code))
    dwelling = city["dwellings"][0]
    response = client.get(reverse("areas:place", args=[dwelling.code]))
    crumbs = response.context["crumbs"]
    names = [c["name"] for c in crumbs]
    areas = ["成都市", "锦江区", "锦江区一街道", "锦江区社区1", "第1网格"]
    assert names == [*areas, "锦绣苑00", "1栋", "1单元", "501"]
    # City, district, street, community lie above the grid worker's grid: plain text.
    assert [c["url"] for c in crumbs[:4]] == [None] * 4
    assert crumbs[4]["url"] == reverse("areas:area", args=[grid.code])
    assert crumbs[5]["url"] == reverse("areas:place", args=[dwelling.parent.parent.parent.code])
    assert crumbs[-1]["url"] is None and crumbs[-1]["current"]
    html = response.content.decode()
    assert 'href="/areas/5101/"' not in html
    assert f'href="/areas/{grid.code}/"' in html

    login(client, make_user("city", Role.CITY_OPERATOR, "5101"))
    crumbs = client.get(reverse("areas:area", args=[grid.code])).context["crumbs"]
    assert [c["url"] for c in crumbs] == [
        "/areas/5101/",
        "/areas/510104/",
        "/areas/510104001/",
        "/areas/510104001001/",
        None,
    ]


def test_department_handler_sees_places_but_no_people(client, city, make_user):
    login(client, make_user("dept", Role.DEPARTMENT_HANDLER, "5101"))
    response = client.get(reverse("areas:area", args=["510104001"]))
    assert response.context["totals"]["residents"] is None
    assert response.context["rows"][0]["residents"] is None
    dwelling = city["dwellings"][0]
    response = client.get(reverse("areas:place", args=[dwelling.code]))
    assert response.status_code == 200
    html = response.content.decode()
    assert response.context["residents"] == []
    for person in city["persons"][:2]:
        assert person.name not in html
    assert "/people/" not in html


def _grow_city(street_code: str, communities: int, people_per_dwelling: int) -> None:
    """More communities, grids, compounds, dwellings and people under one street."""
    street = Area.objects.get(code=street_code)
    seq = 0
    for c in range(10, 10 + communities):
        ccode = f"{street_code}{c:03d}"
        community = Area.objects.create(
            code=ccode,
            level=Level.COMMUNITY,
            name=f"新社区{c}",
            parent=street,
            boundary=square(104.0 + c / 100, 30.5, 0.01),
        )
        grid = Area.objects.create(
            code=codes.grid_code(ccode, 1), level=Level.GRID, name="第1网格", parent=community
        )
        compound = Place.objects.create(
            code=codes.compound_code(ccode, 1),
            kind=PlaceKind.COMPOUND,
            name="新苑",
            area_code=grid.code,
        )
        for room in range(3):
            seq += 1
            dwelling = Place.objects.create(
                code=f"{compound.code}B01U1R01{room:02d}",
                kind=PlaceKind.DWELLING,
                name=f"10{room}",
                area_code=grid.code,
                parent=compound,
            )
            household = Household.objects.create(
                number=f"G{seq:06d}", area_code=grid.code, dwelling=dwelling
            )
            for _n in range(people_per_dwelling):
                Person.objects.create(
                    area_code=grid.code,
                    name="王五",
                    resident_type=ResidentType.FLOATING,
                    household=household,
                    dwelling=dwelling,
                )


def test_area_page_query_count_does_not_grow_with_rows(
    client, city, make_user, django_assert_max_num_queries
):
    login(client, make_user("street", Role.STREET_STAFF, "510104001"))
    urls = [reverse("areas:area", args=["510104001"]), reverse("areas:area", args=["510104001001"])]

    def count(url):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    before = [count(url) for url in urls]
    _grow_city("510104001", communities=6, people_per_dwelling=3)
    compound = Place.objects.get(code="510104001001C001")
    for n in range(5):
        Place.objects.create(
            code=f"{compound.code}B09U1R01{n:02d}",
            kind=PlaceKind.DWELLING,
            name=f"9{n}",
            area_code=compound.area_code,
            parent=compound,
        )
    after = [count(url) for url in urls]
    assert after == before
    response = client.get(urls[0])
    assert len(response.context["rows"]) == 8
    with django_assert_max_num_queries(20):
        client.get(urls[0])


def test_place_pages_list_children_with_counts(client, city, make_user):
    login(client, make_user("gw", Role.GRID_WORKER, city["grids"][0].code))
    dwelling = city["dwellings"][0]
    unit = dwelling.parent
    response = client.get(reverse("areas:place", args=[unit.code]))
    rows = {row["place"].code: row for row in response.context["rows"]}
    assert set(rows) == {d.code for d in city["dwellings"][:2]}
    assert all((r["residents"], r["households"]) == (2, 1) for r in rows.values())
    response = client.get(reverse("areas:place", args=[unit.parent.parent.code]))
    (row,) = response.context["rows"]
    assert (row["place"].code, row["dwellings"], row["residents"]) == (unit.parent.code, 2, 4)
    response = client.get(reverse("areas:place", args=[dwelling.code]))
    html = response.content.decode()
    for person in city["persons"][:2]:
        assert reverse("people:person", args=[person.pk]) in html
    assert reverse("people:household", args=[city["households"][0].pk]) in html


def test_language_switch_changes_the_page_language(client, city, make_user):
    login(client, make_user("street", Role.STREET_STAFF, "510104001"))
    url = reverse("areas:area", args=["510104001"])
    html = client.get(url).content.decode()
    assert '<html lang="zh-Hans">' in html
    assert "锦江区一街道" in html and "居民" in html and "English" in html
    response = client.post(reverse("set_language"), {"language": "en", "next": url})
    assert response.status_code == 302 and response["Location"] == url
    html = client.get(url).content.decode()
    assert '<html lang="en">' in html
    assert "Jinjiang Street 1" in html and "Jinjiang Community 1" in html
    assert "Residents" in html and "Facilities" in html and "Sign out" in html
    assert "居民" not in html
    client.post(reverse("set_language"), {"language": "zh-hans", "next": url})
    assert "退出登录" in client.get(url).content.decode()


def test_login_page_and_lock_out_page_are_bilingual(client, city, make_user):
    html = client.get(reverse("login")).content.decode()
    assert "登录" in html and 'name="language"' in html
    client.post(reverse("set_language"), {"language": "en", "next": reverse("login")})
    assert "Sign in" in client.get(reverse("login")).content.decode()

    make_user("victim", Role.GRID_WORKER, city["grids"][0].code)
    for _n in range(5):
        response = client.post(reverse("login"), {"username": "victim", "password": "wrong"})
    assert response.status_code == 429
    assert "Account locked" in response.content.decode()
    # Locked even with the right password now.
    response = client.post(reverse("login"), {"username": "victim", "password": PASSWORD})
    assert response.status_code == 429


def test_login_form_signs_in_and_lands_on_the_users_area(client, city, make_user):
    # A role that may not reveal personal data signs in with the password alone.
    make_user("op", Role.CITY_OPERATOR, "5101")
    response = client.post(reverse("login"), {"username": "op", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("areas:area", args=["5101"])
    assert "op" in response.content.decode() and "市级运行人员" in response.content.decode()


def test_login_form_then_code_lands_a_revealing_role_on_its_area(client, city, make_user):
    device = add_device(make_user("gw", Role.GRID_WORKER, city["grids"][0].code))
    response = client.post(reverse("login"), {"username": "gw", "password": PASSWORD})
    assert response["Location"] == reverse("login_code")
    response = client.post(reverse("login_code"), {"code": totp_code(device)}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("areas:area", args=[city["grids"][0].code])
    assert "gw" in response.content.decode() and "网格员" in response.content.decode()


def test_error_pages_use_the_site_templates(client, city, make_user):
    login(client, make_user("nobody"))
    response = client.get(reverse("areas:area", args=["5101"]))
    assert response.status_code == 403
    assert "403" in response.content.decode() and "社区" in response.content.decode()
    login(client, make_user("gw", Role.GRID_WORKER, city["grids"][0].code))
    response = client.get(reverse("areas:area", args=["5101"]))
    assert response.status_code == 404
    assert "404" in response.content.decode()


def test_admin_registers_configuration_but_no_personal_data():
    from shequ.areas.models import Facility
    from shequ.core.models import PersonalDataAccess, RoleAssignment, User
    from shequ.people.models import Residence

    for model in (Area, Place, Facility, User, RoleAssignment, PersonalDataAccess):
        assert admin.site.is_registered(model), model
    for model in (Person, Household, Residence):
        assert not admin.site.is_registered(model), model
    for model in (Area, Place, Facility):
        assert {"code", "name"} <= set(admin.site._registry[model].search_fields)


def test_reveal_log_is_read_only_in_admin(client, city, make_user):
    from shequ.core import personal
    from shequ.core.models import PersonalDataAccess

    worker = make_user("gw", Role.GRID_WORKER, city["grids"][0].code)
    personal.reveal(verified(worker), city["persons"][0], ["phone"], "door-to-door check")
    staff = make_user("root")
    staff.is_staff = staff.is_superuser = True
    staff.save()
    login(client, staff)
    row = PersonalDataAccess.objects.get()
    base = "/admin/core/personaldataaccess/"
    assert client.get(base).status_code == 200
    assert client.get(f"{base}add/").status_code == 403
    assert client.post(f"{base}{row.pk}/delete/", {"post": "yes"}).status_code == 403
    response = client.post(f"{base}{row.pk}/change/", {"reason": "changed"})
    assert response.status_code == 403
    row.refresh_from_db()
    assert row.reason == "door-to-door check"
    assert client.get("/admin/people/person/").status_code == 404


def test_area_page_offers_exports_and_import_by_role(client, city, make_user):
    url = reverse("areas:area", args=["510104001001"])
    tree_csv = reverse("areas:export_csv", args=["510104001001"])
    people_csv = reverse("people:persons_csv", args=["510104001001"])
    import_url = reverse("areas:import")
    expected = {
        Role.GRID_WORKER: set(),
        Role.DEPARTMENT_HANDLER: set(),
        Role.COMMUNITY_WORKER: {tree_csv},
        Role.DATA_STEWARD: {tree_csv, people_csv, import_url},
    }
    for n, (role, links) in enumerate(expected.items()):
        login(client, make_user(f"u{n}", role, "510104001001"))
        html = client.get(url).content.decode()
        for link in (tree_csv, people_csv, import_url):
            assert (link in html) == (link in links), (role, link)

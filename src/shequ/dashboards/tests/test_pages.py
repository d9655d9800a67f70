"""Dashboard pages, CSV, API: access matrix, suppression, query count constant in data size."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from shequ.core.roles import Role
from shequ.dashboards import rollups
from shequ.dashboards.data import dashboard
from shequ.people.choices import ResidentType

pytestmark = pytest.mark.django_db

STREET = "510104001"
OUTSIDE = "510105001"
COMPOUND = "510104001001C001"


@pytest.fixture
def built(city):
    rollups.rebuild()
    return city


def ind(data, key):
    for section in data["sections"]:
        for item in section["indicators"]:
            if item["key"] == key:
                return item
    raise KeyError(key)


class TestAccess:
    urls = [
        f"/dashboards/{STREET}/",
        f"/dashboards/{STREET}/screen/",
        f"/dashboards/{STREET}/print/",
        f"/dashboards/{STREET}/summary.pdf",
        f"/dashboards/{STREET}/csv/pop.residents/",
        f"/dashboards/place/{COMPOUND}/",
        f"/dashboards/place/{COMPOUND}/csv/pop.pyramid/",
    ]

    def test_anonymous_goes_to_sign_in(self, client, built):
        for url in self.urls:
            response = client.get(url)
            assert response.status_code == 302 and "/accounts/login/" in response["Location"]

    def test_without_permission_403(self, client, built, make_user):
        client.force_login(make_user("nobody"))
        for url in self.urls:
            assert client.get(url).status_code == 403, url

    def test_out_of_scope_404_in_scope_200(self, client, built, make_user):
        for role in Role:
            user = make_user(f"u-{role}", role, STREET)
            client.force_login(user)
            for url in self.urls:
                assert client.get(url).status_code == 200, (role, url)
            for url in (
                "/dashboards/5101/",
                "/dashboards/510104/",
                f"/dashboards/{OUTSIDE}/",
                "/dashboards/510105001001C001/screen/",
                "/dashboards/place/510105001001C001/",
                f"/dashboards/{OUTSIDE}/csv/pop.residents/",
                "/dashboards/999999/",  # missing answers the same
                "/dashboards/place/510104001001G01/",  # a grid is not a compound
            ):
                assert client.get(url).status_code == 404, (role, url)

    def test_index_sends_to_the_users_area(self, client, built, make_user):
        client.force_login(make_user("gw", Role.GRID_WORKER, "510104001001G01"))
        response = client.get("/dashboards/")
        assert response.status_code == 302
        assert response["Location"] == "/dashboards/510104001001G01/"


class TestPage:
    def test_page_shows_numbers_children_map_data_and_breadcrumb(self, client, built, make_user):
        client.force_login(make_user("city", Role.CITY_OPERATOR, "5101"))
        response = client.get("/dashboards/510104/", HTTP_ACCEPT_LANGUAGE="en")
        html = response.content.decode()
        assert response.status_code == 200
        assert 'id="dashboard-data"' in html and "<script>" not in html.replace(
            '<script src="', ""
        )  # data through json_script, no inline code
        data = response.context["data"]
        assert ind(data, "pop.residents")["value"] == 16
        assert [c["code"] for c in data["children"]] == [STREET]
        assert data["children"][0]["url"] == f"/dashboards/{STREET}/"
        assert [c["name"] for c in data["crumbs"]] == ["Chengdu", "Jinjiang District"]
        assert data["crumbs"][0]["url"] == "/dashboards/5101/"
        metric = next(m for m in data["map"]["metrics"] if m["key"] == "pop.residents")
        assert metric["values"] == {STREET: 16}
        assert f'href="/dashboards/{STREET}/"' in html
        assert "vendor/echarts/echarts.min.js" in html

    def test_community_drills_into_grids_and_grid_into_compounds(self, client, built, make_user):
        client.force_login(make_user("cw", Role.COMMUNITY_WORKER, "510104001001"))
        data = client.get("/dashboards/510104001001/").context["data"]
        assert [c["level"] for c in data["children"]] == ["grid", "grid"]
        data = client.get("/dashboards/510104001001G01/").context["data"]
        assert [c["code"] for c in data["children"]] == [COMPOUND]
        assert data["children"][0]["url"] == f"/dashboards/place/{COMPOUND}/"
        data = client.get(f"/dashboards/place/{COMPOUND}/").context["data"]
        assert data["level"] == "compound"
        assert ind(data, "pop.residents")["value"] == 4
        assert [c["code"] for c in data["crumbs"]][-2:] == ["510104001001G01", COMPOUND]

    def test_language_switch(self, client, built, make_user):
        client.force_login(make_user("city", Role.CITY_OPERATOR, "5101"))
        zh = client.get("/dashboards/5101/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
        en = client.get("/dashboards/5101/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert "城市大脑" in zh and "年龄金字塔" in zh
        assert "City brain" in en and "Age pyramid" in en

    def test_big_screen_and_print(self, client, built, make_user):
        client.force_login(make_user("city", Role.CITY_OPERATOR, "5101"))
        html = client.get("/dashboards/5101/?screen=big").content.decode()
        assert "dash--screen" in html and '"big": true' in html
        html = client.get("/dashboards/5101/screen/").content.decode()
        assert "dash--screen" in html
        response = client.get("/dashboards/5101/print/", HTTP_ACCEPT_LANGUAGE="en")
        html = response.content.decode()
        assert "dashboards/print.css" in html and "Residents" in html and ">32<" in html

    def test_one_page_pdf_summary(self, client, built, make_user):
        import re

        client.force_login(make_user("city", Role.CITY_OPERATOR, "5101"))
        response = client.get("/dashboards/5101/summary.pdf")
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        body = response.content
        assert body.startswith(b"%PDF") and body.rstrip().endswith(b"%%EOF")
        assert len(re.findall(rb"/Type\s*/Page(?!s)", body)) == 1
        assert b"STSong-Light" in body  # the Chinese CID font, so names render on any machine


class TestSuppression:
    def test_department_handler_sees_no_counts_below_five(self, client, built, make_user):
        grid = "510104001001G01"
        handler = make_user("dept", Role.DEPARTMENT_HANDLER, "5101")
        worker = make_user("gw", Role.GRID_WORKER, grid)
        for user, suppressed in ((handler, True), (worker, False)):
            data = dashboard(user, area=built["grids"][0])
            assert data["suppressed"] is suppressed
            residents = ind(data, "pop.residents")["value"]  # 4 people in the grid
            assert residents == (None if suppressed else 4)
            pyramid = ind(data, "pop.pyramid")
            shown = [v for v in pyramid["male"] + pyramid["female"] if v]
            assert (shown == []) if suppressed else (sum(shown) == 4)
            assert ind(data, "fac.by_kind")["items"]  # facilities are not people: shown
        # At the city, 32 residents are shown to the handler too; the 0 floating stays 0.
        data = dashboard(handler, area=built["city"])
        assert ind(data, "pop.residents")["value"] == 32
        types = {i["key"]: i["value"] for i in ind(data, "pop.by_type")["items"]}
        assert types[ResidentType.REGISTERED] == 32 and types[ResidentType.FLOATING] == 0
        client.force_login(handler)
        html = client.get(f"/dashboards/{grid}/").content.decode()
        assert "fewer than 5" in html or "少于 5" in html
        body = client.get(f"/dashboards/{grid}/csv/pop.residents/").content.decode("utf-8-sig")
        assert "<5" in body and ",4" not in body


class TestCsv:
    def test_csv_of_each_kind(self, client, built, make_user):
        client.force_login(make_user("city", Role.CITY_OPERATOR, "5101"))
        response = client.get("/dashboards/5101/csv/pop.by_type/", HTTP_ACCEPT_LANGUAGE="en")
        assert response["Content-Type"].startswith("text/csv")
        assert "attachment" in response["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert rows[1] == ["Code", "Name", "Value"]
        assert ["registered", "Registered resident (户籍常住)", "32"] in rows
        rows = list(
            csv.reader(
                io.StringIO(
                    client.get("/dashboards/5101/csv/pop.pyramid/").content.decode("utf-8-sig")
                )
            )
        )
        assert len(rows) == 2 + 21
        assert sum(int(r[1]) + int(r[2]) for r in rows[2:]) == 32
        rows = list(
            csv.reader(
                io.StringIO(
                    client.get("/dashboards/5101/csv/pop.residents/").content.decode("utf-8-sig")
                )
            )
        )
        assert rows[-1] == ["5101", "32"]
        rows = list(
            csv.reader(
                io.StringIO(
                    client.get("/dashboards/5101/csv/pop.floating/").content.decode("utf-8-sig")
                )
            )
        )
        assert {r[0] for r in rows[2:]} == {"510104", "510105"}
        assert client.get("/dashboards/5101/csv/nope/").status_code == 404


class TestApi:
    def test_api_serves_the_same_numbers(self, built, make_user):
        user = make_user("st", Role.STREET_STAFF, STREET)
        api = APIClient()
        assert api.get(f"/api/v1/dashboards/{STREET}/").status_code == 401
        api.force_authenticate(make_user("nobody"))
        assert api.get(f"/api/v1/dashboards/{STREET}/").status_code == 403
        api.force_authenticate(user)
        assert api.get(f"/api/v1/dashboards/{OUTSIDE}/").status_code == 404
        assert api.get("/api/v1/dashboards/5101/").status_code == 404
        response = api.get(f"/api/v1/dashboards/{STREET}/")
        assert response.status_code == 200
        body = response.json()
        assert body["code"] == STREET and body["level"] == "street"
        assert ind(body, "pop.residents")["value"] == 16
        assert ind(body, "pop.households")["value"] == 8
        assert api.get(f"/api/v1/dashboards/{COMPOUND}/").json()["level"] == "compound"


def _grow(city, n):
    """Add ``n`` residents to every grid (bulk, then a rebuild)."""
    from shequ.people.models import Person

    rows = []
    for dwelling in city["dwellings"]:
        for i in range(n):
            rows.append(
                Person(
                    area_code=dwelling.area_code,
                    name=f"x{i}",
                    dwelling=dwelling,
                    resident_type=ResidentType.FLOATING,
                    sex="1",
                )
            )
    Person.objects.bulk_create(rows)
    rollups.rebuild()


def test_query_count_does_not_grow_with_the_data(client, built, make_user):
    client.force_login(make_user("city", Role.CITY_OPERATOR, "5101"))
    urls = [
        "/dashboards/5101/",
        "/dashboards/510104001001G01/",
        f"/dashboards/place/{COMPOUND}/",
        "/api/v1/dashboards/510104/",
    ]
    counts = {}
    for size in ("small", "large"):
        if size == "large":
            _grow(built, 20)
        counts[size] = []
        for url in urls:
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            counts[size].append(len(queries))
        data = client.get("/api/v1/dashboards/5101/").json()
        counts[size + "-residents"] = ind(data, "pop.residents")["value"]
    assert counts["small-residents"] == 32 and counts["large-residents"] == 32 + 16 * 20
    assert counts["small"] == counts["large"], counts
    # Requests add category and department names, open-case points, hot spots (+ their
    # places); screening the round names: a fixed number whatever the data.
    assert max(counts["small"]) <= 22, counts

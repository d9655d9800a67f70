"""The cases API: intake, moves as POST actions, timeline, similar cases, masking."""

import pytest
from rest_framework.test import APIClient

from shequ.cases import services
from shequ.cases.models import CaseEvent
from shequ.cases.workflow import MOVES, State
from shequ.core.roles import Role

pytestmark = pytest.mark.django_db


def client_for(user=None):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def street_staff(make_user, grid):
    return make_user("street", Role.STREET_STAFF, grid.code[:9])


class TestIntake:
    url = "/api/v1/cases/"

    def body(self, grid, **kw):
        return {
            "text": "楼下路灯坏了一个星期",
            "lat": grid.lat,
            "lng": grid.lng,
            "reporter_phone": "13912345678",
            "channel": "hotline",
            **kw,
        }

    def test_access(self, matrix, grid, make_user, city):
        assert client_for().post(self.url, self.body(grid), format="json").status_code == 401
        dept = make_user("dept", Role.DEPARTMENT_HANDLER, "5101")
        assert client_for(dept).post(self.url, self.body(grid), format="json").status_code == 403
        other = make_user("other", Role.GRID_WORKER, city["grids"][-1].code)
        assert client_for(other).post(self.url, self.body(grid), format="json").status_code == 403

    def test_create_answers_the_case_masked(self, matrix, grid, street_staff):
        response = client_for(street_staff).post(self.url, self.body(grid), format="json")
        assert response.status_code == 201, response.content
        data = response.json()
        assert data["number"].startswith("SQ") and data["area_code"] == grid.code
        assert data["reporter_phone"] == "139****5678"
        assert data["category"] == "ROAD" and data["state"] == State.NEW
        assert data["channel"] == "hotline"

    def test_bad_input_names_the_field(self, matrix, grid, street_staff):
        response = client_for(street_staff).post(
            self.url, self.body(grid, reporter_phone="123", lat=1.0, lng=1.0), format="json"
        )
        assert response.status_code == 400
        assert "reporter_phone" in response.json()


class TestMoves:
    @pytest.fixture
    def case(self, new_case):
        return new_case(text="楼道灯坏了请维修一下", auto_dispatch=False)

    def post(self, user, case, move, **data):
        return client_for(user).post(f"/api/v1/cases/{case.number}/{move}/", data, format="json")

    def test_the_dispatcher_walks_a_case_to_the_department(
        self, case, street_staff, matrix, make_user
    ):
        handler = make_user("h", Role.DEPARTMENT_HANDLER, "5101")
        matrix["departments"]["CG"].members.add(handler)
        assert self.post(street_staff, case, "accept").json()["state"] == State.ACCEPTED
        assert self.post(street_staff, case, "register").status_code == 200
        # The handler does not see the case before it is dispatched to their department.
        assert self.post(handler, case, "start").status_code == 404
        response = self.post(street_staff, case, "dispatch", department="CG", note="人工派遣")
        assert response.status_code == 200 and response.json()["department"] == "CG"
        assert self.post(handler, case, "start").json()["state"] == State.IN_PROGRESS
        # A department handler may not verify: 403; an illegal move: 409 naming the state.
        assert self.post(handler, case, "verify").status_code == 403
        response = client_for(street_staff).post(
            f"/api/v1/cases/{case.number}/verify/", {}, HTTP_ACCEPT_LANGUAGE="en"
        )
        assert response.status_code == 409
        assert "In progress" in response.json()["detail"]
        assert "Verify" in response.json()["detail"]
        assert self.post(handler, case, "return").status_code == 400  # needs a reason
        assert CaseEvent.objects.filter(case=case).count() == 5  # created + 4 moves

    def test_out_of_scope_is_404_and_missing_is_404(self, case, make_user, city):
        other = make_user("o", Role.STREET_STAFF, city["districts"][1].code)
        assert self.post(other, case, "accept").status_code == 404
        assert client_for(other).post("/api/v1/cases/SQ1/accept/", {}).status_code == 404
        assert self.post(None, case, "accept").status_code == 401

    def test_every_move_refuses_a_role_without_its_permission(self, case, make_user):
        # A data steward may view cases everywhere but moves none of them.
        steward = make_user("s", Role.DATA_STEWARD, "5101")
        for move in sorted(MOVES):
            assert self.post(steward, case, move, note="x").status_code == 403, move
        assert CaseEvent.objects.filter(case=case).count() == 1

    def test_close_merge_and_evaluate(self, new_case, street_staff, case):
        master = new_case(text="楼道的灯坏了请尽快维修一下", auto_dispatch=False)
        response = self.post(street_staff, case, "merge", master=master.number)
        assert response.status_code == 200 and response.json()["master"] == master.number
        response = self.post(street_staff, master, "close", outcome="not_ours")
        assert response.json()["outcome"] == "not_ours"
        assert self.post(street_staff, master, "evaluate").status_code == 400
        response = self.post(street_staff, master, "evaluate", satisfaction="basically")
        assert response.json()["state"] == State.EVALUATED


def test_events_and_similar(new_case, street_staff, make_user, city):
    first = new_case(text="人民路路口垃圾堆满了没人清运")
    second = new_case(text="人民路路口的垃圾堆满了一直没人清运")
    client = client_for(street_staff)
    events = client.get(f"/api/v1/cases/{first.number}/events/").json()
    assert [e["move"] for e in events] == ["", "accept", "register", "dispatch"]
    assert events[0]["actor"] == "web"
    similar = client.get(f"/api/v1/cases/{second.number}/similar/").json()
    assert [c["number"] for c in similar] == [first.number]
    other = client_for(make_user("o", Role.STREET_STAFF, city["districts"][1].code))
    assert other.get(f"/api/v1/cases/{first.number}/events/").status_code == 404
    assert client_for().get(f"/api/v1/cases/{first.number}/events/").status_code == 401


def test_worklist_filters(new_case, street_staff, matrix):
    a = new_case()
    b = new_case(text="路灯坏了好几天了晚上很黑")
    services.close_case(b, acting_user=street_staff, outcome="not_ours")
    client = client_for(street_staff)

    def numbers(**params):
        return {row["number"] for row in client.get("/api/v1/cases/", params).json()["results"]}

    assert numbers(open="true") == {a.number}
    assert numbers(state="closed") == {b.number}
    assert numbers(category="ENV") == {a.number}
    assert numbers(department="JJ-CG") == {a.number}
    assert numbers(q=b.number) == {b.number}
    assert client.get("/api/v1/cases/", {"under": "51 01"}).status_code == 400


def test_date_time_filters_take_any_iso_offset(new_case, street_staff):
    """PostgreSQL refuses offsets beyond ±15:59; the filter compares in UTC (found by
    schemathesis). A time whose UTC falls past year 9999 is a 400 that names the parameter."""
    case = new_case()
    client = client_for(street_staff)
    far = client.get("/api/v1/cases/", {"created_before": "4709-09-30T06:50:28+22:16"})
    assert far.status_code == 200
    assert [row["number"] for row in far.json()["results"]] == [case.number]
    assert (
        client.get(
            f"/api/v1/cases/{case.number}/events/", {"created_before": "4709-09-30T06:50:28+22:16"}
        ).status_code
        == 200
    )
    beyond = client.get("/api/v1/cases/", {"created_before": "9999-12-31T23:00:00-05:00"})
    assert beyond.status_code == 400
    assert "created_before" in beyond.json()

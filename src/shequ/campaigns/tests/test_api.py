import uuid

import pytest
from rest_framework.test import APIClient

from shequ.campaigns.models import Visit
from shequ.campaigns.testing import ANSWERS, campaign_for
from shequ.core.roles import ROLE_PERMISSIONS, Role

pytestmark = pytest.mark.django_db
SYNC = "/api/v1/campaign-visits/sync/"


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def campaign(city):
    return campaign_for(city, 0, rounds=1)


def item(task, **extra):
    return {
        "uuid": str(uuid.uuid4()),
        "task": task.pk,
        "outcome": "visited",
        "answers": ANSWERS,
        "visited_at": "2020-02-04T10:00:00+08:00",
        **extra,
    }


class TestSync:
    def test_anonymous_401_and_roles_without_visit_403(self, campaign, make_user):
        task = campaign.rounds.get().tasks.first()
        assert APIClient().post(SYNC, {"visits": [item(task)]}, format="json").status_code == 401
        for role in Role:
            allowed = "campaigns.visit_campaign" in ROLE_PERMISSIONS[role]
            user = make_user(f"u-{role}", role, "510104001")
            response = client_for(user).post(SYNC, {"visits": [item(task)]}, format="json")
            assert response.status_code == (200 if allowed else 403), role
            if allowed:
                assert response.data["results"][0]["status"] == "created", role
        assert Visit.objects.count() == 3  # street staff, community worker, grid worker

    def test_out_of_scope_task_is_refused_like_a_missing_one(self, city, campaign, make_user):
        task = campaign.rounds.get().tasks.first()
        outsider = make_user("out", Role.GRID_WORKER, city["grids"][-1].code)
        missing = dict(item(task), task=999999)
        response = client_for(outsider).post(SYNC, {"visits": [item(task), missing]}, format="json")
        assert response.status_code == 200
        errors = [r["errors"] for r in response.data["results"]]
        assert errors[0] == errors[1] == {"task": ["No such visit task within your scope."]}

    def test_resending_is_idempotent_and_bad_shapes_are_400(self, campaign, make_user):
        task = campaign.rounds.get().tasks.first()
        client = client_for(make_user("w", Role.COMMUNITY_WORKER, campaign.area_code))
        batch = {"visits": [item(task), item(task, outcome="not_home", answers={})]}
        first = client.post(SYNC, batch, format="json")
        second = client.post(SYNC, batch, format="json")
        assert [r["status"] for r in first.data["results"]] == ["created", "created"]
        assert [r["status"] for r in second.data["results"]] == ["duplicate", "duplicate"]
        assert Visit.objects.count() == 2
        assert client.post(SYNC, {"visits": "x"}, format="json").status_code == 400
        assert client.post(SYNC, [1, 2], format="json").status_code == 400
        too_many = {"visits": [item(task) for _ in range(1001)]}
        assert client.post(SYNC, too_many, format="json").status_code == 400


class TestCoverage:
    def url(self, campaign):
        return f"/api/v1/campaigns/{campaign.pk}/coverage/"

    def test_access(self, city, campaign, make_user):
        assert APIClient().get(self.url(campaign)).status_code == 401
        dept = make_user("dept", Role.DEPARTMENT_HANDLER, "5101")
        assert client_for(dept).get(self.url(campaign)).status_code == 403
        outsider = make_user("out", Role.STREET_STAFF, "510105001")
        assert client_for(outsider).get(self.url(campaign)).status_code == 404
        city_op = make_user("cityop", Role.CITY_OPERATOR, "5101")
        response = client_for(city_op).get(self.url(campaign))
        assert response.status_code == 200
        assert response.data["rounds"][0]["total"] == 8

    def test_visits_show_in_coverage_by_area(self, city, campaign, make_user):
        worker = make_user("w", Role.STREET_STAFF, campaign.area_code)
        task = campaign.rounds.get().tasks.get(dwelling=city["dwellings"][0])
        client = client_for(worker)
        client.post(SYNC, {"visits": [item(task)]}, format="json")
        whole = client.get(self.url(campaign)).data["rounds"][0]
        assert (whole["visited"], whole["remaining"]) == (1, 7)
        grid = client.get(self.url(campaign), {"area": city["grids"][1].code}).data
        assert grid["rounds"][0]["visited"] == 0 and grid["rounds"][0]["total"] == 2
        assert client.get(self.url(campaign), {"area": "510105"}).status_code == 400
        assert client.get(self.url(campaign), {"area": "5101;--"}).status_code == 400


class TestSyncCost:
    """One phone sending one visit: a handful of queries, however large the campaign."""

    def sync_queries(self, token, task, **extra):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        with CaptureQueriesContext(connection) as ctx:
            response = client.post(SYNC, {"visits": [item(task, **extra)]}, format="json")
        assert response.status_code == 200
        assert response.data["results"][0]["status"] == "created", response.data
        return [q["sql"] for q in ctx.captured_queries]

    def test_one_visit_costs_the_same_small_number_of_queries_in_any_campaign(
        self, city, make_user
    ):
        import datetime as dt

        from rest_framework.authtoken.models import Token

        from shequ.campaigns import services
        from shequ.people.models import Person

        small = campaign_for(city, 0, rounds=1)
        large = campaign_for(city, 1, rounds=1)
        for n in range(4):  # more rounds, more visits already stored
            start = dt.date(2020, 3, 1) + dt.timedelta(days=7 * n)
            services.add_round(large, start, start + dt.timedelta(days=5))
        user = make_user("w", Role.STREET_STAFF, "5101")
        token = Token.objects.create(user=user)
        round_ = large.rounds.get(number=1)
        services.sync_visits(
            user, [item(t, uuid=str(uuid.uuid4())) for t in round_.tasks.order_by("id")[1:]]
        )
        costs = []
        for campaign in (small, large):
            task = campaign.rounds.get(number=1).tasks.order_by("id").first()
            costs.append(self.sync_queries(token, task))
        assert len(costs[0]) == len(costs[1]), costs
        # Token, user and role assignments (one query); the task in scope (for_user, as a
        # subquery), locked as it is, with its dwelling, round, form and the user's team; the
        # visit (INSERT … RETURNING its id); the task's outcome; the follow-up (a fever). The
        # dashboards take the change from what the write tells them: no query of theirs. And
        # the transaction (a savepoint in tests).
        statements = [q for q in costs[0] if not q.startswith(("SAVEPOINT", "RELEASE"))]
        assert len(statements) == 5, "\n".join(statements)
        # Residents confirmed at the door: one query more, for the dwelling's residents.
        task = small.rounds.get().tasks.order_by("id")[1]
        person = Person.objects.filter(dwelling=task.dwelling).first()
        confirmed = self.sync_queries(
            token, task, residents=[{"person": person.pk, "status": "present"}]
        )
        assert len(confirmed) == len(costs[0]) + 1


@pytest.mark.parametrize(
    "change",
    [
        {"task": 0},  # found by schemathesis on PostgreSQL, with no visited_at
        {"task": {}},
        {"task": True},
        {"task": "1"},
        {"residents": [{"person": {}, "status": "present"}]},
        {"residents": ["x"]},
        {"new_residents": ["x"], "outcome": "new_residents"},
        {"answers": []},
        {"residents": 5},
        {"new_residents": {"name": "x"}, "outcome": "new_residents"},
    ],
)
def test_a_malformed_visit_is_answered_invalid_never_a_server_error(campaign, make_user, change):
    task = campaign.rounds.get().tasks.first()
    client = client_for(make_user("w", Role.COMMUNITY_WORKER, campaign.area_code))
    visit = {**item(task), "residents": [], "new_residents": [], "note": "", **change}
    if change.get("task") == 0:
        del visit["visited_at"]
    response = client.post(SYNC, {"visits": [visit, item(task)]}, format="json")
    assert response.status_code == 200
    bad, good = response.data["results"]
    assert bad["status"] == "invalid" and bad["errors"]
    assert good["status"] == "created"  # the rest of the batch is stored
    assert Visit.objects.count() == 1

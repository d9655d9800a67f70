import json
import re

import pytest
from django.urls import reverse

from shequ.campaigns import services
from shequ.campaigns.models import Team, VisitTask
from shequ.campaigns.testing import campaign_for
from shequ.core.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(city):
    return campaign_for(city, 0, rounds=2, teams=2)


def visit_data(response) -> dict:
    match = re.search(
        r'<script id="visit-data" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    return json.loads(match.group(1))


def test_visit_page_shows_residents_masked(client, city, campaign, make_user):
    user = make_user("gw", Role.GRID_WORKER, city["grids"][0].code)
    client.force_login(user)
    response = client.get(reverse("campaigns:visit", args=[campaign.pk]))
    assert response.status_code == 200
    data = visit_data(response)
    # A grid worker sees the tasks of the grid (no team of theirs) and the residents, masked.
    codes = {t["code"] for t in data["tasks"]}
    assert codes == {d.code for d in city["dwellings"][:2]}
    page = response.content.decode()
    names = {r["name"] for t in data["tasks"] for r in t["residents"]}
    assert names == {p.name for p in city["persons"][:4]}
    for person in city["persons"][:4]:
        assert person.id_number not in page and person.phone not in page
    resident = data["tasks"][0]["residents"][0]
    assert re.fullmatch(r"\d{4}\*+\w{3}", resident["id_number"])
    assert re.fullmatch(r"\d{3}\*{4}\d{4}", resident["phone"])
    assert data["form"]["questions"][0]["id"] == "temperature"


def test_a_role_that_may_not_visit_gets_no_visit_page(client, city, campaign, make_user):
    op = make_user("op", Role.CITY_OPERATOR, "5101")
    client.force_login(op)
    assert client.get(reverse("campaigns:visit", args=[campaign.pk])).status_code == 403
    assert client.get(reverse("campaigns:campaign", args=[campaign.pk])).status_code == 200


def test_round_two_opens_with_the_answers_of_round_one(client, city, campaign, make_user):
    worker = make_user("st", Role.STREET_STAFF, campaign.area_code)
    round1 = campaign.rounds.get(number=1)
    tasks = list(round1.tasks.all())
    answers = {
        "temperature": 36.4,
        "came_from_outside": True,
        "travel_from": "重庆",
        "people_home": 3,
        "elderly_alone": False,
        "disability_needs_help": False,
    }
    items = [
        {"uuid": f"00000000-0000-4000-8000-{i:012d}", "task": t.pk, "outcome": "visited",
         "answers": answers, "visited_at": "2020-02-04T10:00:00+08:00"}
        for i, t in enumerate(tasks)
    ]  # fmt: skip
    services.sync_visits(worker, items)
    services.close_round(round1, worker)
    client.force_login(worker)
    team = Team.objects.filter(campaign=campaign).first()
    data = visit_data(client.get(reverse("campaigns:visit", args=[campaign.pk]), {"team": team.pk}))
    assert data["round"] == 2
    assert data["tasks"] and all(t["previous"] == answers for t in data["tasks"])


def test_campaign_teams_and_team_pages_and_roster_pdf(client, city, campaign, make_user):
    user = make_user("st", Role.STREET_STAFF, campaign.area_code)
    client.force_login(user)
    page = client.get(reverse("campaigns:campaign", args=[campaign.pk]))
    assert page.status_code == 200
    assert 'id="coverage"' in page.content.decode()
    assert client.get(reverse("campaigns:list")).status_code == 200
    teams = client.get(reverse("campaigns:teams", args=[campaign.pk]))
    assert "第1组" in teams.content.decode()
    team = Team.objects.filter(campaign=campaign).first()
    assert client.get(reverse("campaigns:team", args=[campaign.pk, team.pk])).status_code == 200
    pdf = client.get(reverse("campaigns:roster", args=[campaign.pk, team.pk]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and b"STSong-Light" in pdf.content


def test_close_round_page_refuses_with_a_clear_message(client, campaign, make_user):
    user = make_user("st", Role.STREET_STAFF, campaign.area_code)
    client.force_login(user)
    response = client.post(reverse("campaigns:close", args=[campaign.pk, 1]), follow=True)
    assert "8 dwellings have no outcome yet" in response.content.decode()
    assert campaign.rounds.get(number=1).closed_at is None


def test_move_building_by_hand_and_plan(client, city, campaign, make_user):
    user = make_user("cw", Role.COMMUNITY_WORKER, campaign.area_code)
    client.force_login(user)
    a, b = Team.objects.filter(campaign=campaign).order_by("name")
    building = VisitTask.objects.filter(team=a).first().building
    client.post(
        reverse("campaigns:move", args=[campaign.pk]), {"team": b.pk, "building": building.code}
    )
    assert not VisitTask.objects.filter(team=a).exists()
    client.post(reverse("campaigns:plan", args=[campaign.pk]))
    assert VisitTask.objects.filter(team=a).exists()
    grid = make_user("gw", Role.GRID_WORKER, city["grids"][0].code)
    client.force_login(grid)
    assert client.post(reverse("campaigns:plan", args=[campaign.pk])).status_code == 403


def test_pages_are_scoped(client, city, campaign, make_user):
    outsider = make_user("out", Role.STREET_STAFF, "510105001")
    client.force_login(outsider)
    for name in ("campaign", "visit", "teams"):
        assert client.get(reverse(f"campaigns:{name}", args=[campaign.pk])).status_code == 404

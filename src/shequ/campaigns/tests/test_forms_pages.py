"""The pages that create a campaign, edit it (retention, a new round) and form teams."""

import datetime as dt
import re

import pytest
from django.urls import reverse

from shequ.campaigns import formschema, services
from shequ.campaigns.models import Affiliation, Campaign, Team, Visit, VisitTask
from shequ.campaigns.testing import campaign_for
from shequ.core.roles import Role

pytestmark = pytest.mark.django_db

STREET = "510104001"  # district 0's street: two communities, eight dwellings


def errors(response) -> dict[str, list[str]]:
    """{field name: [messages]} as the page shows them."""
    found: dict[str, list[str]] = {}
    for name, text in re.findall(
        r'<p class="field-error" data-field="([^"]+)">(.*?)</p>', response.content.decode()
    ):
        found.setdefault(name, []).append(text)
    return found


def new_campaign_data(city, **changes) -> dict:
    street = city["districts"][0].children.get()
    data = {
        "name": "2020 春季全覆盖排查",
        "area": street.pk,
        "purpose": "入户核查健康状况",
        "form_source": "default",
        "retain_days": "90",
        "round1_start": "2020-02-03",
        "round1_end": "2020-02-08",
        "round2_start": "2020-02-10",
        "round2_end": "2020-02-15",
        "round3_start": "",
        "round3_end": "",
    }
    data.update(changes)
    return data


@pytest.fixture
def staff(make_user):
    return make_user("street", Role.STREET_STAFF, STREET)


def test_street_staff_create_a_campaign_with_its_rounds(client, city, staff):
    client.force_login(staff)
    page = client.get(reverse("campaigns:new"))
    assert page.status_code == 200
    # Only the user's own areas are offered.
    offered = set(re.findall(r'<option value="\d+"[^>]*>(\d+) ·', page.content.decode()))
    assert offered and all(code.startswith(STREET) for code in offered)
    response = client.post(reverse("campaigns:new"), new_campaign_data(city))
    campaign = Campaign.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("campaigns:campaign", args=[campaign.pk])
    assert (campaign.area_code, campaign.retain_days, campaign.created_by) == (STREET, 90, staff)
    assert campaign.current_form().schema == formschema.DEFAULT_FORM
    assert [(r.number, r.start, r.end) for r in campaign.rounds.all()] == [
        (1, dt.date(2020, 2, 3), dt.date(2020, 2, 8)),
        (2, dt.date(2020, 2, 10), dt.date(2020, 2, 15)),
    ]
    assert VisitTask.objects.filter(round__campaign=campaign).count() == 2 * 8
    followed = client.get(response["Location"])
    assert "2 rounds, 16 visit tasks" in followed.content.decode()
    assert reverse("campaigns:edit", args=[campaign.pk]) in followed.content.decode()


def test_a_new_campaign_may_copy_the_form_of_an_earlier_one(client, city, staff):
    earlier = campaign_for(city, 0, rounds=1)
    schema = {
        "questions": [
            {"id": "temperature", "type": "temperature", "label": "体温", "required": True}
        ]
    }
    version = services.new_form_version(earlier, schema)
    client.force_login(staff)
    response = client.post(
        reverse("campaigns:new"), new_campaign_data(city, form_source=str(version.pk))
    )
    assert response.status_code == 302
    campaign = Campaign.objects.exclude(pk=earlier.pk).get()
    assert campaign.current_form().schema == schema
    assert campaign.rounds.get(number=1).form.schema == schema


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"retain_days": "10"}, "retain_days", "Keep the answers at least 30 days."),
        ({"retain_days": "4000"}, "retain_days", "Keep the answers at most 3650 days."),
        ({"round1_end": "2020-02-01"}, "round1_end", "A round ends on or after its first day."),
        ({"round2_end": ""}, "round2_end", "Give the last day of round 2."),
        (
            {"round1_start": "", "round1_end": ""},
            "round2_start",
            "Fill in round 1 before round 2.",
        ),
        (
            {"round2_start": "", "round2_end": "", "round1_start": "", "round1_end": ""},
            "round1_start",
            "Give the dates of the first round at least.",
        ),
        (
            {"round2_start": "2020-02-02"},
            "round2_start",
            "Round 2 starts after round 1 starts (2020-02-03).",
        ),
        ({"form_source": "999999"}, "form_source", "Select a valid choice."),
    ],
)
def test_a_bad_campaign_is_refused_at_the_field(client, city, staff, changes, field, message):
    client.force_login(staff)
    response = client.post(reverse("campaigns:new"), new_campaign_data(city, **changes))
    assert response.status_code == 200
    assert any(message in text for text in errors(response).get(field, [])), errors(response)
    assert not Campaign.objects.exists()


def test_an_area_outside_ones_own_is_refused(client, city, staff):
    other_street = city["districts"][1].children.get()
    client.force_login(staff)
    response = client.post(reverse("campaigns:new"), new_campaign_data(city, area=other_street.pk))
    assert errors(response)["area"] == ["Choose one of your own areas."]
    assert not Campaign.objects.exists()


def test_who_may_create_a_campaign(client, city, make_user):
    url = reverse("campaigns:new")
    assert reverse("login") in client.get(url)["Location"]
    for name, role, code in [
        ("nobody", None, None),
        ("grid", Role.GRID_WORKER, city["grids"][0].code),  # visits, does not plan
        ("operator", Role.CITY_OPERATOR, "5101"),  # watches, does not plan
    ]:
        user = make_user(name, role, code) if role else make_user(name)
        client.force_login(user)
        assert client.get(url).status_code == 403
        assert client.post(url, new_campaign_data(city)).status_code == 403
    community = make_user("cw", Role.COMMUNITY_WORKER, city["communities"][0].code)
    client.force_login(community)
    assert client.get(url).status_code == 200
    # A community worker's campaign covers their community at most.
    response = client.post(url, new_campaign_data(city))
    assert errors(response)["area"] == ["Choose one of your own areas."]
    response = client.post(url, new_campaign_data(city, area=city["communities"][0].pk))
    assert response.status_code == 302
    assert Campaign.objects.get().area_code == city["communities"][0].code


def test_the_list_offers_a_new_campaign_to_those_who_plan(client, city, staff, make_user):
    client.force_login(staff)
    assert reverse("campaigns:new") in client.get(reverse("campaigns:list")).content.decode()
    client.force_login(make_user("grid", Role.GRID_WORKER, city["grids"][0].code))
    assert reverse("campaigns:new") not in client.get(reverse("campaigns:list")).content.decode()


@pytest.fixture
def campaign(city):
    return campaign_for(city, 0, rounds=1, teams=1)


def test_edit_the_retention_and_add_a_round(client, city, campaign, staff):
    task = campaign.rounds.get().tasks.first()
    services.sync_visits(
        staff,
        [{"uuid": "00000000-0000-4000-8000-000000000001", "task": task.pk,
          "outcome": "not_home", "visited_at": "2020-02-04T10:00:00+08:00"}],
    )  # fmt: skip
    url = reverse("campaigns:edit", args=[campaign.pk])
    client.force_login(staff)
    assert client.get(url).status_code == 200
    response = client.post(url, {"name": "改名", "purpose": "", "retain_days": "10"})
    assert errors(response)["retain_days"] == ["Keep the answers at least 30 days."]
    response = client.post(url, {"name": "改名", "purpose": "新目的", "retain_days": "60"})
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert (campaign.name, campaign.purpose, campaign.retain_days) == ("改名", "新目的", 60)
    visit = Visit.objects.get()
    assert visit.retain_until == visit.visited_at + dt.timedelta(days=60)
    # A round whose end is before its start is refused at the field.
    response = client.post(
        url, {"add_round": "1", "round-start": "2020-03-05", "round-end": "2020-03-01"}
    )
    assert errors(response)["end"] == ["A round ends on or after its first day."]
    assert campaign.rounds.count() == 1
    response = client.post(
        url, {"add_round": "1", "round-start": "2020-03-01", "round-end": "2020-03-05"}
    )
    assert response.status_code == 302
    round2 = campaign.rounds.get(number=2)
    assert round2.tasks.count() == 8


def test_a_campaign_is_edited_only_by_those_who_plan_it(client, city, campaign, make_user):
    url = reverse("campaigns:edit", args=[campaign.pk])
    # Seen from below (a community in the street's campaign): visible, not editable.
    client.force_login(make_user("cw", Role.COMMUNITY_WORKER, city["communities"][0].code))
    assert client.get(reverse("campaigns:campaign", args=[campaign.pk])).status_code == 200
    assert client.get(url).status_code == 403
    client.force_login(make_user("steward", Role.DATA_STEWARD, STREET))
    assert client.get(url).status_code == 403


def member_data(area, **changes) -> dict:
    data = {
        "community": area.code,
        "name": "第二组",
        "member1_user": "",
        "member1_name": "",
        "member1_affiliation": "",
        "member2_user": "",
        "member2_name": "王志强",
        "member2_affiliation": "",
    }
    data.update(changes)
    return data


def test_form_a_team_of_a_staff_member_and_a_volunteer(client, city, campaign, staff, make_user):
    colleague = make_user("district-staff", Role.STREET_STAFF, "510104")
    make_user("elsewhere", Role.STREET_STAFF, "510105001")
    url = reverse("campaigns:team_new", args=[campaign.pk])
    client.force_login(staff)
    page = client.get(url).content.decode()
    assert "district-staff" in page and "elsewhere" not in page  # staff of this campaign only
    community = city["communities"][1]
    response = client.post(url, member_data(community, member1_user=colleague.pk))
    assert response.status_code == 302, (errors(response), response.content.decode()[-3000:])
    assert response["Location"] == reverse("campaigns:teams", args=[campaign.pk])
    team = Team.objects.get(name="第二组")
    assert team.area_code == community.code
    members = [(m.user, m.name, m.affiliation) for m in team.members.all()]
    assert members == [
        (colleague, "", Affiliation.DISTRICT),  # read off the account's area
        (None, "王志强", Affiliation.VOLUNTEER),
    ]
    teams_page = client.get(reverse("campaigns:teams", args=[campaign.pk])).content.decode()
    assert "第二组" in teams_page and url in teams_page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"member2_name": ""}, "member2_name", "Member 2: choose a staff member or type"),
        ({"member1_name": "李四"}, "member1_name", "not both"),
        ({"name": ""}, "name", "This field is required."),
        ({"community": "510105001001"}, "community", "Select a valid choice."),
    ],
)
def test_a_bad_team_is_refused_at_the_field(client, city, campaign, staff, changes, field, message):
    url = reverse("campaigns:team_new", args=[campaign.pk])
    client.force_login(staff)
    data = member_data(city["communities"][1], member1_user=staff.pk)
    data.update(changes)
    response = client.post(url, data)
    assert response.status_code == 200
    assert any(message in text for text in errors(response).get(field, [])), errors(response)
    assert campaign.teams.count() == 1


def test_the_same_person_twice_is_refused(client, city, campaign, staff):
    client.force_login(staff)
    response = client.post(
        reverse("campaigns:team_new", args=[campaign.pk]),
        member_data(
            city["communities"][1], member1_user=staff.pk, member2_user=staff.pk, member2_name=""
        ),
    )
    assert errors(response)["member2_user"] == ["The two members are the same person."]


def test_a_community_worker_forms_teams_in_their_own_community_only(
    client, city, campaign, make_user
):
    worker = make_user("cw", Role.COMMUNITY_WORKER, city["communities"][0].code)
    url = reverse("campaigns:team_new", args=[campaign.pk])
    client.force_login(worker)
    page = client.get(url).content.decode()
    assert city["communities"][0].code in page and city["communities"][1].code not in page
    response = client.post(url, member_data(city["communities"][1], member1_user=worker.pk))
    assert "Select a valid choice." in errors(response)["community"][0]
    response = client.post(url, member_data(city["communities"][0], member1_user=worker.pk))
    assert response.status_code == 302
    assert campaign.teams.filter(area_code=city["communities"][0].code).count() == 2
    # In a campaign of another district: as missing.
    other = services.create_campaign(name="另一区", area=city["districts"][1].children.get())
    assert client.get(reverse("campaigns:team_new", args=[other.pk])).status_code == 404

"""A field worker records a visit at the door with no connection, at a phone's viewport; when
the phone is back online the queued visit syncs and shows in the campaign's coverage."""

import pytest
from playwright.sync_api import expect

from shequ.campaigns.models import FollowUp, Visit
from shequ.campaigns.testing import campaign_for
from shequ.core.roles import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_visit_offline_then_sync_into_coverage(page, live_server, city, make_user, login, shot):
    campaign = campaign_for(city, 0, rounds=1, teams=1)
    team = campaign.teams.get()
    make_user("fieldworker", Role.COMMUNITY_WORKER, team.area_code)
    login(page, "fieldworker")
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/visit/?team={team.pk}")
    tasks = page.locator("#tasks li")
    expect(tasks).to_have_count(4)
    expect(page.locator("#queue-state")).not_to_have_class("queue queue--waiting")
    shot(page, "campaign-visit-01-list")

    # The connection drops.
    page.context.set_offline(True)
    expect(page.locator("#net-state")).to_have_class("net net--offline")
    tasks.first.locator("button").click()
    expect(page.locator("#visit-view")).to_be_visible()
    # Known residents are shown masked.
    expect(page.locator("#residents li")).to_have_count(2)
    expect(page.locator("#residents .resident__facts").first).to_contain_text("****")
    page.check("input[name=outcome][value=visited]")
    page.fill("#q-temperature", "37.6")
    page.check("input[name=q-came_from_outside][value=true]")
    # Asked only because someone came from outside.
    expect(page.locator("#q-travel_from")).to_be_visible()
    page.fill("#q-travel_from", "重庆")
    page.fill("#q-people_home", "2")
    page.check("input[name=q-elderly_alone][value=false]")
    page.check("input[name=q-disability_needs_help][value=false]")
    shot(page, "campaign-visit-02-form-offline")
    page.click("#save")
    expect(page.locator("#task-list-view")).to_be_visible()
    expect(page.locator("#queue-state")).to_have_class("queue queue--waiting")
    expect(page.locator("#tasks li").first.locator(".badge--queued")).to_be_visible()
    shot(page, "campaign-visit-03-queued-offline")
    assert Visit.objects.count() == 0

    # Back online: the queue syncs by itself.
    page.context.set_offline(False)
    expect(page.locator("#queue-state")).to_have_class("queue", timeout=15_000)
    expect(page.locator("#net-state")).to_have_class("net net--online")
    shot(page, "campaign-visit-04-synced")
    visit = Visit.objects.get()
    assert visit.outcome == "visited" and visit.answers["travel_from"] == "重庆"
    assert visit.residents and all(r["status"] == "present" for r in visit.residents)
    assert set(FollowUp.objects.values_list("rule", flat=True)) == {"fever", "travel"}

    # The campaign page shows it in the coverage.
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/")
    row = page.locator("#coverage tr[data-round='1']")
    expect(row.locator("[data-k=visited]")).to_have_text("1")
    expect(row.locator("[data-k=remaining]")).to_have_text("7")
    shot(page, "campaign-visit-05-coverage")
    assert not page.js_errors

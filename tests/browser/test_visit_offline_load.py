"""The visit page opens with no connection once it has been loaded online: a field worker
opens it in the office, walks into a stairwell with no signal and reloads (or reopens) it."""

import pytest
from playwright.sync_api import expect

from shequ.campaigns.models import Campaign, Visit
from shequ.campaigns.testing import campaign_for
from shequ.core.roles import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_visit_page_opens_offline_after_one_load_online(
    page, live_server, city, make_user, login, shot
):
    campaign = campaign_for(city, 0, rounds=1, teams=1)
    team = campaign.teams.get()
    make_user("fieldworker", Role.COMMUNITY_WORKER, team.area_code)
    login(page, "fieldworker")
    url = f"{live_server.url}/campaigns/{campaign.pk}/visit/?team={team.pk}"
    page.goto(url)
    expect(page.locator("#tasks li")).to_have_count(4)
    # The service worker has kept the page and its assets for use offline.
    expect(page.locator("#offline-state")).to_have_class("offline-ready", timeout=15_000)
    shot(page, "visit-offline-load-01-ready")

    # What the server says from now on is not what the phone shows while offline.
    Campaign.objects.filter(pk=campaign.pk).update(name="RENAMED ON THE SERVER")
    page.context.set_offline(True)
    response = page.reload()
    assert response is not None and response.from_service_worker
    expect(page.locator(".page-head__kicker")).to_contain_text(campaign.name)
    expect(page.locator("#tasks li")).to_have_count(4)
    expect(page.locator("#net-state")).to_have_class("net net--offline")
    # The page's own style and script came from the cache too: the form works.
    assert page.evaluate("getComputedStyle(document.querySelector('.sync-bar')).position") == (
        "sticky"
    )
    page.locator("#tasks li").first.locator("button").click()
    page.check("input[name=outcome][value=not_home]")
    page.click("#save")
    expect(page.locator("#queue-state")).to_have_class("queue queue--waiting")
    shot(page, "visit-offline-load-02-reloaded-offline")

    # Reopened from scratch (a new tab), still offline.
    again = page.context.new_page()
    again.goto(url)
    expect(again.locator("#tasks li")).to_have_count(4)
    expect(again.locator("#queue-state")).to_have_class("queue queue--waiting")
    again.close()
    assert Visit.objects.count() == 0

    # Back online: the queue syncs, and the page is the server's again.
    page.context.set_offline(False)
    expect(page.locator("#queue-state")).to_have_class("queue", timeout=15_000)
    assert Visit.objects.get().outcome == "not_home"
    page.reload()
    expect(page.locator(".page-head__kicker")).to_contain_text("RENAMED ON THE SERVER")
    assert not page.js_errors

"""A street's staff member plans a campaign in the browser: creates it (a mistake in the dates
is shown at the field), then forms a team of a colleague and a volunteer."""

import pytest
from playwright.sync_api import expect

from shequ.campaigns.models import Campaign, Team, VisitTask
from shequ.core.roles import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_create_a_campaign_and_form_a_team(page, live_server, city, make_user, login, shot):
    street = city["districts"][0].children.get()
    make_user("planner", Role.STREET_STAFF, street.code)
    colleague = make_user("colleague", Role.COMMUNITY_WORKER, city["communities"][0].code)
    login(page, "planner")

    page.goto(f"{live_server.url}/campaigns/")
    page.click("#new-campaign")
    expect(page.locator("#campaign-form")).to_be_visible()
    page.fill("input[name=name]", "春季全覆盖入户排查")
    page.select_option("select[name=area]", str(street.pk))
    page.fill("textarea[name=purpose]", "核查健康状况和常住人口")
    page.fill("input[name=round1_start]", "2020-02-08")
    page.fill("input[name=round1_end]", "2020-02-03")  # ends before it starts
    page.fill("input[name=round2_start]", "2020-02-10")
    page.fill("input[name=round2_end]", "2020-02-15")
    page.fill("input[name=retain_days]", "90")
    with page.expect_navigation():
        page.click("#campaign-form button[type=submit]")
    error = page.locator(".field-error[data-field=round1_end]")
    expect(error).to_be_visible()
    shot(page, "campaign-create-01-error")
    assert not Campaign.objects.exists()
    # What was typed is still there; fix the date.
    expect(page.locator("input[name=name]")).to_have_value("春季全覆盖入户排查")
    page.fill("input[name=round1_start]", "2020-02-03")
    page.fill("input[name=round1_end]", "2020-02-08")
    with page.expect_navigation():
        page.click("#campaign-form button[type=submit]")

    campaign = Campaign.objects.get()
    assert page.url == f"{live_server.url}/campaigns/{campaign.pk}/"
    assert (campaign.area_code, campaign.retain_days) == (street.code, 90)
    expect(page.locator("#coverage tr[data-round]")).to_have_count(2)
    expect(page.locator("#coverage tr[data-round='1'] [data-k=total]")).to_have_text("8")
    expect(page.locator("#retention")).to_contain_text("90")
    shot(page, "campaign-create-02-created")
    assert VisitTask.objects.filter(round__campaign=campaign).count() == 16

    page.click("a[href$='/teams/']")
    page.click("#new-team")
    page.select_option("select[name=community]", city["communities"][0].code)
    page.fill("input[name=name]", "第一组")
    page.select_option("select[name=member1_user]", str(colleague.pk))
    page.fill("input[name=member2_name]", "王志强")
    shot(page, "campaign-create-03-team")
    with page.expect_navigation():
        page.click("#team-form button[type=submit]")
    expect(page.locator("#teams")).to_contain_text("第一组")
    expect(page.locator("#teams")).to_contain_text("王志强")
    shot(page, "campaign-create-04-teams")
    team = Team.objects.get()
    assert [m.display_name for m in team.members.all()] == ["colleague", "王志强"]
    assert not page.js_errors

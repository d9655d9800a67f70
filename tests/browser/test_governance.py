"""A data steward approves an export request from the approval queue, then finds the decision
(and the request) in the audit trail with the filters."""

import pytest
from playwright.sync_api import expect

from shequ.core.roles import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}


def test_steward_approves_an_export_and_browses_the_audit_trail(
    browser, live_server, city, make_user, login, shot
):
    from shequ.governance import services
    from shequ.governance.models import ExportRequest, ExportStatus

    operator = make_user("operator", Role.CITY_OPERATOR, "5101")
    make_user("steward", Role.DATA_STEWARD, "5101")
    req = services.request_export(
        operator,
        dataset="persons",
        fields=["id", "name", "resident_type"],
        area_code="510104001",
        purpose="季度人口核查, 交街道综治办比对",
        recipient="锦江区综治中心",
    )

    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    desk = context.new_page()
    errors = []
    desk.on("pageerror", lambda exc: errors.append(str(exc)))
    login(desk, "steward")
    desk.goto(f"{live_server.url}/exports/queue/")
    row = desk.locator("#waiting li", has_text=req.number)
    expect(row).to_contain_text("510104001")
    shot(desk, "governance-desktop-01-queue")
    with desk.expect_navigation():
        row.locator("a").click()
    expect(desk.locator("#status")).to_have_class("gov-status gov-status--requested")
    desk.fill("#decide textarea[name=reason]", "用途明确, 字段最少")
    shot(desk, "governance-desktop-02-request")
    with desk.expect_navigation():
        desk.locator('#decide button[value="approve"]').click()
    expect(desk.locator("#status")).to_have_class("gov-status gov-status--approved")
    expect(desk.locator("#decide")).to_have_count(0)  # decided: no second decision
    req.refresh_from_db()
    assert req.status == ExportStatus.APPROVED and req.approver.username == "steward"

    desk.goto(f"{live_server.url}/audit/")
    expect(desk.locator("#audit-events tbody tr").first).to_be_visible()
    desk.select_option("#id_kind", ["export_requested", "export_approved"])
    desk.fill("#id_under", "510104")
    with desk.expect_navigation():
        desk.locator("#audit-filters button[type=submit]").click()
    rows = desk.locator("#audit-events tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("steward")
    expect(rows.nth(0)).to_contain_text("用途明确, 字段最少")
    expect(rows.nth(1)).to_contain_text("operator")
    for i in (0, 1):
        expect(rows.nth(i)).to_contain_text(req.number)
    shot(desk, "governance-desktop-03-audit")
    assert not errors
    assert ExportRequest.objects.get(pk=req.pk).status == ExportStatus.APPROVED
    context.close()

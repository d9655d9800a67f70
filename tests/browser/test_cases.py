"""A resident reports a problem on a phone (map pin, text, phone number), gets a case number at
once; the department handler it was routed to sees it in the worklist and starts handling it."""

import pytest
from playwright.sync_api import expect

from shequ.cases.models import Case
from shequ.cases.workflow import State
from shequ.core.roles import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}


def test_resident_reports_and_handler_sees_it(
    browser, page, live_server, city, make_user, login, shot
):
    from shequ.cases.testing import build_matrix

    matrix = build_matrix()
    handler = make_user("dept", Role.DEPARTMENT_HANDLER, "5101")
    matrix["departments"]["JJ-CG"].members.add(handler)

    page.goto(f"{live_server.url}/cases/report/")
    expect(page.locator("h1")).to_have_text("反映问题")
    expect(page.locator("#pin-map.leaflet-container")).to_be_visible()
    page.fill("#id_text", "小区门口垃圾桶满了三天没人清运，气味很大")
    box = page.locator("#pin-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.5)
    expect(page.locator("#pin-status")).to_contain_text("已选位置")
    page.fill("#id_reporter_phone", "13912345678")
    shot(page, "cases-phone-01-report")
    with page.expect_navigation():
        page.get_by_role("button", name="提交").click()
    number = page.locator("#case-number").inner_text()
    assert number.startswith("SQ")
    expect(page.locator("#receipt")).to_contain_text("/cases/track/")
    expect(page.locator("body")).not_to_contain_text("13912345678")
    expect(page.locator("body")).not_to_contain_text("139****5678")
    shot(page, "cases-phone-02-receipt")
    assert not page.js_errors

    case = Case.objects.get(number=number)
    assert case.area_code.startswith("510104") and case.department.code == "JJ-CG"

    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    desk = context.new_page()
    login(desk, "dept")
    desk.goto(f"{live_server.url}/cases/")
    row = desk.locator("#cases li", has_text=number)
    expect(row).to_contain_text("已派遣")
    shot(desk, "cases-desktop-03-worklist")
    with desk.expect_navigation():
        row.locator("a").click()
    expect(desk.locator("#reporter")).to_contain_text("139****5678")
    with desk.expect_navigation():
        desk.locator('#actions button[data-move="start"]').click()
    expect(desk.locator("#case-state")).to_have_text("处置中")
    shot(desk, "cases-desktop-04-detail")
    context.close()
    case.refresh_from_db()
    assert case.state == State.IN_PROGRESS

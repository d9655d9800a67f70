"""The layered dashboards in a real browser: drill city -> compound by clicking, switch the
language, toggle the big screen; screenshots in screenshots/ (look at them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from shequ.core.roles import Role

from .conftest import DESKTOP

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def city_with_rollups(city):
    from shequ.dashboards import rollups

    rollups.rebuild()
    return city


def test_drill_from_city_to_compound_switch_language_and_big_screen(
    browser, live_server, login, shot, city_with_rollups, make_user
):
    make_user("city", Role.CITY_OPERATOR, "5101")
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN", device_scale_factor=1)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    login(page, "city")

    page.goto(f"{live_server.url}/dashboards/5101/")
    page.wait_for_selector("#dash-map.map--ready")
    page.wait_for_selector("[data-chart='pop.pyramid'] canvas")
    assert "城市大脑" in page.inner_text(".dash-head")
    assert page.inner_text("[data-value='pop.residents']") == "32"
    shot(page, "dashboards-1-city-zh")

    # Drill down on the map: click the district's shape (near its corner: facility dots sit
    # in the middle).
    with page.expect_navigation():
        page.locator(".dash-map .map-area--link").first.click(position={"x": 12, "y": 12})
    assert page.url.endswith("/dashboards/510104/")
    page.wait_for_selector("#dash-map.map--ready")
    # ... then through the links down to the grid, and the compound on the map.
    for code in ("510104001", "510104001001", "510104001001G01"):
        with page.expect_navigation():
            page.click(f"#children a[href='/dashboards/{code}/']")
        page.wait_for_selector("#dash-map.map--ready")
    with page.expect_navigation():
        page.locator(".dash-map path.leaflet-interactive").last.click()
    assert page.url.endswith("/dashboards/place/510104001001C001/")
    page.wait_for_selector("[data-chart='pop.pyramid'] canvas")
    assert "小区微脑" in page.inner_text(".dash-head")
    assert page.inner_text("[data-value='pop.residents']") == "4"
    crumbs = page.inner_text(".breadcrumb")
    assert "成都市" in crumbs and "锦绣苑00" in crumbs
    shot(page, "dashboards-2-compound-zh")

    # Switch language: the same page in English.
    with page.expect_navigation():
        page.click(".lang-switch button[value='en']")
    page.wait_for_selector("[data-chart='pop.pyramid'] canvas")
    assert "Compound micro-brain" in page.inner_text(".dash-head")
    assert "Age pyramid" in page.inner_text("main")
    # The definition shows on hover.
    page.hover("[data-key='pop.residents'] .dash-def")
    assert page.is_visible("[data-key='pop.residents'] .dash-def__text")
    shot(page, "dashboards-3-compound-en")

    # Climb back with the breadcrumb, then the big screen.
    with page.expect_navigation():
        page.click(".breadcrumb a[href='/dashboards/510104/']")
    with page.expect_navigation():
        page.click("#big-screen")
    assert "screen=big" in page.url
    page.wait_for_selector("body.dash--screen #dash-map.map--ready")
    page.wait_for_selector("[data-chart='pop.by_type'] canvas")
    # It refreshes itself from the API.
    page.wait_for_selector("body[data-refreshed]", state="attached", timeout=8_000)
    size = page.eval_on_selector(
        "[data-value='pop.residents']", "n => parseFloat(getComputedStyle(n).fontSize)"
    )
    assert size >= 40  # readable across a room
    shot(page, "dashboards-4-district-big-screen")
    with page.expect_navigation():
        page.click("#leave-screen")
    assert "screen=big" not in page.url
    assert errors == []
    context.close()


@pytest.fixture
def city_with_requests(city):
    """The test city with a few requests in the first grids (dispatched, one handled and
    closed, one rated), rollups rebuilt."""
    from shequ.cases import services
    from shequ.cases.testing import build_matrix
    from shequ.cases.workflow import Outcome
    from shequ.core.testing import make_user as plain_user
    from shequ.dashboards import rollups

    build_matrix()
    staff = plain_user("req-staff", Role.STREET_STAFF, "5101")
    cases = []
    for i, grid in enumerate(city["grids"][:6]):
        for j in range(2 + i % 3):
            text = ["小区门口垃圾堆放没人清运", "电梯坏了老人下不了楼", "晚上施工噪音扰民"][j % 3]
            cases.append(
                services.create_case(
                    text=text,
                    channel="hotline",
                    acting_user=staff,
                    lat=grid.lat + 0.001 * j,
                    lng=grid.lng + 0.001 * j,
                )
            )
    handler = plain_user("req-handler", Role.DEPARTMENT_HANDLER, "5101")
    for case in cases[:4]:
        if case.department is not None and case.state == "dispatched":
            case.department.members.add(handler)
            services.start_case(case, acting_user=handler)
            services.report_case(case, acting_user=handler, note="done")
            services.verify_case(case, acting_user=staff)
            services.close_case(case, acting_user=staff, outcome=Outcome.RESOLVED)
            services.evaluate_case(case, satisfaction="satisfied", by_reporter=True)
    rollups.rebuild()
    return city


def test_requests_section_with_rates_definitions_and_points(
    browser, live_server, login, shot, city_with_requests, make_user
):
    from shequ.cases.models import Case

    make_user("city", Role.CITY_OPERATOR, "5101")
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN", device_scale_factor=1)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    login(page, "city")
    page.goto(f"{live_server.url}/dashboards/510104/")
    page.wait_for_selector("#dash-map.map--ready")
    page.wait_for_selector("[data-chart='req.trend'] canvas")
    page.wait_for_selector("[data-chart='req.by_department'] canvas")
    received = Case.objects.filter(area_code__startswith="510104").count()
    assert received > 0
    assert page.inner_text("[data-value='req.received_month']") == str(received)
    assert "按时办结率" in page.inner_text("main")
    # Open cases are dots on the map (one per open case here).
    open_here = Case.objects.open().filter(area_code__startswith="510104").count()
    dots = page.locator(".dash-map path.leaflet-interactive").count()
    assert dots >= open_here > 0
    page.hover("[data-key='req.on_time_rate'] .dash-def")
    assert page.is_visible("[data-key='req.on_time_rate'] .dash-def__text")
    page.locator("[data-key='req.trend']").scroll_into_view_if_needed()
    shot(page, "dashboards-5-requests-zh")
    # The CSV of a rate.
    with page.expect_download() as download:
        page.click("[data-key='req.by_department'] .dash-csv")
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert "部门" in text
    # English.
    with page.expect_navigation():
        page.click(".lang-switch button[value='en']")
    page.wait_for_selector("[data-chart='req.trend'] canvas")
    assert "On-time closing rate" in page.inner_text("main")
    page.locator("[data-key='req.rates_trend']").scroll_into_view_if_needed()
    shot(page, "dashboards-6-requests-en")
    assert errors == []
    context.close()

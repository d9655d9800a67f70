"""A data steward signs in and drills from the city down to one person by clicking, in Chinese;
reveals a phone with a reason; switches to English. Phone and desktop screenshots."""

import re

import pytest
from playwright.sync_api import expect

from shequ.core.models import PersonalDataAccess
from shequ.core.roles import Role
from shequ.core.testing import add_device

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}


def open_child(page, text: str, within: str = "#children") -> None:
    link = page.locator(f"{within} a", has_text=re.compile(rf"^\s*{re.escape(text)}(\s|$)"))
    with page.expect_navigation():
        link.first.click()


def wait_for_map(page, polygons: int) -> None:
    expect(page.locator("#area-map.map--ready")).to_be_visible()
    expect(page.locator("#area-map path.map-area--link")).to_have_count(polygons)


def test_drill_down_from_city_to_person(page, live_server, city, make_user, login, shot):
    # The steward may reveal, so signs in with a code from an authenticator app as well.
    add_device(make_user("steward", Role.DATA_STEWARD, "5101"))
    person = city["persons"][0]

    page.goto(f"{live_server.url}/")
    expect(page.locator("h1")).to_have_text("登录")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    shot(page, "phone-zh-01-login")
    login(page, "steward")

    # City: the home page of a city-wide user; two districts, drawn on the map.
    expect(page).to_have_url(f"{live_server.url}/areas/5101/")
    expect(page.locator("h1")).to_have_text("成都市")
    expect(page.locator(".who")).to_contain_text("数据管理员")
    wait_for_map(page, 2)
    expect(page.locator(".leaflet-tooltip.map-label")).to_have_text(["锦江区", "青羊区"])
    shot(page, "phone-zh-02-city")

    # District: by clicking its polygon on the map.
    with page.expect_navigation():
        page.locator("#area-map path.map-area--link").first.click()
    expect(page).to_have_url(f"{live_server.url}/areas/510104/")
    expect(page.locator("h1")).to_have_text("锦江区")
    expect(page.locator(".breadcrumb a")).to_have_text(["成都市"])

    open_child(page, "锦江区一街道")
    expect(page.locator("h1")).to_have_text("锦江区一街道")
    expect(page.locator("#children .tile").first).to_contain_text("居民 8")
    wait_for_map(page, 2)
    shot(page, "phone-zh-03-street")

    open_child(page, "锦江区社区1")
    expect(page.locator("h1")).to_have_text("锦江区社区1")
    expect(page.locator("#compounds .tile")).to_have_count(2)
    expect(page.locator("#facilities")).to_have_count(0)
    shot(page, "phone-zh-04-community")

    open_child(page, "第1网格")
    expect(page.locator("h1")).to_have_text("第1网格")
    open_child(page, "锦绣苑00", within="#compounds")
    expect(page.locator(".page-head__kicker")).to_contain_text("小区/院落")
    open_child(page, "1栋")
    open_child(page, "1单元")
    expect(page.locator("#children .tile")).to_have_count(2)
    open_child(page, "501")
    expect(page.locator(".breadcrumb li")).to_have_count(9)
    expect(page.locator("#residents .person-card")).to_have_count(2)
    masked_id = person.id_number[:4] + "*" * 11 + person.id_number[-3:]
    expect(page.locator("#residents")).to_contain_text(masked_id)
    shot(page, "phone-zh-05-dwelling")

    with page.expect_navigation():
        page.locator("#residents a", has_text=person.name).click()
    expect(page.locator("h1")).to_have_text(person.name)
    expect(page.locator("#person-facts")).to_contain_text(masked_id)
    assert person.id_number not in page.content() and person.phone not in page.content()
    shot(page, "phone-zh-06-person")

    # Reveal the phone with a reason: shown once, one access record.
    page.locator('#reveal input[value="phone"]').check()
    page.fill("#reveal textarea", "上门核实身份")
    with page.expect_navigation():
        page.locator("#reveal button[type=submit]").click()
    expect(page.locator("#revealed")).to_contain_text(person.phone)
    assert person.id_number not in page.content()
    assert PersonalDataAccess.objects.filter(object_id=str(person.pk), fields="phone").count() == 1
    shot(page, "phone-zh-07-revealed")

    # English, on a desktop screen: the switch keeps the page and drops the revealed value.
    page.set_viewport_size(DESKTOP)
    with page.expect_navigation():
        page.locator(".lang-switch button", has_text="English").click()
    expect(page).to_have_url(f"{live_server.url}/people/persons/{person.pk}/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#reveal h2")).to_have_text("Reveal personal data")
    expect(page.locator("#person-facts")).to_contain_text("ID number")
    expect(page.locator("#person-facts")).to_contain_text("Male")
    expect(page.locator(".who")).to_contain_text("Data steward")
    assert person.phone not in page.content()
    shot(page, "desktop-en-01-person")

    with page.expect_navigation():
        page.locator(".breadcrumb a", has_text="Chengdu").click()
    expect(page.locator("h1")).to_have_text("Chengdu")
    expect(page.locator("#children")).to_contain_text("Jinjiang District")
    expect(page.locator("#children")).to_contain_text("Residents")
    wait_for_map(page, 2)
    expect(page.locator(".leaflet-tooltip.map-label")).to_have_text(
        ["Jinjiang District", "Qingyang District"]
    )
    shot(page, "desktop-en-02-city")

    page.goto(f"{live_server.url}/areas/510104001001/")
    expect(page.locator("h1")).to_have_text("Jinjiang Community 1")
    wait_for_map(page, 2)
    shot(page, "desktop-en-03-community")
    assert page.js_errors == []

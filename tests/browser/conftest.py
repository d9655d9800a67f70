"""Real-browser fixtures: Playwright (sync API) driving Debian's /usr/bin/chromium.

``page`` is a fresh browser context (cookies, language) per test, a phone viewport and the
Chinese locale by default; ``login(page, username)`` signs in through the form of pytest-django's
``live_server``; ``shot(page, name)`` saves a full-page screenshot into ``screenshots/``
(gitignored).
Never ``playwright install``: the machine has no internet; we use the system browser.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium to run browser tests")
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    # The sync API keeps an asyncio loop in this thread; Django's ORM guard would refuse the
    # test's own (synchronous) database work while it is open.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=PHONE, locale="zh-CN", device_scale_factor=1)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors
    yield page
    context.close()


@pytest.fixture
def login(live_server):
    """``login(page, username)``: sign in through the login form of the live server."""
    from shequ.core.testing import PASSWORD

    def sign_in(page, username: str, password: str = PASSWORD) -> None:
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill('input[name="username"]', username)
        page.fill('input[name="password"]', password)
        with page.expect_navigation():
            page.click('form[action="/accounts/login/"] button[type="submit"]')
        if page.url.endswith("/accounts/login/code/"):
            # Two-step sign-in (core/twofactor.py): type the authenticator's current code.
            from django.contrib.auth import get_user_model

            from shequ.core.testing import add_device, totp_code

            device = add_device(get_user_model().objects.get(username=username))
            page.fill('input[name="code"]', totp_code(device))
            with page.expect_navigation():
                page.click('form[action="/accounts/login/code/"] button[type="submit"]')

    return sign_in


@pytest.fixture
def shot():
    """``shot(page, name)``: a full-page screenshot into screenshots/<name>.png."""

    def take(page, name: str) -> Path:
        SCREENSHOTS.mkdir(exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take

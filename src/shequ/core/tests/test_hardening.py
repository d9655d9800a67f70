"""Platform hardening: CSP without inline scripts, session timeouts, production deploy check."""

import base64
import datetime as dt
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse

from shequ.core.roles import Role

SRC = Path(__file__).resolve().parents[2]
ROOT = SRC.parent.parent


def test_pages_carry_a_strict_content_security_policy(client, db):
    response = client.get(reverse("login"))
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/(?:ld\+)?json)[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)


def test_no_template_has_an_inline_script_or_event_handler():
    """What CSP would block must not be written at all (data goes through json_script)."""
    offenders = []
    for template in SRC.rglob("templates/**/*.html"):
        text = template.read_text(encoding="utf-8")
        for pattern in (INLINE_SCRIPT, INLINE_HANDLER):
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                offenders.append(f"{template.relative_to(SRC)}:{line}: {match.group(0)[:60]}")
    assert not offenders, "inline script would be blocked by CSP:\n" + "\n".join(offenders)


def test_api_docs_page_is_served_from_our_own_origin(client, make_user):
    client.force_login(make_user("doc", Role.CITY_OPERATOR, "5101"))
    html = client.get(reverse("api-docs")).content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/") for s in sources), sources


def test_session_ends_after_idle_and_absolute_timeouts(client, make_user, city):
    user = make_user("sess", Role.CITY_OPERATOR, "5101")
    home = reverse("areas:area", kwargs={"code": "5101"})
    assert settings.SESSION_COOKIE_AGE == settings.SESSION_IDLE_SECONDS
    with time_machine.travel("2026-11-21 08:00 +0800", tick=False) as clock:
        client.force_login(user)
        assert client.get(home).status_code == 200
        # Active every 20 minutes: still signed in just before the absolute limit ...
        steps = (settings.SESSION_ABSOLUTE_SECONDS - 60) // 1200
        for _ in range(steps):
            clock.shift(1200)
            assert client.get(home).status_code == 200
        # ... and signed out once it has passed, however active.
        clock.shift(settings.SESSION_ABSOLUTE_SECONDS - steps * 1200 + 1)
        response = client.get(home)
        assert response.status_code == 302 and reverse("login") in response["Location"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX subprocess environment")
def test_production_settings_pass_the_deploy_check():
    env = {
        **os.environ,
        "SHEQU_PRODUCTION": "1",
        "SHEQU_HTTPS": "1",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "shequ.example.cn",
        "DEBUG": "0",
        "SHEQU_DATA_KEY": "k1:" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "SHEQU_HASH_KEY": secrets.token_urlsafe(40),
    }
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    env = {**os.environ, "SHEQU_PRODUCTION": "1", "SECRET_KEY": "", "DEBUG": "0"}
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "SECRET_KEY must be set" in result.stderr


def test_session_ends_after_idle_time(client, make_user, city):
    user = make_user("idle", Role.CITY_OPERATOR, "5101")
    home = reverse("areas:area", kwargs={"code": "5101"})
    with time_machine.travel("2026-11-21 08:00 +0800", tick=False) as clock:
        client.force_login(user)
        clock.shift(settings.SESSION_IDLE_SECONDS - 60)
        assert client.get(home).status_code == 200  # activity renews the idle window
        clock.shift(settings.SESSION_IDLE_SECONDS + 1)
        response = client.get(home)
        assert response.status_code == 302 and reverse("login") in response["Location"]


def _session_row(client):
    from django.contrib.sessions.models import Session

    return Session.objects.get(session_key=client.session.session_key)


def test_page_views_within_a_minute_do_not_rewrite_the_session(client, make_user, city):
    user = make_user("quiet", Role.CITY_OPERATOR, "5101")
    home = reverse("areas:area", kwargs={"code": "5101"})
    with time_machine.travel("2026-11-21 08:00 +0800", tick=False) as clock:
        client.force_login(user)
        expires = _session_row(client).expire_date
        clock.shift(30)
        response = client.get(home)
        assert response.status_code == 200
        assert "sessionid" not in response.cookies  # nothing written, cookie not renewed
        assert _session_row(client).expire_date == expires
        clock.shift(31)  # a minute after the last written activity: renewed
        response = client.get(home)
        assert response.status_code == 200 and "sessionid" in response.cookies
        assert response.cookies["sessionid"]["max-age"] == settings.SESSION_IDLE_SECONDS
        assert _session_row(client).expire_date - expires == dt.timedelta(seconds=61)


def test_idle_timeout_is_never_exceeded_between_written_activity(client, make_user, city):
    """A request that wrote nothing does not extend the session: it ends SESSION_IDLE_SECONDS
    after the last written activity (at most a minute before the idle time of the last
    request), never later."""
    user = make_user("idle2", Role.CITY_OPERATOR, "5101")
    home = reverse("areas:area", kwargs={"code": "5101"})
    with time_machine.travel("2026-11-21 08:00 +0800", tick=False) as clock:
        client.force_login(user)
        clock.shift(59)
        assert client.get(home).status_code == 200  # not written
        clock.shift(settings.SESSION_IDLE_SECONDS - 60)
        assert client.get(home).status_code == 200  # a second before the idle time: still in
        clock.shift(30)
        assert client.get(home).status_code == 200  # not written
        clock.shift(settings.SESSION_IDLE_SECONDS - 30)
        response = client.get(home)
        assert response.status_code == 302 and reverse("login") in response["Location"]


def test_production_refuses_to_start_without_data_keys():
    env = {**os.environ, "SHEQU_PRODUCTION": "1", "SECRET_KEY": secrets.token_urlsafe(60)}
    env.pop("SHEQU_DATA_KEY", None)
    env.pop("SHEQU_HASH_KEY", None)
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "SHEQU_DATA_KEY and SHEQU_HASH_KEY" in result.stderr

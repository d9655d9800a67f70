import os
import re

import pytest

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shequ.settings")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Users are made by the dozen in tests; the production hasher costs 0.2 s each."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_cache():
    """Each test starts with an empty cache: rate-limit counters are per user id, and ids
    repeat from test to test."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def city(db):
    from shequ.core.testing import build_city

    return build_city()


@pytest.fixture
def make_user(db):
    from shequ.core.testing import make_user

    return make_user


# --------------------------------------------------------------------------- personal-data scan
# Every response of the suite (Django's test client and DRF's APIClient alike) is scanned for
# an unmasked citizen ID number (valid GB 11643 check) or mobile number; so is every URL
# requested and every log record. The answer to a reveal (``X-Personal-Data: revealed``, set by
# the reveal views and the middleware) is the one exemption. See docs/data-protection.md.

SCANNED_TYPES = ("text/", "application/json", "application/javascript", "application/xml")


class PersonalDataLeak(AssertionError):
    pass


def _scan_request(request_kwargs) -> None:
    from urllib.parse import unquote_plus

    from shequ.core.leakscan import find, redact

    url = unquote_plus(
        f"{request_kwargs.get('PATH_INFO', '')}?{request_kwargs.get('QUERY_STRING', '')}"
    )
    hits = find(url)
    if hits:
        raise PersonalDataLeak(
            f"personal data in a URL requested: {request_kwargs.get('PATH_INFO')} "
            f"({', '.join(redact(h) for h in hits)})"
        )


def _scan_response(request_kwargs, response) -> None:
    from shequ.core.leakscan import find, redact

    if response.get("X-Personal-Data") == "revealed":
        return
    content_type = response.get("Content-Type", "")
    if not content_type.startswith(SCANNED_TYPES):
        return
    if getattr(response, "streaming", False):
        chunks = list(response.streaming_content)
        response.streaming_content = chunks
        body = b"".join(c if isinstance(c, bytes) else c.encode() for c in chunks)
    else:
        body = response.content
    text = body.decode("utf-8", errors="ignore")
    hits = find(text) + find(str(response.get("Location", "")))
    # A value the request itself sent, echoed back (a form re-shown with its error, a lookup
    # form keeping what was typed), tells the client nothing new.
    sent = request_kwargs.get("_scan_sent") or ""
    sent += " " + re.sub(r"[\s-]", "", sent)  # as typed, and normalised ("138 0013 8000")
    hits = [h for h in hits if h not in sent]
    if hits:
        raise PersonalDataLeak(
            f"unmasked personal data in the answer to {request_kwargs.get('REQUEST_METHOD')} "
            f"{request_kwargs.get('PATH_INFO')} ({response.status_code}, {content_type}): "
            f"{', '.join(redact(h) for h in hits)}"
        )


@pytest.fixture(scope="session", autouse=True)
def scan_every_response_for_personal_data():
    from django.test.client import Client

    original, original_generic = Client.request, Client.generic

    def generic(self, method, path, data="", *args, **kwargs):
        self._scan_sent = data.decode("utf-8", "ignore") if isinstance(data, bytes) else str(data)
        try:
            return original_generic(self, method, path, data, *args, **kwargs)
        finally:
            self._scan_sent = ""

    def request(self, **request_kwargs):
        _scan_request(request_kwargs)
        response = original(self, **request_kwargs)
        _scan_response({**request_kwargs, "_scan_sent": getattr(self, "_scan_sent", "")}, response)
        return response

    Client.request, Client.generic = request, generic
    try:
        yield
    finally:
        Client.request, Client.generic = original, original_generic


class _LeakHandler(__import__("logging").Handler):
    def __init__(self):
        super().__init__(level=0)
        self.hits: list[str] = []

    def emit(self, record):
        from shequ.core.leakscan import find, redact

        try:
            message = record.getMessage()
        except Exception:  # a malformed record is not ours to judge
            return
        found = find(message)
        if found:
            self.hits.append(f"{record.name}: {', '.join(redact(h) for h in found)}")


@pytest.fixture(autouse=True)
def no_personal_data_in_logs():
    import logging

    handler = _LeakHandler()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
    assert not handler.hits, f"personal data in log records: {handler.hits}"

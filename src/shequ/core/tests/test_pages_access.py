"""The access matrix of every page (the API's is in test_api_access.py).

The page routes are read off the URL resolver: a route that is in none of ``PAGES`` (run through
the matrix here), ``COVERED_ELSEWHERE`` (its own access tests, named) or ``EXEMPT`` (public by
design, with the reason) fails ``test_every_page_route_is_covered``. For each page in ``PAGES``:
anonymous -> redirect to the login page; a user without assignments -> 403; a role with the
permission, held at one street: an object of the other district -> 404 with the same body as a
missing one, the in-scope object -> 200.
"""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from shequ.campaigns.testing import pair as campaign_pair
from shequ.core.roles import Role

SCOPE = "510104001"

# URL name -> (role held at SCOPE, kwargs of the in-scope object, out of scope, missing).
PAGES = {
    "areas:area": (
        Role.STREET_STAFF,
        lambda c: {"code": c["communities"][0].code},
        lambda c: {"code": c["communities"][-1].code},
        {"code": "510104009"},
    ),
    "areas:place": (
        Role.STREET_STAFF,
        lambda c: {"code": c["dwellings"][0].code},
        lambda c: {"code": c["dwellings"][-1].code},
        {"code": "510104001001C999"},
    ),
    "areas:export_csv": (
        Role.STREET_STAFF,
        lambda c: {"code": c["communities"][0].code},
        lambda c: {"code": c["communities"][-1].code},
        {"code": "510104009"},
    ),
    "areas:export_geojson": (
        Role.STREET_STAFF,
        lambda c: {"code": c["communities"][0].code},
        lambda c: {"code": c["communities"][-1].code},
        {"code": "510104009"},
    ),
    "people:person": (
        Role.COMMUNITY_WORKER,
        lambda c: {"pk": c["persons"][0].pk},
        lambda c: {"pk": c["persons"][-1].pk},
        {"pk": 999999},
    ),
    "people:household": (
        Role.COMMUNITY_WORKER,
        lambda c: {"pk": c["households"][0].pk},
        lambda c: {"pk": c["households"][-1].pk},
        {"pk": 999999},
    ),
    "governance:open_data": (
        Role.STREET_STAFF,
        lambda c: {"code": c["communities"][0].code},
        lambda c: {"code": c["communities"][-1].code},
        {"code": "510104009"},
    ),
    **{
        name: (
            Role.STREET_STAFF,
            lambda c: {"pk": campaign_pair(c, "campaign")[0].pk},
            lambda c: {"pk": campaign_pair(c, "campaign")[1].pk},
            {"pk": 999999},
        )
        for name in ("campaigns:edit", "campaigns:team_new")
    },
}

# Pages with access tests of their own (anonymous, no permission, out of scope, in scope).
COVERED_ELSEWHERE = {
    "home": "shequ/areas/tests/test_pages.py (redirects to the user's own area)",
    "areas:import": "shequ/areas/tests (import permission)",
    "people:persons_csv": "shequ/people/tests/test_export.py",
    "people:reveal": "shequ/people/tests/test_pages.py (reveal: 403/404/200)",
    "people:split": "shequ/people/tests/test_review.py",
    "people:merge": "shequ/people/tests/test_review.py",
    "people:sources": "shequ/people/tests/test_ingest.py",
    "people:feedback": "shequ/people/tests/test_feedback.py",
    "people:batch": "shequ/people/tests/test_ingest.py",
    "people:flagged": "shequ/people/tests/test_ingest.py",
    "people:review": "shequ/people/tests/test_review.py",
    "people:review_decide": "shequ/people/tests/test_review.py",
    "cases:worklist": "shequ/cases/tests/test_pages.py",
    "cases:hotline": "shequ/cases/tests/test_pages.py",
    "cases:patrol": "shequ/cases/tests/test_pages.py",
    "cases:supervise": "shequ/cases/tests/test_pages.py",
    "cases:detail": "shequ/cases/tests/test_pages.py",
    "cases:attachment": "shequ/cases/tests/test_pages.py",
    "campaigns:list": "shequ/campaigns/tests/test_pages.py",
    "campaigns:campaign": "shequ/campaigns/tests/test_pages.py",
    "campaigns:visit": "shequ/campaigns/tests/test_pages.py",
    "campaigns:teams": "shequ/campaigns/tests/test_pages.py",
    "campaigns:plan": "shequ/campaigns/tests/test_pages.py",
    "campaigns:move": "shequ/campaigns/tests/test_pages.py",
    "campaigns:team": "shequ/campaigns/tests/test_pages.py",
    "campaigns:roster": "shequ/campaigns/tests/test_pages.py",
    "campaigns:close": "shequ/campaigns/tests/test_pages.py",
    "campaigns:new": "shequ/campaigns/tests/test_forms_pages.py::test_who_may_create_a_campaign",
    "dashboards:index": "shequ/dashboards/tests/test_pages.py",
    "dashboards:area": "shequ/dashboards/tests/test_pages.py",
    "dashboards:place": "shequ/dashboards/tests/test_pages.py",
    "dashboards:place-csv": "shequ/dashboards/tests/test_pages.py",
    "dashboards:screen": "shequ/dashboards/tests/test_pages.py",
    "dashboards:print": "shequ/dashboards/tests/test_pages.py",
    "dashboards:pdf": "shequ/dashboards/tests/test_pages.py::TestAccess",
    "dashboards:csv": "shequ/dashboards/tests/test_pages.py",
    "governance:audit": "shequ/governance/tests/test_audit_browser.py::test_access",
    "governance:audit_csv": "shequ/governance/tests/test_audit_browser.py::test_access",
    **{
        f"governance:{name}": "shequ/governance/tests/test_exports.py::test_page_access"
        for name in (
            "exports",
            "export_new",
            "export_queue",
            "export_detail",
            "export_decide",
            "export_download",
        )
    },
    "api-docs": "test_hardening.py::test_api_docs_page_is_served_from_our_own_origin",
    "two_factor": "shequ/core/tests/test_twofactor.py (signed-in users; own account only)",
}

# Public by design, each with its reason.
EXEMPT = {
    "login": "the sign-in page itself (django-axes locks out repeated failures)",
    "logout": "signing out needs no permission",
    "login_code": "the sign-in's second step, after a right password (test_twofactor.py)",
    "set_language": "the language switch (a POST to Django's set_language) holds no data",
    "schema": "the OpenAPI document describes the API; it holds no data",
    "campaigns:sw": "the visit page's service worker script: code and static file names, no data",
    "cases:report": "residents report a problem without an account (public intake)",
    "cases:track": "residents track their report with its token and their phone (POST)",
    "cases:track_case": "a resident's own report, reached by its secret token",
    **{
        f"open311:{name}": "Open311 GeoReport v2 is a public API (masked, no personal data)"
        for name in ("discovery", "services", "service", "requests", "request", "token")
    },
    "open311:not_found": "Open311's answer for unknown paths",
}


def page_routes() -> set[str]:
    found: set[str] = set()

    def walk(patterns, prefix: str, namespaces: list[str]) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern).lstrip("^")
            if isinstance(pattern, URLResolver):
                ns = [*namespaces, pattern.namespace] if pattern.namespace else namespaces
                walk(pattern.url_patterns, route, ns)
            elif isinstance(pattern, URLPattern):
                if route.startswith(("api/v1/", "admin/", "static/")):
                    continue  # the API has its own matrix; the admin is Django's (staff only)
                found.add(":".join([*namespaces, pattern.name or route]))

    walk(get_resolver().url_patterns, "", [])
    return found


def test_every_page_route_is_covered():
    known = set(PAGES) | set(COVERED_ELSEWHERE) | set(EXEMPT)
    routes = page_routes()
    uncovered = sorted(routes - known)
    assert not uncovered, (
        f"pages without access tests: {uncovered}. Add them to PAGES (or name their own test "
        "in COVERED_ELSEWHERE, or give the reason they are public in EXEMPT) in "
        "shequ/core/tests/test_pages_access.py"
    )
    assert not sorted(known - routes), "the tables name pages that do not exist"


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(PAGES))
def test_page_access_matrix(name, city, client, make_user):
    role, inside, outside, missing = PAGES[name]
    url_in, url_out = reverse(name, kwargs=inside(city)), reverse(name, kwargs=outside(city))
    url_missing = reverse(name, kwargs=missing)
    response = client.get(url_in)
    assert response.status_code == 302 and reverse("login") in response["Location"]
    client.force_login(make_user("nobody"))
    assert client.get(url_in).status_code == 403
    client.force_login(make_user("scoped", role, SCOPE))
    assert client.get(url_in).status_code == 200
    out, gone = client.get(url_out), client.get(url_missing)
    assert out.status_code == gone.status_code == 404
    assert normalised(out.content, url_out) == normalised(gone.content, url_missing)


def normalised(body: bytes, url: str) -> bytes:
    """Only the CSRF token and the page's own URL (the language form's ``next``) may differ."""
    body = re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", body)
    return body.replace(url.encode(), b"<url>")

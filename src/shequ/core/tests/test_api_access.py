"""The access matrix of every API route (NetBox's APIViewTestCases, generically).

The routes are read off the URL resolver, not listed by hand: a route under /api/v1/ that is
neither in ``OBJECTS`` (list + detail of a scoped viewset) nor in ``COVERED_ELSEWHERE`` fails
``test_every_api_route_is_covered``. For each scoped viewset:

* anonymous -> 401 with ``WWW-Authenticate: Token``;
* a user without assignments, and every role without the model's view permission -> 403;
* every role with it, held at one street: the detail of an object of the other district -> 404
  and the list does not contain it; the in-scope object -> 200 and in the list;
* the number of queries of a list does not grow with the rows on the page.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from shequ.areas.models import Facility
from shequ.campaigns.testing import pair as campaign_pair
from shequ.cases.testing import access_cases, join_department
from shequ.cases.workflow import MOVES
from shequ.core.api.base import ScopedReadOnlyViewSet
from shequ.core.roles import ROLE_PERMISSIONS, Role
from shequ.core.testing import PASSWORD
from shequ.governance.testing import audit_pair, export_pair, make_requester
from shequ.people.testing import batch_pair

API_PREFIX = "api/v1/"
HTTP_METHODS = ("get", "post", "put", "patch", "delete")
SCOPE = "510104001"  # street of district 510104; the other district is 510105
OUTSIDE = "510105"

# basename -> the city's (in-scope, out-of-scope) objects for the scoped user at SCOPE.
OBJECTS = {
    "area": lambda c: (c["communities"][0], c["communities"][-1]),
    "place": lambda c: (c["dwellings"][0], c["dwellings"][-1]),
    "facility": lambda c: (
        Facility.objects.get(code="510104001F01"),
        Facility.objects.get(code="510105001F01"),
    ),
    "person": lambda c: (c["persons"][0], c["persons"][-1]),
    "household": lambda c: (c["households"][0], c["households"][-1]),
    "residence": lambda c: (
        c["persons"][0].residences.get(),
        c["persons"][-1].residences.get(),
    ),
    "campaign": lambda c: campaign_pair(c, "campaign"),
    "visittask": lambda c: campaign_pair(c, "visittask"),
    "visit": lambda c: campaign_pair(c, "visit"),
    "followup": lambda c: campaign_pair(c, "followup"),
    "case": lambda c: access_cases(c),
    "batch": lambda c: batch_pair(c),
    "auditevent": lambda c: audit_pair(c),
    "exportrequest": lambda c: export_pair(c),
}

# basename -> what a role's user needs besides its area to see the in-scope object (a
# department handler sees only the cases of their own departments).
GRANTS = {
    "case": lambda user, inside: join_department(user, inside),
    # Everyone but a data steward sees their own export requests only.
    "exportrequest": lambda user, inside: make_requester(user, inside),
}
# basename -> the role whose user sees every row of the table (for the query-count test),
# where the first role holding the view permission sees only some (its own requests).
LIST_ROLES = {"exportrequest": Role.DATA_STEWARD}

# Routes with their own tests (access included), by (URL name, HTTP method).
COVERED_ELSEWHERE = {
    ("api-token", "post"): "TestToken below",
    ("person-reveal", "post"): "shequ/people/tests/test_api.py::TestReveal",
    ("person-search", "post"): "shequ/core/tests/test_encryption.py::TestSearch",
    ("campaign-coverage", "get"): "shequ/campaigns/tests/test_api.py::TestCoverage",
    ("visit-sync", "post"): "shequ/campaigns/tests/test_api.py::TestSync",
    ("case-list", "post"): "shequ/cases/tests/test_api.py::TestIntake",
    ("case-events", "get"): "shequ/cases/tests/test_api.py::test_events_and_similar",
    ("case-similar", "get"): "shequ/cases/tests/test_api.py::test_events_and_similar",
    ("dashboard-detail", "get"): "shequ/dashboards/tests/test_pages.py::TestApi",
    ("batch-upload", "post"): "shequ/people/tests/test_ingest.py::TestUploadApi",
    ("batch-flagged", "get"): "shequ/people/tests/test_ingest.py::TestUploadApi",
    **{
        (f"exportrequest-{name}", "post"): "shequ/governance/tests/test_exports.py (API)"
        for name in ("list", "approve", "refuse", "produce")
    },
    **{(f"case-{move}", "post"): "shequ/cases/tests/test_api.py::TestMoves" for move in MOVES},
}


def api_routes() -> dict[tuple[str, str], object]:
    """{(URL name, method): view class} for every route under /api/v1/ in the URL resolver."""
    found: dict[tuple[str, str], object] = {}

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern).lstrip("^")
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and route.startswith(API_PREFIX):
                callback = pattern.callback
                cls = getattr(callback, "cls", None)
                actions = getattr(callback, "actions", None)
                if actions is not None:
                    methods = [m for m in actions if m in HTTP_METHODS]
                elif cls is not None:
                    methods = [m for m in HTTP_METHODS if hasattr(cls, m)]
                else:
                    methods = ["*"]  # not a DRF view: name it in COVERED_ELSEWHERE
                for method in methods:
                    found[(pattern.name or route, method)] = cls

    walk(get_resolver().url_patterns, "")
    return found


def scoped_viewsets() -> dict[str, type]:
    """basename -> viewset class of the scoped list/detail routes."""
    result = {}
    for (name, method), cls in api_routes().items():
        if method == "get" and cls and issubclass(cls, ScopedReadOnlyViewSet):
            basename, _sep, kind = name.rpartition("-")
            if kind in {"list", "detail"}:
                result[basename] = cls
    return result


def test_every_api_route_is_covered():
    covered = set(COVERED_ELSEWHERE)
    for basename in OBJECTS:
        covered |= {(f"{basename}-list", "get"), (f"{basename}-detail", "get")}
    routes = set(api_routes())
    uncovered = sorted(routes - covered)
    assert not uncovered, (
        f"API routes without access tests: {uncovered}. Add the viewset's objects to OBJECTS "
        "in shequ/core/tests/test_api_access.py (list + detail GET), or test the route and "
        "name it in COVERED_ELSEWHERE."
    )
    stale = sorted(covered - routes)
    assert not stale, f"OBJECTS / COVERED_ELSEWHERE name routes that do not exist: {stale}"


def test_router_basenames_match_the_table():
    # The matrix below is parametrised by OBJECTS; this ties it to the viewsets found.
    assert set(scoped_viewsets()) == set(OBJECTS)


def lookup_value(viewset, obj):
    field = viewset.lookup_field
    return str(getattr(obj, field))


def json_key(viewset) -> str:
    return "id" if viewset.lookup_field == "pk" else viewset.lookup_field


def list_url(basename: str) -> str:
    return reverse(f"{basename}-list")


def detail_url(basename: str, viewset, obj) -> str:
    kwarg = viewset.lookup_url_kwarg or viewset.lookup_field
    return reverse(f"{basename}-detail", kwargs={kwarg: lookup_value(viewset, obj)})


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def listed(client, basename, viewset, **params) -> set[str]:
    response = client.get(list_url(basename), {"page_size": 500, **params})
    assert response.status_code == 200, response.content
    assert response.data["next"] is None
    return {str(row[json_key(viewset)]) for row in response.data["results"]}


def roles_with(viewset, has: bool) -> list[str]:
    perm = viewset.queryset.model.perm("view")
    return [role for role in Role if (perm in ROLE_PERMISSIONS[role]) == has]


@pytest.mark.django_db
@pytest.mark.parametrize("basename", sorted(OBJECTS))
class TestAccessMatrix:
    @pytest.fixture
    def setup(self, city, basename):
        viewset = scoped_viewsets()[basename]
        inside, outside = OBJECTS[basename](city)
        scope_field = viewset.queryset.model.scope_field
        # The table must mean what it says.
        assert getattr(inside, scope_field).startswith(SCOPE)
        assert getattr(outside, scope_field).startswith(OUTSIDE)
        return viewset, inside, outside

    def test_anonymous_is_401(self, setup, basename):
        viewset, inside, _outside = setup
        client = APIClient()
        for url in (list_url(basename), detail_url(basename, viewset, inside)):
            response = client.get(url)
            assert response.status_code == 401, url
            assert response["WWW-Authenticate"].startswith("Token")

    def test_without_permission_is_403(self, setup, basename, make_user):
        viewset, inside, _outside = setup
        users = [make_user("nobody")]
        users += [make_user(f"no-{role}", role, "5101") for role in roles_with(viewset, False)]
        for user in users:
            client = client_for(user)
            for url in (list_url(basename), detail_url(basename, viewset, inside)):
                assert client.get(url).status_code == 403, (user.username, url)

    def test_out_of_scope_is_404_and_in_scope_is_200(self, setup, basename, make_user):
        viewset, inside, outside = setup
        roles = roles_with(viewset, True)
        assert roles
        for role in roles:
            user = make_user(f"u-{role}", role, SCOPE)
            GRANTS.get(basename, lambda *_args: None)(user, inside)
            client = client_for(user)
            assert client.get(detail_url(basename, viewset, outside)).status_code == 404, role
            response = client.get(detail_url(basename, viewset, inside))
            assert response.status_code == 200, role
            assert str(response.data[json_key(viewset)]) == lookup_value(viewset, inside)
            keys = listed(client, basename, viewset)
            assert lookup_value(viewset, inside) in keys, role
            assert lookup_value(viewset, outside) not in keys, role
        # An object that does not exist answers the same as one out of scope.
        missing = type(inside)(**{viewset.lookup_field: "999999"})
        assert client.get(detail_url(basename, viewset, missing)).status_code == 404

    def test_superuser_flag_does_not_widen_scope(self, setup, basename, make_user):
        viewset, _inside, outside = setup
        user = make_user("root", roles_with(viewset, True)[0], SCOPE)
        user.is_superuser = user.is_staff = True
        user.save()
        client = client_for(user)
        assert client.get(detail_url(basename, viewset, outside)).status_code == 404
        assert lookup_value(viewset, outside) not in listed(client, basename, viewset)

    def test_list_queries_do_not_grow_with_rows(self, setup, basename, make_user):
        viewset, _inside, _outside = setup
        role = LIST_ROLES.get(basename) or roles_with(viewset, True)[0]
        client = client_for(make_user("city", role, "5101"))
        client.get(list_url(basename))  # the user's assignments are loaded once, cached
        counts = {}
        for size in (1, 100):
            with CaptureQueriesContext(connection) as queries:
                response = client.get(list_url(basename), {"page_size": size, "geometry": 1})
            assert response.status_code == 200
            counts[size] = (len(queries), len(response.data["results"]))
        assert counts[1][1] == 1 and counts[100][1] > 1
        assert counts[1][0] == counts[100][0], counts


@pytest.mark.django_db
class TestToken:
    url = "/api/v1/auth/token/"

    def test_token_for_username_and_password_then_use_it(self, city, make_user):
        make_user("gw", Role.GRID_WORKER, city["grids"][0].code)
        client = APIClient()
        response = client.post(self.url, {"username": "gw", "password": PASSWORD}, format="json")
        assert response.status_code == 200
        token = response.data["token"]
        assert Token.objects.get(user__username="gw").key == token
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        response = client.get("/api/v1/persons/")
        assert response.status_code == 200
        assert response.data["count"] == 4
        client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
        assert client.get("/api/v1/persons/").status_code == 401

    def test_a_token_request_reads_token_user_and_roles_in_one_query(self, city, make_user):
        user = make_user("gw", Role.GRID_WORKER, city["grids"][0].code)
        token = Token.objects.create(user=user)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/api/v1/persons/{city['persons'][0].pk}/")
        assert response.status_code == 200
        assert response.wsgi_request.user == user
        assert response.wsgi_request.auth.key == token.key
        assert response.wsgi_request.auth.created == token.created  # a datetime on both DBs
        sql = [q["sql"] for q in queries.captured_queries]
        assert sum("authtoken_token" in s for s in sql) == 1, sql
        assert not any(s.lstrip().startswith("SELECT") and "core_roleassignment" in s
                       and "authtoken_token" not in s for s in sql), sql  # fmt: skip

    def test_token_answers_follow_the_database_on_the_next_request(self, city, make_user):
        """Nothing is kept between requests: a role, a deactivation or a deleted token counts
        on the very next request."""
        user = make_user("gw", Role.GRID_WORKER, city["grids"][0].code)
        token = Token.objects.create(user=user)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        assert client.get("/api/v1/persons/").data["count"] == 4
        user.assignments.all().delete()
        assert client.get("/api/v1/persons/").status_code == 403  # no role: no scope
        user.assignments.create(role=Role.GRID_WORKER, area_code=city["grids"][0].code)
        assert client.get("/api/v1/persons/").data["count"] == 4
        user.is_active = False
        user.save()
        response = client.get("/api/v1/persons/")
        assert response.status_code == 401
        assert str(response.data["detail"]) == "用户未激活或已删除。"  # zh-Hans by default
        user.is_active = True
        user.save()
        token.delete()
        response = client.get("/api/v1/persons/")
        assert response.status_code == 401
        assert str(response.data["detail"]) == "认证令牌无效。"
        assert response["WWW-Authenticate"] == "Token"

    def test_session_authentication_works_too(self, city, make_user):
        user = make_user("gw", Role.GRID_WORKER, city["grids"][0].code)
        client = APIClient()
        client.force_login(user)
        assert client.get("/api/v1/persons/").data["count"] == 4

    def test_wrong_password_gets_no_token(self, make_user):
        make_user("gw")
        response = APIClient().post(
            self.url, {"username": "gw", "password": "wrong"}, format="json"
        )
        assert response.status_code == 400
        assert "token" not in response.data
        assert not Token.objects.exists()

    def test_lockout_refuses_the_right_password(self, make_user):
        make_user("gw")
        client = APIClient()
        for _attempt in range(settings.AXES_FAILURE_LIMIT):
            response = client.post(self.url, {"username": "gw", "password": "wrong"})
            assert "token" not in response.data
        response = client.post(self.url, {"username": "gw", "password": PASSWORD})
        assert response.status_code == 429
        assert "token" not in response.data
        assert response.data["detail"]
        assert not Token.objects.exists()
        # Another user name is not locked out by gw's failures.
        make_user("other")
        response = client.post(self.url, {"username": "other", "password": PASSWORD})
        assert response.status_code == 200

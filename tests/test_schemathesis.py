"""The API against its own OpenAPI schema, with schemathesis: zero failures.

The schema is generated here from the code (drf-spectacular's generator, in English), not read
from ``openapi.yaml``, so the test checks the API as it is. Every operation is called in-process
over the WSGI app by a user holding every role at the city of ``build_city`` (so that each
operation gets past its permission check and does real work), authenticated with a token.
Examples are generated both valid (positive) and invalid (negative) and checked with:

* ``not_a_server_error``: no 5xx, whatever the input;
* ``response_schema_conformance``: each answer's body matches the schema of its status;
* ``negative_data_rejection``: input the schema says is invalid is refused with a 4xx;
* ``unsupported_method``: a method the path does not declare gets 405;
* ``ignored_auth``: without the token, or with a wrong one, the operation refuses (401).

Deterministic (Hypothesis ``derandomize``) and small (``MAX_EXAMPLES`` per operation and mode),
to stay within about a minute on two cores.
"""

from __future__ import annotations

import json
import os

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.utils import translation
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    ignored_auth,
    negative_data_rejection,
    response_schema_conformance,
    unsupported_method,
)

# A deeper run: SHEQU_SCHEMATHESIS_EXAMPLES=100 pytest tests/test_schemathesis.py
MAX_EXAMPLES = int(os.environ.get("SHEQU_SCHEMATHESIS_EXAMPLES", "12"))
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    negative_data_rejection,
    unsupported_method,
    ignored_auth,
]
# Batches whose items are checked one by one, as documented: a malformed item is answered
# ``invalid`` with its errors in a 200 (the phone keeps it, the rest of the batch is stored), so
# a batch with an item the schema calls invalid is not refused whole. campaigns/tests/test_api.py
# checks those per-item answers.
PER_ITEM = {"/api/v1/campaign-visits/sync/"}


def openapi_dict() -> dict:
    """The schema as ``manage.py spectacular --lang en`` would write it, as a dict."""
    with translation.override("en"):
        spec = SchemaGenerator().get_schema(request=None, public=True)
        return json.loads(OpenApiJsonRenderer().render(spec, renderer_context={}))


schema = schemathesis.openapi.from_dict(openapi_dict())
schema.app = get_wsgi_application()


@pytest.fixture
def keep_test_connection():
    """Calls of the WSGI app send request_started/finished, whose close_old_connections would
    close the test's PostgreSQL connection inside its transaction; Django's test client
    disconnects it the same way."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def token(city, make_user, keep_test_connection):
    from rest_framework.authtoken.models import Token

    from shequ.core.roles import Role

    user = make_user("fuzzer")
    for role in Role:
        user.assignments.create(role=role, area_code=city["city"].code)
    return Token.objects.create(user=user).key


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case, token):
    checks = CHECKS
    if case.operation.path in PER_ITEM:
        checks = [check for check in CHECKS if check is not negative_data_rejection]
    case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=checks)

"""Who is acting: the signed-in user of the current request, or a named command or job.

The audit trail asks ``current()`` when it writes an event. ``AuditContextMiddleware`` keeps
the request (the user is read from it when an event is written, so an API token authenticated
by DRF later in the request counts too); ``acting("command:purge_audit")`` names a command or
job; outside both, a management command is ``command:<name>`` and anything else ``system``.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Acting:
    request: object | None = None
    user: object | None = None
    label: str = ""


_CURRENT: ContextVar[Acting | None] = ContextVar("shequ_audit_actor", default=None)

COMMAND_RUNNERS = {"shequ", "manage.py", "django-admin"}


class AuditContextMiddleware:
    """Remember the request while it is answered (after AuthenticationMiddleware)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _CURRENT.set(Acting(request=request))
        try:
            return self.get_response(request)
        finally:
            _CURRENT.reset(token)


@contextmanager
def acting(label: str, user=None):
    """Record what happens inside as done by ``label`` (and ``user`` if one is known)."""
    token = _CURRENT.set(Acting(user=user, label=label))
    try:
        yield
    finally:
        _CURRENT.reset(token)


def _command_label() -> str:
    argv = sys.argv or [""]
    if os.path.basename(argv[0]) in COMMAND_RUNNERS and len(argv) > 1:
        return f"command:{argv[1]}"
    return "system"


def current() -> tuple[object | None, str]:
    """(user or None, label) of whoever is acting now."""
    now = _CURRENT.get()
    if now is not None and now.request is not None:
        user = getattr(now.request, "user", None)
        if user is not None and getattr(user, "is_authenticated", False):
            return user, user.get_username()
        return None, "anonymous"
    if now is not None:
        user = now.user
        if user is not None and getattr(user, "is_authenticated", False):
            name = user.get_username()
            return user, f"{name} ({now.label})" if now.label else name
        return None, now.label or "system"
    return None, _command_label()

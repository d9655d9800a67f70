"""Writing audit events: ``record(kind, ...)``, in the caller's transaction.

The event is written on the same database connection as the change it describes, so a change
rolled back leaves no event and an event that cannot be written rolls the change back.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.apps import apps

from shequ.core.scoping import assignments

from .context import current
from .models import AuditEvent

MAX_ROLES = 300


def roles_of(user) -> str:
    """ "data_steward@510104001, grid_worker@510104001001G01" (the user's roles at the time)."""
    if user is None:
        return ""
    text = ", ".join(f"{role}@{code}" for role, code in assignments(user))
    return text if len(text) <= MAX_ROLES else text[: MAX_ROLES - 1] + "…"


def root_code() -> str:
    """The code of the top of the tree (the city): where events without an area of their own
    are filed, so that a data steward of the whole city sees them."""
    Area = apps.get_model("areas", "Area")
    code = (
        Area.objects.filter(parent__isnull=True).order_by("code").values_list("code", flat=True)
    ).first()
    return code or ""


def record(
    kind: str,
    *,
    object_type: str = "",
    object_id="",
    area_code: str | None = None,
    fields: Iterable[str] = (),
    reason: str = "",
    detail: str = "",
    actor=None,
    actor_label: str | None = None,
) -> AuditEvent:
    """Append one event. ``actor`` defaults to whoever is acting now (``context.current``);
    ``fields`` are field *names*; ``area_code`` None files the event at the city."""
    if actor is None and actor_label is None:
        actor, actor_label = current()
    elif actor is not None and actor_label is None:
        actor_label = actor.get_username()
    return AuditEvent.objects.create(
        actor=actor,
        actor_label=actor_label or "system",
        actor_roles=roles_of(actor),
        kind=kind,
        object_type=object_type,
        object_id=str(object_id or ""),
        area_code=root_code() if area_code is None else area_code,
        changed_fields=sorted(set(fields)),
        reason=reason or "",
        detail=detail or "",
    )

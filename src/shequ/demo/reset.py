"""Emptying the database of a city before a new demo city is seeded (``seed --reset``)."""

from __future__ import annotations

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connection

from shequ.areas.models import Area, Facility, Place
from shequ.core.models import RoleAssignment
from shequ.people.models import Household, Person, Residence

from .accounts import remove_demo_users

CITY_MODELS = [Residence, Person, Household, Facility, Place, Area]


def dependents(models) -> list:
    """``models`` and every model that points at one of them by a foreign key, recursively:
    rows of those would be left pointing at nothing."""
    found = list(models)
    changed = True
    while changed:
        changed = False
        for model in apps.get_models(include_auto_created=True):
            if model in found or model._meta.proxy:
                continue
            for f in model._meta.concrete_fields:
                if f.is_relation and f.remote_field and f.remote_field.model in found:
                    found.append(model)
                    changed = True
                    break
    return found


def wipe() -> list[str]:
    """Delete the city (areas, places, facilities, people) and everything that points at it,
    all role assignments (they name areas that are gone) and the demo users. Returns the
    tables emptied. Runs inside the caller's transaction."""
    models = dependents(CITY_MODELS)
    if get_user_model() in models:  # pragma: no cover - guards a future schema change
        raise RuntimeError("users point at areas or people; refusing to wipe the user table")
    tables = [m._meta.db_table for m in models]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            quoted = ", ".join(connection.ops.quote_name(t) for t in tables)
            cursor.execute(f"TRUNCATE {quoted} CASCADE")
        else:
            # Foreign keys are checked at commit (deferred), so the order does not matter.
            for table in tables:
                cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")
    RoleAssignment.objects.all().delete()
    remove_demo_users()
    return tables

"""Roles and what each may do. This table is the access matrix: one place to read and change.

A permission is Django-style, ``"<app_label>.<action>_<model_name>"``; a user holds it *at* the
areas of the assignments whose role grants it (see ``shequ.core.scoping``).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    CITY_OPERATOR = "city_operator", _("City operator")
    STREET_STAFF = "street_staff", _("Street staff")
    COMMUNITY_WORKER = "community_worker", _("Community worker")
    GRID_WORKER = "grid_worker", _("Grid worker")
    DEPARTMENT_HANDLER = "department_handler", _("Department handler")
    DATA_STEWARD = "data_steward", _("Data steward")


class Action(models.TextChoices):
    VIEW = "view", _("view")
    CHANGE = "change", _("change")
    EXPORT = "export", _("export")
    REVEAL = "reveal", _("reveal personal data")
    IMPORT = "import", _("import")


PLACES = ("areas.area", "areas.place", "areas.facility")
PEOPLE = ("people.person", "people.household", "people.residence")
CASES = ("cases.case",)  # Case and its events, attachments ... share these (perm_model)
CAMPAIGNS = ("campaigns.campaign",)  # campaigns, rounds, tasks, visits
DASHBOARDS = ("dashboards.dashboard",)
# Data use (governance): the audit trail is the data stewards'; an export request is made by
# the roles that export today, seen by its requester (ExportRequest.role_scope) and decided by
# a data steward of the area.
AUDIT = ("governance.auditevent",)
EXPORT_REQUESTS = ("governance.exportrequest",)


def _grant(models_: tuple[str, ...], *actions: str) -> set[str]:
    perms = set()
    for label in models_:
        app_label, model_name = label.split(".")
        perms.update(f"{app_label}.{action}_{model_name}" for action in actions)
    return perms


ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    # The operations centre watches the whole city: everything visible, personal fields masked,
    # no reveal (it works with aggregates and cases, not with individuals' identities).
    Role.CITY_OPERATOR: frozenset(
        _grant(PLACES, "view", "export")
        | _grant(PEOPLE, "view")
        | _grant(CASES, "view", "add", "dispatch", "supervise", "export")
        | _grant(CAMPAIGNS, "view")
        | _grant(DASHBOARDS, "view")
        | _grant(EXPORT_REQUESTS, "view", "add")
    ),
    Role.STREET_STAFF: frozenset(
        _grant(PLACES, "view", "export")
        | _grant(PEOPLE, "view", "reveal")
        | _grant(CASES, "view", "add", "dispatch", "handle", "verify", "reveal", "export")
        | _grant(CAMPAIGNS, "view", "change", "visit", "export")
        | _grant(DASHBOARDS, "view")
        | _grant(EXPORT_REQUESTS, "view", "add")
    ),
    Role.COMMUNITY_WORKER: frozenset(
        _grant(PLACES, "view", "export", "change")
        | _grant(PEOPLE, "view", "reveal", "change")
        | _grant(CASES, "view", "add", "handle", "verify", "reveal")
        | _grant(CAMPAIGNS, "view", "change", "visit")
        | _grant(DASHBOARDS, "view")
        | _grant(EXPORT_REQUESTS, "view", "add")
    ),
    # At the door a grid worker must confirm who lives there: may reveal, in the grid only.
    Role.GRID_WORKER: frozenset(
        _grant(PLACES, "view")
        | _grant(PEOPLE, "view", "reveal", "change")
        | _grant(CASES, "view", "add", "handle", "reveal")
        | _grant(CAMPAIGNS, "view", "visit")
        | _grant(DASHBOARDS, "view")
    ),
    # Departments handle requests about places (only their own department's cases, see
    # Case.role_scope); they have no business with the population roll.
    Role.DEPARTMENT_HANDLER: frozenset(
        _grant(PLACES, "view") | _grant(CASES, "view", "handle") | _grant(DASHBOARDS, "view")
    ),
    Role.DATA_STEWARD: frozenset(
        _grant(PLACES, "view", "export", "change", "import")
        | _grant(PEOPLE, "view", "reveal", "export", "change", "import")
        | _grant(CASES, "view", "export", "reveal")
        | _grant(CAMPAIGNS, "view", "export")
        | _grant(DASHBOARDS, "view")
        | _grant(AUDIT, "view")
        | _grant(EXPORT_REQUESTS, "view", "add", "approve")
    ),
}


def role_grants(role: str, perm: str) -> bool:
    return perm in ROLE_PERMISSIONS.get(role, frozenset())

"""Time-limit supervision, run periodically (``shequ case_deadlines``; idempotent).

* warning: an open case whose deadline falls within ``WARN_BEFORE`` → its department is told;
* 催办 reminder: an open case past its deadline → its department is reminded;
* 督办 escalation: still open ``ESCALATE_AFTER`` past its deadline → the level above (users who
  dispatch or supervise cases at the case's street, else district, else city) is told.

Each happens once per deadline: the case remembers when (``warned_at`` …), and an approved
extension or a reopening clears the marks. Every step is one event on the case's timeline.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from shequ.core.models import RoleAssignment
from shequ.core.roles import ROLE_PERMISSIONS

from .models import Case, CaseEvent, EventKind, Notification
from .workflow import TIMED_STATES

WARN_BEFORE = dt.timedelta(hours=24)
ESCALATE_AFTER = dt.timedelta(hours=24)
BATCH = 500


@dataclass
class Result:
    warned: int = 0
    reminded: int = 0
    escalated: int = 0
    delivered: int = 0


def _supervisors(area_code: str) -> tuple[str, list[int]]:
    """The level above a case: users who may dispatch or supervise at its street, district or
    city (the nearest level that has someone)."""
    roles = [
        r
        for r, perms in ROLE_PERMISSIONS.items()
        if "cases.supervise_case" in perms or "cases.dispatch_case" in perms
    ]
    for length in (9, 6, 4):
        code = area_code[:length]
        users = list(
            RoleAssignment.objects.filter(role__in=roles, area_code=code)
            .values_list("user_id", flat=True)
            .distinct()
        )
        if users:
            return code, users
    return area_code[:4], []


def _members(case: Case) -> list[int]:
    if case.department_id is None:
        return []
    return list(case.department.members.values_list("pk", flat=True))


def _step(case, kind, field, now, user_ids, message, note="") -> None:
    with transaction.atomic():
        # Claim the step: only one run (or process) writes it.
        if not Case.objects.filter(pk=case.pk, **{f"{field}__isnull": True}).update(**{field: now}):
            return
        CaseEvent.objects.create(
            case=case,
            area_code=case.area_code,
            kind=kind,
            actor_label="system",
            at=now,
            note=note,
            department=case.department,
            public=False,
        )
        Notification.objects.bulk_create(
            Notification(
                case=case,
                audience=Notification.Audience.USER,
                user_id=uid,
                kind=kind,
                message=message[:300],
            )
            for uid in user_ids
        )


def run(now: dt.datetime | None = None) -> Result:
    now = now or timezone.now()
    result = Result()
    open_cases = Case.objects.filter(state__in=TIMED_STATES).select_related("department")
    for case in open_cases.filter(
        warned_at__isnull=True, resolve_by__gt=now, resolve_by__lte=now + WARN_BEFORE
    ).iterator(chunk_size=BATCH):
        _step(
            case,
            EventKind.WARNING,
            "warned_at",
            now,
            _members(case),
            f"{case.number}: due {timezone.localtime(case.resolve_by):%Y-%m-%d %H:%M}",
        )
        result.warned += 1
    for case in open_cases.filter(reminded_at__isnull=True, resolve_by__lte=now).iterator(
        chunk_size=BATCH
    ):
        _step(case, EventKind.REMINDER, "reminded_at", now, _members(case), f"{case.number} 催办")
        result.reminded += 1
    for case in open_cases.filter(
        escalated_at__isnull=True, resolve_by__lte=now - ESCALATE_AFTER
    ).iterator(chunk_size=BATCH):
        level, users = _supervisors(case.area_code)
        _step(
            case,
            EventKind.ESCALATION,
            "escalated_at",
            now,
            users,
            f"{case.number} 督办",
            note=level,
        )
        result.escalated += 1
    result.delivered = deliver(now)
    return result


def deliver(now=None) -> int:
    """Hand pending notifications to the delivery channel (the staff inbox and the tracking
    page read them from the table; an SMS/e-mail gateway would be called here)."""
    now = now or timezone.now()
    return Notification.objects.filter(sent_at__isnull=True).update(sent_at=now)

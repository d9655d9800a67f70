"""Audit events and export requests for tests (the access matrix of shequ/core/tests)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils import timezone

from shequ.core.roles import Role

from .audit import record
from .models import AuditEvent, AuditKind, ExportCounter, ExportRequest


def audit_pair(city) -> tuple[AuditEvent, AuditEvent]:
    """Two reveals: of a person in district 510104's first grid, and of one in 510105."""
    reader = get_user_model().objects.get_or_create(username="audit-reader")[0]
    return tuple(
        record(
            AuditKind.REVEAL,
            object_type="people.person",
            object_id=person.pk,
            area_code=person.area_code,
            fields=["phone"],
            reason="上门核实",
            actor=reader,
        )
        for person in (city["persons"][0], city["persons"][-1])
    )


def export_pair(city) -> tuple[ExportRequest, ExportRequest]:
    """Two waiting requests for persons: of street 510104001 and of street 510105001."""
    requester = get_user_model().objects.get_or_create(username="export-requester")[0]
    year = timezone.localdate().year
    return tuple(
        ExportRequest.objects.create(
            number=ExportCounter.next_number(year),
            requester=requester,
            purpose="季度人口核查比对",
            dataset="persons",
            fields=["id", "resident_type"],
            area_code=code,
        )
        for code in ("510104001", "510105001")
    )


def make_requester(user, request: ExportRequest) -> None:
    """Everyone but a data steward sees their own requests only: make ``user`` the requester."""
    if not user.assignments.filter(role=Role.DATA_STEWARD).exists():
        ExportRequest.objects.filter(pk=request.pk).update(requester=user)

"""The audit trail (append-only) and export requests (数据使用管理制度).

``AuditEvent``: one row per change to personal data, per decision (link decisions, reveals,
export requests and their decisions, role grants) — who, when, where, why, and the *names* of
the fields concerned, never their values. Rows are written once: the ORM refuses to change or
delete them (``AppendOnlyModel``) and, on PostgreSQL, a trigger refuses it in the database
too; only ``shequ purge_audit`` deletes events older than the retention period.

``ExportRequest``: a bulk export or a sharing with another office, stating purpose, dataset,
fields, area and period, approved or refused by a data steward, produced once.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shequ.core.leakscan import find
from shequ.core.masking import mask_id_number, mask_phone
from shequ.core.models import AppendOnlyModel
from shequ.core.querysets import AppendOnlyQuerySet, ScopedModel, ScopedQuerySet
from shequ.core.roles import Role

FIELD_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,63}$")


def scrub(text: str) -> str:
    """``text`` with every plain ID number or mobile number in it masked: free text typed by a
    person (a reason, a purpose) must not carry a value into the audit trail."""
    text = text or ""
    for hit in set(find(text)):
        masked = mask_phone(hit) if len(hit) == 11 else mask_id_number(hit)
        text = text.replace(hit, masked)
    return text


class AuditKind(models.TextChoices):
    CREATED = "created", _("Personal data created")
    CHANGED = "changed", _("Personal data changed")
    DELETED = "deleted", _("Personal data deleted")
    LINK_DECISION = "link_decision", _("Link decision (merge, split, review)")
    REVEAL = "reveal", _("Personal data revealed")
    IMPORT = "import", _("Source file imported")
    EXPORT_REQUESTED = "export_requested", _("Export requested")
    EXPORT_APPROVED = "export_approved", _("Export approved")
    EXPORT_REFUSED = "export_refused", _("Export refused")
    EXPORT_PRODUCED = "export_produced", _("Export produced")
    EXPORT_EXPIRED = "export_expired", _("Export approval expired")
    ROLE_GRANTED = "role_granted", _("Role granted")
    ROLE_REVOKED = "role_revoked", _("Role revoked")
    LOCKOUT = "lockout", _("Sign-in locked out")
    PURGE = "purge", _("Old audit events purged")


class AuditEventQuerySet(ScopedQuerySet, AppendOnlyQuerySet):
    """Scoped like any row (``for_user``), and history: no update, no delete."""


class AuditEvent(AppendOnlyModel, ScopedModel):
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    # The user name at the time, or who acted without an account: "anonymous" (a resident),
    # "command:<name>" (a management command or job), "system".
    actor_label = models.CharField(_("by"), max_length=150)
    actor_roles = models.CharField(
        _("actor's roles"), max_length=300, blank=True, help_text=_("role@area, at the time.")
    )
    kind = models.CharField(_("kind"), max_length=24, choices=AuditKind.choices)
    object_type = models.CharField(_("object type"), max_length=64, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    area_code = models.CharField(_("area code"), max_length=40, db_index=True)
    changed_fields = models.JSONField(
        _("fields"), default=list, blank=True, help_text=_("Names of the fields, never values.")
    )
    reason = models.TextField(_("reason"), blank=True)
    detail = models.CharField(_("detail"), max_length=300, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-at", "-id"]
        # Every audited write maintains these, so only what the audit trail's filters use (all
        # exact matches): no pattern-ops twins for LIKE, and the object type is served by
        # audit_object's first column.
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
            models.Index(fields=["kind"], name="audit_kind"),
            models.Index(fields=["actor_label"], name="audit_actor"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.kind} {self.object_type}"

    def save(self, *args, **kwargs):
        names = list(self.changed_fields or [])
        bad = [n for n in names if not isinstance(n, str) or not FIELD_NAME.match(n)]
        if bad:
            raise ValueError("changed_fields holds field names only (lower-case identifiers)")
        self.changed_fields = names
        self.reason = scrub(self.reason)
        self.detail = scrub(self.detail)[:300]
        self.actor_label = scrub(self.actor_label)[:150]
        super().save(*args, **kwargs)


class ExportStatus(models.TextChoices):
    REQUESTED = "requested", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")
    PRODUCED = "produced", _("Produced")
    EXPIRED = "expired", _("Expired")


class ExportRequest(ScopedModel):
    """A request to export (or share) one dataset of one area, and what became of it."""

    number = models.CharField(_("request number"), max_length=20, unique=True)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="export_requests",
        verbose_name=_("requested by"),
    )
    purpose = models.TextField(_("purpose"))
    recipient = models.CharField(
        _("recipient office"),
        max_length=200,
        blank=True,
        help_text=_("The office the data is shared with; empty for your own office's use."),
    )
    dataset = models.CharField(_("dataset"), max_length=32)
    fields = models.JSONField(_("fields"), default=list)
    area_code = models.CharField(_("area code"), max_length=40, db_index=True)
    period_start = models.DateField(_("period from"), null=True, blank=True)
    period_end = models.DateField(_("period to"), null=True, blank=True)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=ExportStatus.choices,
        default=ExportStatus.REQUESTED,
        db_index=True,
    )
    created_at = models.DateTimeField(_("requested at"), default=timezone.now, db_index=True)
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decision_reason = models.TextField(_("reason for the decision"), blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    valid_until = models.DateTimeField(_("to be produced before"), null=True, blank=True)
    produced_at = models.DateTimeField(_("produced at"), null=True, blank=True)
    row_count = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    sha256 = models.CharField(_("SHA-256 of the file"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("export request")
        verbose_name_plural = _("export requests")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.number

    @classmethod
    def role_scope(cls, role: str, user):
        # A data steward sees every request in their areas; everyone else their own only.
        if role == Role.DATA_STEWARD:
            return None
        return Q(requester=user)

    @property
    def is_pending(self) -> bool:
        return self.status == ExportStatus.REQUESTED


class ExportCounter(models.Model):
    """The last request number given in a year (EXP-2026-000123)."""

    year = models.PositiveSmallIntegerField(unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"

    @classmethod
    def next_number(cls, year: int) -> str:
        with transaction.atomic():
            cls.objects.get_or_create(year=year)
            cls.objects.filter(year=year).update(last=F("last") + 1)
            last = cls.objects.select_for_update().get(year=year).last
        return f"EXP-{year}-{last:06d}"

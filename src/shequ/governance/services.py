"""Export requests (数据使用管理制度): ask, decide, produce once, expire; and the audit purge.

Every step validates, writes in one transaction and appends its ``AuditEvent`` in it.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import tempfile
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shequ.core import ratelimit, twofactor
from shequ.core.leakscan import find
from shequ.core.scoping import code_in_scope, scope_codes, user_holds

from . import datasets
from .audit import record
from .models import AuditEvent, AuditKind, ExportCounter, ExportRequest, ExportStatus

ADD_PERM = "governance.add_exportrequest"
APPROVE_PERM = "governance.approve_exportrequest"
MIN_PURPOSE = 10
MIN_REASON = 4
MIN_RETENTION_DAYS = 180
BOM = "\ufeff"
SPOOL_BYTES = 8 * 1024 * 1024
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class ExportRefused(Exception):
    """A step that may not happen now; the message says why, for the person who tried."""


def approval_days() -> int:
    return int(getattr(settings, "EXPORT_APPROVAL_DAYS", 7))


# --------------------------------------------------------------------------- asking
def request_export(
    user,
    *,
    dataset: str,
    fields: list[str],
    area_code: str,
    purpose: str,
    recipient: str = "",
    period_start: dt.date | None = None,
    period_end: dt.date | None = None,
) -> ExportRequest:
    """Record a request (status ``requested``). Raises ValidationError naming the field at
    fault, PermissionDenied without the permission anywhere, RateLimited past the limit."""
    if not user_holds(user, ADD_PERM):
        raise PermissionDenied(_("Your role may not request exports."))
    errors: dict[str, list[str]] = {}
    ds = datasets.get(dataset)
    if ds is None:
        errors["dataset"] = [_("Choose one of the datasets offered.")]
    else:
        fields = list(dict.fromkeys(f for f in fields if f))
        unknown = [f for f in fields if f not in ds.field_names()]
        if not fields or unknown:
            errors["fields"] = [
                _("Choose fields among: %(allowed)s") % {"allowed": ", ".join(ds.field_names())}
            ]
        if ds.date_field and not (period_start and period_end):
            errors["period_start"] = [_("This dataset needs a period: from and to.")]
    if period_start and period_end and period_start > period_end:
        errors["period_end"] = [_("The period ends before it starts.")]
    Area = apps.get_model("areas", "Area")
    area_ok = bool(area_code) and Area.objects.filter(code=area_code).exists()
    if not area_ok or not code_in_scope(user, ADD_PERM, area_code):
        errors["area_code"] = [_("Choose an area within your own areas.")]
    elif ds is not None and not code_in_scope(user, ds.view_perm, area_code):
        errors["area_code"] = [_("Your role may not see this dataset in this area.")]
    purpose = (purpose or "").strip()
    recipient = (recipient or "").strip()
    if len(purpose) < MIN_PURPOSE:
        errors["purpose"] = [
            _("State the purpose (at least %(n)s characters).") % {"n": MIN_PURPOSE}
        ]
    elif find(purpose):
        errors["purpose"] = [_("Do not write ID numbers or phone numbers in the purpose.")]
    if find(recipient):
        errors["recipient"] = [_("Do not write ID numbers or phone numbers in the recipient.")]
    if errors:
        raise ValidationError(errors)
    if not ratelimit.allow(user, "export_request"):
        raise ratelimit.RateLimited(_("Too many export requests: try again later."))
    with transaction.atomic():
        now = timezone.now()
        req = ExportRequest.objects.create(
            number=ExportCounter.next_number(timezone.localtime(now).year),
            requester=user,
            purpose=purpose,
            recipient=recipient,
            dataset=ds.key,
            fields=fields,
            area_code=area_code,
            period_start=period_start,
            period_end=period_end,
            created_at=now,
        )
        record(
            AuditKind.EXPORT_REQUESTED,
            object_type="governance.exportrequest",
            object_id=req.number,
            area_code=area_code,
            fields=fields,
            reason=purpose,
            detail=f"{ds.key} → {recipient or '-'}",
            actor=user,
        )
    return req


# --------------------------------------------------------------------------- deciding
def decide(req: ExportRequest, steward, *, approve: bool, reason: str) -> ExportRequest:
    """A data steward whose scope covers the request's area approves or refuses it; never
    their own request, never twice."""
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON:
        raise ValidationError(
            {"reason": [_("Give a reason (at least %(n)s characters).") % {"n": MIN_REASON}]}
        )
    if find(reason):
        raise ValidationError(
            {"reason": [_("Do not write ID numbers or phone numbers in the reason.")]}
        )
    with transaction.atomic():
        req = ExportRequest.objects.select_for_update().get(pk=req.pk)
        if not code_in_scope(steward, APPROVE_PERM, req.area_code):
            raise PermissionDenied(_("Only a data steward of this area may decide."))
        if req.requester_id == steward.pk:
            raise ExportRefused(
                _("You cannot decide on your own request: another data steward must.")
            )
        if req.status != ExportStatus.REQUESTED:
            raise ExportRefused(
                _("%(number)s was already decided: %(status)s.")
                % {"number": req.number, "status": req.get_status_display()}
            )
        now = timezone.now()
        req.status = ExportStatus.APPROVED if approve else ExportStatus.REFUSED
        req.approver = steward
        req.decision_reason = reason
        req.decided_at = now
        req.valid_until = now + dt.timedelta(days=approval_days()) if approve else None
        req.save()
        record(
            AuditKind.EXPORT_APPROVED if approve else AuditKind.EXPORT_REFUSED,
            object_type="governance.exportrequest",
            object_id=req.number,
            area_code=req.area_code,
            fields=req.fields,
            reason=reason,
            detail=f"{req.dataset}, requested by {req.requester.get_username()}",
            actor=steward,
        )
    return req


def expire(req: ExportRequest, *, now=None, actor=None) -> bool:
    """Mark an approved request not produced in time as expired (recorded); True if it was."""
    now = now or timezone.now()
    with transaction.atomic():
        req = ExportRequest.objects.select_for_update().get(pk=req.pk)
        if req.status != ExportStatus.APPROVED or not req.valid_until or req.valid_until > now:
            return False
        req.status = ExportStatus.EXPIRED
        req.save(update_fields=["status"])
        record(
            AuditKind.EXPORT_EXPIRED,
            object_type="governance.exportrequest",
            object_id=req.number,
            area_code=req.area_code,
            detail=f"not produced before {timezone.localtime(req.valid_until):%Y-%m-%d %H:%M}",
            **({"actor": actor} if actor is not None else {}),
        )
    return True


def expire_stale(now=None) -> int:
    now = now or timezone.now()
    stale = ExportRequest.objects.filter(status=ExportStatus.APPROVED, valid_until__lte=now)
    return sum(expire(req, now=now) for req in stale)


# --------------------------------------------------------------------------- producing
@dataclass
class ExportFile:
    file: object  # a binary file object, at its start
    filename: str
    rows: int
    sha256: str
    plain_personal: bool  # holds plain personal values (the answer says so)


def _cell(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def _flat(text: str) -> str:
    return " ".join(str(text or "").split())


def watermark(req: ExportRequest, produced_at) -> str:
    """The first line of the file: the request, its purpose, who approved it and when."""
    approver = req.approver.get_username() if req.approver_id else "-"
    parts = [
        f"# {req.number}",
        f"purpose: {_flat(req.purpose)}",
        f"recipient: {_flat(req.recipient) or '-'}",
        f"approved by {approver} at {timezone.localtime(req.decided_at):%Y-%m-%d %H:%M}",
        f"produced {timezone.localtime(produced_at):%Y-%m-%d %H:%M}",
        f"area {req.area_code}",
    ]
    if req.period_start or req.period_end:
        parts.append(f"period {req.period_start or ''}..{req.period_end or ''}")
    return " · ".join(parts)


def _write_csv(req: ExportRequest, ds, user, now):
    """The file of ``req`` in a spooled temporary file: (file at its end, rows, SHA-256,
    whether any personal value went out plain)."""
    columns = [ds.column_map[name] for name in req.fields if name in ds.column_map]
    reveal_codes = scope_codes(user, ds.reveal_perm)
    personal_requested = any(c.personal for c in columns)
    digest = hashlib.sha256()
    # Handed to the response, which closes it once sent.
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES, mode="w+b")  # noqa: SIM115

    class _Sink:
        def write(self, text):
            data = text.encode("utf-8")
            digest.update(data)
            out.write(data)

    rows, plain_any = 0, False
    try:
        sink = _Sink()
        sink.write(BOM + watermark(req, now) + "\r\n")
        writer = csv.writer(sink)
        writer.writerow(["export_request", *[c.name for c in columns]])
        queryset = ds.rows(user, req.area_code, req.period_start, req.period_end)
        for obj in queryset.iterator(chunk_size=2000):
            plain = personal_requested and any(obj.area_code.startswith(c) for c in reveal_codes)
            plain_any = plain_any or plain
            writer.writerow([req.number, *[_cell(ds.cell(c, obj, plain)) for c in columns]])
            rows += 1
    except BaseException:
        out.close()
        raise
    return out, rows, digest.hexdigest(), plain_any


def would_be_plain(req: ExportRequest, ds, user) -> bool:
    """Whether the file would hold plain personal values: personal fields were asked for and
    the requester may reveal somewhere in or above the request's area."""
    if not any(ds.column_map[n].personal for n in req.fields if n in ds.column_map):
        return False
    return any(
        code.startswith(req.area_code) or req.area_code.startswith(code)
        for code in scope_codes(user, ds.reveal_perm)
    )


def produce(req: ExportRequest, user, *, channel: str = "web", otp_code=None) -> ExportFile:
    """Write the approved export once, for its requester, through ``for_user`` of the
    requester's scope. The second call is refused (ExportRefused), so is a request not (or no
    longer) approved; the production, its row count and the file's SHA-256 are recorded.

    A file that would hold plain personal values is a reveal: it needs a request verified
    with a two-factor code, like any reveal (``personal.TwoFactorRequired`` otherwise; through
    the API ``otp_code`` is the X-OTP-Code header)."""
    req = ExportRequest.objects.select_related("approver").get(pk=req.pk)
    if req.requester_id != user.pk:
        raise PermissionDenied(_("Only the requester may produce the export."))
    stale = req.valid_until is not None and req.valid_until <= timezone.now()
    if req.status == ExportStatus.APPROVED and stale:
        expire(req, actor=user)
        req.refresh_from_db()
    if req.status == ExportStatus.PRODUCED:
        raise ExportRefused(
            _(
                "%(number)s was produced on %(at)s: an approved export is produced once. "
                "Make a new request if you need the data again."
            )
            % {
                "number": req.number,
                "at": timezone.localtime(req.produced_at).strftime("%Y-%m-%d %H:%M"),
            }
        )
    if req.status != ExportStatus.APPROVED:
        raise ExportRefused(
            _("%(number)s cannot be produced (status: %(status)s).")
            % {"number": req.number, "status": req.get_status_display()}
        )
    if not ratelimit.allow(user, "export"):
        raise ratelimit.RateLimited(_("Too many exports: try again later."))
    ds = datasets.get(req.dataset)
    if ds is None:
        raise ExportRefused(_("This dataset is no longer offered."))
    if would_be_plain(req, ds, user):
        twofactor.check_reveal(user, channel=channel, code=otp_code)
    with transaction.atomic():
        req = ExportRequest.objects.select_for_update().get(pk=req.pk)
        if req.status != ExportStatus.APPROVED:  # produced meanwhile by a parallel request
            raise ExportRefused(_("%(number)s was produced already.") % {"number": req.number})
        now = timezone.now()
        out, rows, sha, plain_any = _write_csv(req, ds, user, now)
        req.status = ExportStatus.PRODUCED
        req.produced_at = now
        req.row_count = rows
        req.sha256 = sha
        req.save(update_fields=["status", "produced_at", "row_count", "sha256"])
        record(
            AuditKind.EXPORT_PRODUCED,
            object_type="governance.exportrequest",
            object_id=req.number,
            area_code=req.area_code,
            fields=req.fields,
            reason=req.purpose,
            detail=(
                f"{ds.key}: {rows} rows, sha256 {sha}"
                + (", personal fields plain" if plain_any else "")
            ),
            actor=user,
        )
    out.seek(0)
    return ExportFile(out, f"{req.number}.csv", rows, sha, plain_any)


# --------------------------------------------------------------------------- retention
def retention_days() -> int:
    return int(getattr(settings, "AUDIT_RETENTION_DAYS", 365))


def purge_audit(*, days: int | None = None, now=None) -> int:
    """Delete audit events older than ``days`` (default ``AUDIT_RETENTION_DAYS``); refuse a
    period under 180 days. The run itself is recorded as an event. Returns the number deleted."""
    days = retention_days() if days is None else int(days)
    if days < MIN_RETENTION_DAYS:
        raise ValueError(
            f"AUDIT_RETENTION_DAYS is {days}: audit events must be kept at least "
            f"{MIN_RETENTION_DAYS} days. Set it to {MIN_RETENTION_DAYS} or more."
        )
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=days)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # The table's trigger refuses deletes except inside this transaction.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL shequ.audit_purge = 'on'")
        old = AuditEvent.objects.filter(at__lt=cutoff)
        deleted, _by_model = models.QuerySet.delete(old)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL shequ.audit_purge = 'off'")
        record(
            AuditKind.PURGE,
            detail=(
                f"{deleted} events before {timezone.localtime(cutoff):%Y-%m-%d %H:%M} deleted "
                f"(kept {days} days)"
            ),
        )
    return deleted

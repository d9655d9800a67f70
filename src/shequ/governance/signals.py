"""What the audit trail hears from the other apps, without their knowing (Django signals).

* every model of the personal-data registry (``core.personal.REGISTRY``): created, changed
  (the names of the changed fields; for models that are not about one person as a whole, such
  as a case, only changes that touch a registered personal field), deleted;
* ``people.LinkDecision`` made by a person or a run (merge, split, accept, reject; the automatic
  links of a run are its batch's business and are not repeated here);
* ``core.PersonalDataAccess`` (every reveal), ``core.RoleAssignment`` (granted, revoked);
* ``people.Batch``: an import started and finished (the rows of a bulk import are written with
  ``COPY``/``bulk_create`` and send no signal, so the batch-level event is their record);
* django-axes' lock-out.

Bulk writes (``bulk_create``, ``QuerySet.update``, ``COPY``) send no signal and leave no event
of their own; see docs/governance.md for which writers those are.
"""

from __future__ import annotations

from django.apps import apps
from django.db.models.signals import post_delete, post_save, pre_save

from shequ.core import personal
from shequ.core.fields import KeyedHashField

from .audit import record
from .models import AuditKind

# Models whose every row is one person's data: any change to them is a change to personal
# data. Other registered models (a case, a visit) are audited when a personal field changes.
WHOLE_ROW = {"people.person", "people.rawrecord", "campaigns.newresident"}
_STASH = "_shequ_audit_before"
UID = "shequ-governance"


def _tracked(model) -> list:
    fields = []
    for f in model._meta.concrete_fields:
        if f.primary_key or isinstance(f, KeyedHashField):
            continue
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            continue
        fields.append(f)
    return fields


def _python(field, value):
    try:
        return field.to_python(value)
    except Exception:  # a value the field cannot read: compare it as it is
        return value


def _area(instance) -> str:
    return str(getattr(instance, getattr(type(instance), "scope_field", "area_code"), "") or "")


# --------------------------------------------------------------------------- personal data
def personal_before(sender, instance, raw=False, update_fields=None, **kwargs):
    if raw:
        return
    if instance._state.adding or instance.pk is None:
        setattr(instance, _STASH, None)
        return
    fields = _tracked(sender)
    if update_fields:
        fields = [f for f in fields if f.name in update_fields or f.attname in update_fields]
    old = sender._base_manager.filter(pk=instance.pk).values(*[f.attname for f in fields]).first()
    if old is None:
        setattr(instance, _STASH, None)
        return
    changed = [
        f.name
        for f in fields
        if _python(f, old[f.attname]) != _python(f, getattr(instance, f.attname))
    ]
    setattr(instance, _STASH, changed)


def personal_after(sender, instance, created=False, raw=False, **kwargs):
    if raw or not hasattr(instance, _STASH):
        return
    changed = getattr(instance, _STASH)
    delattr(instance, _STASH)
    label = sender._meta.label_lower
    registered = set(personal.REGISTRY.get(label, {}))
    if created or changed is None:
        present = [name for name in registered if getattr(instance, name, None) not in ("", None)]
        record(
            AuditKind.CREATED,
            object_type=label,
            object_id=instance.pk,
            area_code=_area(instance),
            fields=present,
        )
        return
    if not changed or (label not in WHOLE_ROW and not registered & set(changed)):
        return
    record(
        AuditKind.CHANGED,
        object_type=label,
        object_id=instance.pk,
        area_code=_area(instance),
        fields=changed,
    )


def personal_deleted(sender, instance, **kwargs):
    record(
        AuditKind.DELETED,
        object_type=sender._meta.label_lower,
        object_id=instance.pk,
        area_code=_area(instance),
    )


# --------------------------------------------------------------------------- decisions
def link_decision_saved(sender, instance, created=False, raw=False, **kwargs):
    if raw or not created or instance.kind == "auto":
        return
    detail = f"{instance.kind}: person {instance.person_id or '-'}"
    if instance.other_person_id:
        detail += f" / {instance.other_person_id}"
    if instance.record_id:
        detail += f"; records {instance.record_id} / {instance.other_id or '-'}"
    record(
        AuditKind.LINK_DECISION,
        object_type="people.person",
        object_id=instance.person_id or "",
        area_code=instance.area_code,
        reason=instance.reason,
        detail=detail,
        **({"actor": instance.decided_by} if instance.decided_by_id else {}),
    )


def reveal_saved(sender, instance, created=False, raw=False, **kwargs):
    if raw or not created:
        return
    record(
        AuditKind.REVEAL,
        object_type=instance.model,
        object_id=instance.object_id,
        area_code=instance.area_code,
        fields=[f for f in instance.fields.split(",") if f],
        reason=instance.reason,
        detail=f"channel={instance.channel}",
        actor=instance.user,
    )


def _role_event(kind, assignment, role=None, area_code=None):
    role = role or assignment.role
    area_code = area_code or assignment.area_code
    record(
        kind,
        object_type="core.user",
        object_id=assignment.user_id,
        area_code=area_code,
        detail=f"{role} @ {area_code}",
    )


def role_before(sender, instance, raw=False, **kwargs):
    if raw or instance.pk is None:
        return
    old = sender._base_manager.filter(pk=instance.pk).values("role", "area_code").first()
    setattr(instance, _STASH, old)


def role_saved(sender, instance, created=False, raw=False, **kwargs):
    if raw:
        return
    old = getattr(instance, _STASH, None)
    if hasattr(instance, _STASH):
        delattr(instance, _STASH)
    if created or old is None:
        _role_event(AuditKind.ROLE_GRANTED, instance)
    elif (old["role"], old["area_code"]) != (instance.role, instance.area_code):
        _role_event(AuditKind.ROLE_REVOKED, instance, old["role"], old["area_code"])
        _role_event(AuditKind.ROLE_GRANTED, instance)


def role_deleted(sender, instance, **kwargs):
    _role_event(AuditKind.ROLE_REVOKED, instance)


# --------------------------------------------------------------------------- imports
FINISHED = {"done", "refused", "failed"}


def batch_before(sender, instance, raw=False, **kwargs):
    if raw or instance.pk is None:
        return
    setattr(
        instance,
        _STASH,
        sender._base_manager.filter(pk=instance.pk).values_list("status", flat=True).first(),
    )


def batch_saved(sender, instance, created=False, raw=False, **kwargs):
    if raw:
        return
    old = getattr(instance, _STASH, None)
    if hasattr(instance, _STASH):
        delattr(instance, _STASH)
    if not created and (instance.status == old or instance.status not in FINISHED):
        return
    source = getattr(instance.source, "code", "")
    if created:
        detail = f"{source}: {instance.file_format}, {instance.status}"
    else:
        detail = (
            f"{source}: {instance.status}, {instance.rows} rows, {instance.flagged_rows} "
            f"flagged, {instance.linked_records} linked, {instance.new_persons} new persons"
        )
    record(
        AuditKind.IMPORT,
        object_type="people.batch",
        object_id=instance.pk,
        area_code=instance.area_code,
        detail=detail,
        **({"actor": instance.created_by} if created and instance.created_by_id else {}),
    )


def locked_out(sender, request=None, username=None, ip_address=None, **kwargs):
    record(
        AuditKind.LOCKOUT,
        object_type="core.user",
        detail=f"user name {str(username or '')[:60]!r}, address {ip_address or '-'}",
        actor_label="anonymous",
    )


# --------------------------------------------------------------------------- wiring
def connect() -> None:
    for label in personal.REGISTRY:
        try:
            model = apps.get_model(label)
        except LookupError:  # the app is not installed
            continue
        uid = f"{UID}-{label}"
        pre_save.connect(personal_before, sender=model, dispatch_uid=f"{uid}-pre")
        post_save.connect(personal_after, sender=model, dispatch_uid=f"{uid}-post")
        post_delete.connect(personal_deleted, sender=model, dispatch_uid=f"{uid}-del")

    from shequ.core.models import PersonalDataAccess, RoleAssignment

    post_save.connect(reveal_saved, sender=PersonalDataAccess, dispatch_uid=f"{UID}-reveal")
    pre_save.connect(role_before, sender=RoleAssignment, dispatch_uid=f"{UID}-role-pre")
    post_save.connect(role_saved, sender=RoleAssignment, dispatch_uid=f"{UID}-role-post")
    post_delete.connect(role_deleted, sender=RoleAssignment, dispatch_uid=f"{UID}-role-del")

    if apps.is_installed("shequ.people"):
        LinkDecision = apps.get_model("people", "LinkDecision")
        Batch = apps.get_model("people", "Batch")
        post_save.connect(link_decision_saved, sender=LinkDecision, dispatch_uid=f"{UID}-link")
        pre_save.connect(batch_before, sender=Batch, dispatch_uid=f"{UID}-batch-pre")
        post_save.connect(batch_saved, sender=Batch, dispatch_uid=f"{UID}-batch-post")

    from axes.signals import user_locked_out

    user_locked_out.connect(locked_out, dispatch_uid=f"{UID}-lockout")

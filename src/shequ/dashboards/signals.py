"""Keeping the rollups current for models that have no service yet (people, facilities) and
for services that do not call ``rollups.track`` yet (cases).

Each save or delete takes the touched objects' contributions before and after (a few small
queries) and applies the difference on commit, as ``rollups.track`` does for services. Bulk
writes (``COPY``, ``bulk_create``, ``QuerySet.update``) send no signals: the nightly
``shequ rebuild_rollups`` covers them.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save

from . import rollups

_ATTR = "_rollup_before"


def _objects(sender, instance) -> dict:
    label = sender._meta.label_lower
    if label == "people.person":
        households = {instance.household_id}
        if instance.pk:
            old = (
                type(instance).objects.filter(pk=instance.pk).values_list("household_id", flat=True)
            )
            households |= set(old)
        return {"persons": [instance.pk] if instance.pk else [], "households": households - {None}}
    if label == "people.household":
        return {"households": [instance.pk] if instance.pk else []}
    if label == "people.residence":
        return {"residences": [instance.pk] if instance.pk else []}
    if label == "areas.facility":
        return {"facilities": [instance.pk] if instance.pk else []}
    return {}


def _before(sender, instance, **kwargs):
    if kwargs.get("raw"):
        return
    objects = _objects(sender, instance)
    setattr(instance, _ATTR, (objects, rollups.contributions(**objects)))


def _after(sender, instance, **kwargs):
    if kwargs.get("raw") or not hasattr(instance, _ATTR):
        return
    objects, before = getattr(instance, _ATTR)
    delattr(instance, _ATTR)
    key = next(iter(objects), None)
    if key and instance.pk and instance.pk not in objects[key] and not kwargs.get("deleted"):
        objects = {**objects, key: [*objects[key], instance.pk]}  # created just now
    after = rollups.contributions(**objects) if not kwargs.get("deleted") else {}
    if kwargs.get("deleted"):
        # The object is gone; what remains of the others (e.g. its household) still counts.
        rest = {k: v for k, v in objects.items() if k != key}
        after = rollups.contributions(**rest) if rest else {}
    diff = rollups.difference(before, after)
    if diff:
        transaction.on_commit(lambda: rollups.apply(diff))


def _after_delete(sender, instance, **kwargs):
    _after(sender, instance, deleted=True, **kwargs)


# --- cases: "after" on commit -----------------------------------------------------------
# A case's workflow step saves the case first and writes its timeline event after, in the
# same transaction; the rollups count the events. So the case's contribution is taken before
# its first save in a transaction and again when the transaction commits.

_pending: dict[tuple[str, int], tuple] = {}


def _still_queued(callback) -> bool:
    from django.db import connection

    return any(item[1] is callback for item in connection.run_on_commit)


def _case_before(sender, instance, **kwargs):
    if kwargs.get("raw") or not instance.pk:
        return
    key = ("cases", instance.pk)
    found = _pending.get(key)
    if found is not None and _still_queued(found[1]):
        return  # saved before in this transaction: the first "before" stands
    _pending[key] = (rollups.contributions(cases=[instance.pk]), None)


def _case_after(sender, instance, created=False, **kwargs):
    if kwargs.get("raw"):
        return
    key = ("cases", instance.pk)
    before, callback = _pending.get(key, ({}, None))
    if callback is not None and _still_queued(callback):
        return

    def apply_on_commit():
        entry = _pending.pop(key, None)
        first = entry[0] if entry else before
        after = rollups.contributions(cases=[key[1]])
        diff = rollups.difference(first, after)
        if diff:
            rollups.apply(diff)

    _pending[key] = (before, apply_on_commit)
    transaction.on_commit(apply_on_commit)


def _case_deleted(sender, instance, **kwargs):
    before = rollups.contributions(cases=[instance.pk])
    _pending.pop(("cases", instance.pk), None)
    diff = rollups.difference(before, {})
    if diff:
        transaction.on_commit(lambda: rollups.apply(diff))


def connect() -> None:
    from shequ.areas.models import Facility
    from shequ.people.models import Household, Person, Residence

    for model in (Person, Household, Residence, Facility):
        uid = f"dashboards-{model._meta.label_lower}"
        pre_save.connect(_before, sender=model, dispatch_uid=f"{uid}-pre-save")
        post_save.connect(_after, sender=model, dispatch_uid=f"{uid}-post-save")
        pre_delete.connect(_before, sender=model, dispatch_uid=f"{uid}-pre-delete")
        post_delete.connect(_after_delete, sender=model, dispatch_uid=f"{uid}-post-delete")
    try:
        from shequ.cases.models import Case
    except ImportError:
        return
    uid = "dashboards-cases.case"
    pre_save.connect(_case_before, sender=Case, dispatch_uid=f"{uid}-pre-save")
    post_save.connect(_case_after, sender=Case, dispatch_uid=f"{uid}-post-save")
    pre_delete.connect(_case_deleted, sender=Case, dispatch_uid=f"{uid}-pre-delete")

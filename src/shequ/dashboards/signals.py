"""Keeping the rollups current for models that have no service yet (people, facilities),
for services that do not call ``rollups.track`` yet (cases), and for the campaigns services,
which announce the visit tasks they change (``campaigns.signals.tasks_changing``) without
knowing the dashboards.

Each save or delete takes the touched objects' contributions before and after (a few small
queries) and applies the difference on commit, as ``rollups.track`` does for services. Bulk
writes (``COPY``, ``bulk_create``, ``QuerySet.update``) send no signals: the nightly
``shequ rebuild_rollups`` covers them.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from contextlib import contextmanager

from django.db import OperationalError, connections, transaction
from django.db.models import Max
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save
from django.utils import timezone

from . import rollups

log = logging.getLogger(__name__)

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
# its first save in a transaction and again when the transaction commits. A case taken in by
# ``services.create_case`` and not saved again before the commit is not read back: its
# "before" is empty, its "after" comes from the row as saved and the timeline the service
# wrote with it (``Case.intake_events``), through the providers' ``cells_of``.

# (case pk) -> (before, the on-commit callback or None, the new case's row or None)
_pending: dict[tuple[str, int], tuple] = {}


def _still_queued(callback) -> bool:
    from django.db import connection

    return any(item[1] is callback for item in connection.run_on_commit)


def _saved_again(key) -> bool:
    """Whether the case was saved before in this transaction (its callback still queued); if
    so, it will be read back at the commit."""
    found = _pending.get(key)
    if found is None or not _still_queued(found[1]):
        return False
    if found[2] is not None:
        _pending[key] = (found[0], found[1], None)
    return True


def _case_before(sender, instance, **kwargs):
    if kwargs.get("raw") or not instance.pk:
        return
    key = ("cases", instance.pk)
    if _saved_again(key):
        return  # the first "before" stands
    _pending[key] = (rollups.contributions(cases=[instance.pk]), None, None)


def _new_case_row(instance) -> dict | None:
    """The fields the providers count (``CASE_FIELDS``) of a case as just inserted, or None
    when one of them is not at hand without a query (a related object not loaded)."""
    from .providers.requests import CASE_FIELDS

    row = {}
    for name in CASE_FIELDS:
        if name == "pk":
            row[name] = instance.pk
        elif "__" in name:
            relation, attr = name.split("__", 1)
            field = type(instance)._meta.get_field(relation)
            if getattr(instance, field.attname) is None:
                row[name] = None
            elif field.is_cached(instance):
                row[name] = getattr(getattr(instance, relation), attr)
            else:
                return None
        else:
            row[name] = getattr(instance, name)
    return row


def _new_case_contributions(row: dict, instance) -> dict | None:
    """``rollups.contributions(cases=[pk])`` of a case just taken in, without reading it back;
    None when it cannot be had exactly (no timeline from the service, or a provider that
    cannot take rows)."""
    from shequ.cases.models import EventKind

    from .registry import providers as registered

    events = instance.intake_events
    providers = [p for p in registered() if "cases" in p.tracks]
    if events is None or not all(hasattr(p, "cells_of") for p in providers):
        return None
    moves = [(e.move, e.at) for e in events if e.kind == EventKind.MOVE]
    today = timezone.localdate()
    return {p.module: p.cells_of(today, [row], {row["pk"]: moves}) for p in providers}


def _case_after(sender, instance, created=False, **kwargs):
    if kwargs.get("raw"):
        return
    key = ("cases", instance.pk)
    if _saved_again(key):
        return
    # A new case counted for nothing before (an entry left for its pk by a rolled-back
    # transaction, where the database reuses ids, is not its "before").
    before = {} if created else _pending.get(key, ({},))[0]
    row = _new_case_row(instance) if created else None
    since = timezone.now()

    def apply_on_commit():
        # Merged with the process's other changes (``pending``, below): intake runs at tens
        # per second, each case changing cells on every level up to the city.
        entry = _pending.pop(key, None)
        first, new_row = (entry[0], entry[2]) if entry else (before, row)
        after = _new_case_contributions(new_row, instance) if new_row is not None else None
        if after is None:
            after = rollups.contributions(cases=[key[1]])
        diff = rollups.difference(first, after)
        if diff:
            pending.add(since, diff)

    _pending[key] = (before, apply_on_commit, row)
    transaction.on_commit(apply_on_commit)


def _case_deleted(sender, instance, **kwargs):
    since = timezone.now()
    before = rollups.contributions(cases=[instance.pk])
    _pending.pop(("cases", instance.pk), None)
    diff = rollups.difference(before, {})
    if diff:
        transaction.on_commit(lambda: pending.add(since, diff))


# --- campaigns: the service tells us which visit tasks it is about to change -------------
# Visits arrive by the hundred per second, each changing a few cells on every level up to the
# city. Applied per commit, every concurrent sync would update the same city, district and
# street rows: lock waits, and deadlocks where two commits take them in different orders.
# So the difference is taken in the request (before and after the write, inside its
# transaction) and handed over on commit to ``pending``, which merges the differences of this
# process and applies them at most ``FLUSH_SECONDS`` later in one transaction, in a fixed
# order; at once where background jobs run immediately (tests, ``HUEY_IMMEDIATE``). A
# difference taken before a rebuild started is dropped: the rebuild counted the change.

FLUSH_SECONDS = 1.0


def _cell_order(item):
    (area_code, compound, day, key, dim), _change = item
    return (key, dim, area_code or "", compound or "", day is not None, day or dt.date.min)


class Pending:
    """Differences of committed changes waiting to be applied (this process's)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._entries: list[tuple[dt.datetime, dict]] = []
        self._timer: threading.Timer | None = None

    def add(self, since: dt.datetime, diff: dict) -> None:
        from huey.contrib.djhuey import HUEY

        with self._lock:
            self._entries.append((since, diff))
            if self._timer is None and not HUEY.immediate:
                self._timer = threading.Timer(FLUSH_SECONDS, self._flush_in_thread)
                self._timer.start()
        if HUEY.immediate:
            self.flush()

    def take(self) -> list[tuple[dt.datetime, dict]]:
        with self._lock:
            entries, self._entries = self._entries, []
            if self._timer is not None:
                self._timer.cancel()  # a no-op when the timer itself is flushing
                self._timer = None
        return entries

    def flush(self) -> int:
        """Apply what is pending (one transaction); returns the rollup rows changed."""
        entries = self.take()
        if not entries:
            return 0
        from .models import RollupRun

        modules = {m for _since, diff in entries for m in diff}
        rebuilt = dict(
            RollupRun.objects.filter(module__in=modules)
            .order_by()
            .values("module")
            .annotate(last=Max("started_at"))
            .values_list("module", "last")
        )
        merged: dict[str, dict] = {}
        for since, diff in entries:
            for module, cells in diff.items():
                if module in rebuilt and rebuilt[module] > since:
                    continue  # the rebuild counted it
                into = merged.setdefault(module, {})
                for cell, (op, value) in cells.items():
                    old = into.get(cell)
                    if old is None:
                        into[cell] = (op, value)
                    elif op == "max":
                        into[cell] = ("max", max(old[1], value))
                    else:
                        into[cell] = ("add", old[1] + value)
        ordered = {}
        for module in sorted(merged):
            cells = [i for i in merged[module].items() if i[1] != ("add", 0)]
            if cells:
                ordered[module] = dict(sorted(cells, key=_cell_order))
        for attempt in range(3):
            try:
                return rollups.apply(ordered)
            except OperationalError:
                # Another process's flush holding the same rows (a deadlock it won): again.
                if attempt == 2:
                    raise
        return 0

    def _flush_in_thread(self) -> None:
        try:
            self.flush()
        except Exception:
            log.exception("rollups: applying pending changes failed (the rebuild corrects it)")
        finally:
            connections.close_all()  # this thread's connections


pending = Pending()


@contextmanager
def _follow_tasks(task_ids):
    since = timezone.now()
    before = rollups.contributions(tasks=task_ids)
    yield
    diff = rollups.difference(before, rollups.contributions(tasks=task_ids))
    if diff:
        transaction.on_commit(lambda: pending.add(since, diff))


@contextmanager
def _follow_described(changes):
    # A visit sync describes what each task was and became (``TaskState`` pairs, filled in
    # during the write): the cells of both, no query.
    since = timezone.now()
    yield
    if not changes:
        return
    before = rollups.contributions(task_states=[b for b, _a in changes])
    after = rollups.contributions(task_states=[a for _b, a in changes])
    diff = rollups.difference(before, after)
    if diff:
        transaction.on_commit(lambda: pending.add(since, diff))


def _tasks_changing(sender, task_ids, changes=None, **kwargs):
    """``campaigns.signals.tasks_changing``: follow the tasks through the write, from the
    sender's description of it (``changes``) where it gives one; else by reading the tasks
    before and after (the list may grow inside the write with tasks created there; it is
    read again at the end)."""
    if changes is not None:
        return _follow_described(changes)
    return _follow_tasks(task_ids)


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
        from shequ.campaigns.signals import tasks_changing
    except ImportError:
        pass
    else:
        tasks_changing.connect(_tasks_changing, dispatch_uid="dashboards-campaigns-tasks")
    try:
        from shequ.cases.models import Case
    except ImportError:
        return
    uid = "dashboards-cases.case"
    pre_save.connect(_case_before, sender=Case, dispatch_uid=f"{uid}-pre-save")
    post_save.connect(_case_after, sender=Case, dispatch_uid=f"{uid}-post-save")
    pre_delete.connect(_case_deleted, sender=Case, dispatch_uid=f"{uid}-pre-delete")

"""What the campaigns app tells other apps, without knowing them.

``tasks_changing`` is sent with the ids of the visit tasks a write is about to change: their
status (a visit stored), their follow-ups, or the tasks themselves (a round's tasks created).
A receiver returns a context manager, or None; ``changing(ids)`` enters every returned one
around the write, inside its transaction. The dashboards connect one that keeps the screening
rollups current (``dashboards/signals.py``).

The receivers get ``task_ids``, a list the sender may extend inside the block with the ids of
tasks created there (their ids are not known before): a receiver reads it again when its
context exits. And ``changes``: None, or — when the sender describes its write
(``changing(ids, described=True)``, a visit sync) — a list the sender fills inside the block
with a ``(before, after)`` pair of ``TaskState`` for every task whose status or follow-ups
the write changed. A receiver may then take the change from those pairs instead of reading
the tasks before and after (``task_ids`` still names them all).
"""

from __future__ import annotations

from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from django.dispatch import Signal

# Sent by the campaigns services with ``task_ids=[...]`` and ``changes=None | [...]``; the
# sender is ``VisitTask``.
tasks_changing = Signal()


@dataclass(frozen=True)
class TaskState:
    """A visit task as others count it: where it lies, its round and campaign, its status and
    households, and follow-ups as ``(rule, status)`` pairs.

    In a described change the follow-ups listed are those the write changed (a sync adds open
    ones: "before" lists none, "after" the new ones); the task's other follow-ups are the same
    before and after, and are left out of both."""

    task_id: int
    area_code: str
    dwelling_code: str
    round_id: int
    campaign_id: int
    status: str
    households: int
    followups: tuple[tuple[str, str], ...] = ()


class TaskWrite:
    """What ``changing`` yields: ``ids`` of the tasks (extend it with tasks created inside the
    block) and, for a described write, ``describe(before, after)`` for each changed task."""

    def __init__(self, task_ids, described: bool):
        self.ids = list(task_ids)
        self.changes: list[tuple[TaskState, TaskState]] | None = [] if described else None

    def describe(self, before: TaskState, after: TaskState) -> None:
        if self.changes is None:
            raise ValueError("describe(): this write was announced without described=True")
        if before.task_id != after.task_id:
            raise ValueError(
                f"describe(): before is task {before.task_id}, after is task {after.task_id}"
            )
        self.changes.append((before, after))


@contextmanager
def changing(task_ids, *, described: bool = False):
    """Wrap a write changing these tasks: ``with changing(ids) as write: ...`` (``write.ids``
    may be extended inside with tasks created there). ``described=True``: the sender
    promises to ``write.describe(before, after)`` every task whose status or follow-ups it
    changes."""
    from .models import VisitTask

    write = TaskWrite(task_ids, described)
    with ExitStack() as stack:
        for _receiver, manager in tasks_changing.send(
            sender=VisitTask, task_ids=write.ids, changes=write.changes
        ):
            if manager is not None:
                stack.enter_context(manager)
        yield write

"""What the campaigns app tells other apps, without knowing them.

``tasks_changing`` is sent with the ids of the visit tasks a write is about to change: their
status (a visit stored), their follow-ups, or the tasks themselves (a round's tasks created).
A receiver returns a context manager, or None; ``changing(ids)`` enters every returned one
around the write, inside its transaction. The dashboards connect one that keeps the screening
rollups current (``dashboards/signals.py``: ``rollups.track(tasks=ids)``).

``task_ids`` is a list the sender may extend inside the block with the ids of tasks created
there (their ids are not known before): a receiver reads it again when its context exits.
"""

from __future__ import annotations

from contextlib import ExitStack, contextmanager

from django.dispatch import Signal

# Sent by the campaigns services with ``task_ids=[...]``; the sender is ``VisitTask``.
tasks_changing = Signal()


@contextmanager
def changing(task_ids):
    """Wrap a write changing these tasks: ``with changing(ids) as ids: ...`` (``ids`` may be
    extended inside with tasks created there)."""
    from .models import VisitTask

    ids = list(task_ids)
    with ExitStack() as stack:
        for _receiver, manager in tasks_changing.send(sender=VisitTask, task_ids=ids):
            if manager is not None:
                stack.enter_context(manager)
        yield ids

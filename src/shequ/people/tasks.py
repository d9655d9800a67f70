"""Background jobs of the population store (Huey): an uploaded file is imported and linked
outside the request; the upload page polls the batch's progress. Jobs get ids, never data."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from django.utils import timezone
from huey.contrib.djhuey import db_task

from .ingest import IngestRefused, ingest_file
from .models import Batch, BatchStatus

log = logging.getLogger(__name__)


def _progress(batch_id: int):
    def report(pct: int, status: str) -> None:
        Batch.objects.filter(pk=batch_id).update(progress=pct, status=status)

    return report


def run_ingest(batch_id: int) -> None:
    batch = Batch.objects.select_related("source", "created_by").get(pk=batch_id)
    if batch.finished:
        return  # idempotent: a job run twice does nothing the second time
    path = Path(batch.stored_file)
    try:
        ingest_file(
            batch.source.code,
            path,
            user=batch.created_by,
            file_name=batch.file_name,
            area_code=batch.area_code,
            batch=batch,
            progress=_progress(batch_id),
        )
    except IngestRefused:
        pass  # the batch carries the message
    except Exception as exc:  # the batch shows the failure; the log has the details
        log.exception("ingest of batch %s failed", batch_id)
        Batch.objects.filter(pk=batch_id).update(
            status=BatchStatus.FAILED,
            message=f"{exc.__class__.__name__}",
            progress=100,
            finished_at=timezone.now(),
        )
    finally:
        with contextlib.suppress(OSError):
            path.unlink()


@db_task()
def ingest_batch(batch_id: int) -> None:
    run_ingest(batch_id)

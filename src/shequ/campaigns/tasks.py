"""Scheduled jobs of the campaigns app (run by the Huey consumer ``shequ run_huey``)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from shequ.governance.context import acting

from . import retention


@db_periodic_task(crontab(hour="3", minute="40"))
def apply_retention_daily():
    """Anonymise the answers of visits past their retain-until date (see retention.py)."""
    with acting("task:apply_retention"):
        return retention.apply().pk

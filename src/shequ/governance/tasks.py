"""Scheduled jobs of the data-use rules: the audit purge and the expiry of unused approvals
(daily, run by the Huey consumer ``shequ run_huey``)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .context import acting
from .services import expire_stale, purge_audit


@db_periodic_task(crontab(hour="3", minute="20"))
def purge_audit_daily():
    with acting("task:purge_audit"):
        return purge_audit()


@db_periodic_task(crontab(hour="3", minute="30"))
def expire_export_approvals_daily():
    with acting("task:expire_export_approvals"):
        return expire_stale()

"""``shequ purge_audit``: delete audit events older than AUDIT_RETENTION_DAYS (≥ 180)."""

from django.core.management.base import BaseCommand, CommandError

from shequ.governance.context import acting
from shequ.governance.services import MIN_RETENTION_DAYS, purge_audit, retention_days


class Command(BaseCommand):
    help = (
        "Delete audit events older than the retention period (AUDIT_RETENTION_DAYS, default "
        f"365; never under {MIN_RETENTION_DAYS} days) and record the run as an audit event."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help=f"Keep this many days instead of AUDIT_RETENTION_DAYS (≥ {MIN_RETENTION_DAYS}).",
        )

    def handle(self, *args, days=None, **options):
        try:
            with acting("command:purge_audit"):
                deleted = purge_audit(days=days)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        kept = days if days is not None else retention_days()
        self.stdout.write(f"{deleted} audit events older than {kept} days deleted.")

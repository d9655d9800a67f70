"""``shequ apply_retention``: anonymise the answers of visits past their retain-until date."""

from django.core.management.base import BaseCommand, CommandError

from shequ.campaigns import retention
from shequ.governance.context import acting


class Command(BaseCommand):
    help = (
        "Anonymise the health and screening answers (and notes) of door-to-door visits past "
        "their campaign's retention (retain_days after the visit); outcomes and counts stay. "
        "Records the run (campaign page) and one audit event. Safe to run again: a second run "
        "changes nothing. Runs daily as a Huey task too."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size",
            type=int,
            default=retention.BATCH,
            help=f"Visits per transaction (default {retention.BATCH}).",
        )

    def handle(self, *args, batch_size=retention.BATCH, **options):
        if batch_size < 1:
            raise CommandError(f"--batch-size must be 1 or more, not {batch_size}.")
        with acting("command:apply_retention"):
            run = retention.apply(batch=batch_size)
        self.stdout.write(
            f"Retention run {run.pk}: {run.anonymised} visits anonymised in "
            f"{run.counts.count()} campaigns."
        )

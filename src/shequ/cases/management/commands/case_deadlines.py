from django.core.management.base import BaseCommand

from shequ.cases import deadlines


class Command(BaseCommand):
    help = (
        "Deadline warnings, 催办 reminders and 督办 escalations of open cases; idempotent, "
        "meant for cron or a periodic job."
    )

    def handle(self, *args, **options):
        result = deadlines.run()
        self.stdout.write(
            f"warned {result.warned}, reminded {result.reminded}, escalated {result.escalated}, "
            f"notifications delivered {result.delivered}"
        )

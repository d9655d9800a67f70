"""``shequ demo_code``: the current two-factor code of the demo accounts.

The demo accounts that may reveal personal data share one public authenticator key
(``shequ.demo.accounts.DEMO_OTP_KEY``); this prints the code an authenticator app with that key
shows now, and how long it stays valid. It knows no other key: real accounts each have their own.
"""

import time

from django.core.management.base import BaseCommand

from shequ.demo import accounts


class Command(BaseCommand):
    help = "Print the current two-factor code of the demo accounts (their key is public)."

    def handle(self, *args, **options):
        now = time.time()
        left = 30 - int(now) % 30
        self.stdout.write(accounts.demo_code(now))
        self.stderr.write(
            f"valid for {left} more seconds (and the next 30); each code signs in once. "
            f"Authenticator key: {accounts.demo_secret()}"
        )

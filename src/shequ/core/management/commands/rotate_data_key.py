"""Re-encrypt personal data under the current key (the first in SHEQU_DATA_KEY).

Rotation: prepend the new key to SHEQU_DATA_KEY (``k2:<new>,k1:<old>``), restart, run this
command, then drop the old key. Rows already under the current key are left alone, so the
command can be interrupted and run again. ``--rehash`` recomputes every lookup hash (after a
change of SHEQU_HASH_KEY).
"""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from shequ.core.rekey import encrypted_fields, rekey_model


class Command(BaseCommand):
    help = "Re-encrypt ID numbers and phones under the current data key, in batches."

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=2000, help="rows per batch")
        parser.add_argument("--rehash", action="store_true", help="recompute every hash too")

    def handle(self, *args, batch, rehash, verbosity=1, **options):
        total = 0
        for model in apps.get_models():
            if not encrypted_fields(model):
                continue
            with transaction.atomic():
                n = rekey_model(model, batch=batch, rehash=rehash)
            total += n
            if verbosity:
                self.stdout.write(f"{model._meta.label}: {n} rows re-encrypted")
        if verbosity:
            self.stdout.write(f"{total} rows in all")

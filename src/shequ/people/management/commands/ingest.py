"""``shequ ingest SOURCE FILE``: import one source file (CSV, XLSX, JSON Lines) as a batch.

Every row is kept with its provenance; rows with bad values are kept and flagged; a file that
cannot be read is refused whole (nothing written). The same content again changes nothing.
Then the new records are linked into persons (``--no-link`` to leave that to ``link_people``).
"""

from __future__ import annotations

import csv
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from shequ.people.ingest import IngestRefused, flagged_rows, ingest_file, safe_cell


class Command(BaseCommand):
    help = "Import a source file (CSV, XLSX or JSON Lines) as one batch and link its records."

    def add_arguments(self, parser):
        parser.add_argument("source", help="source definition name, e.g. police_hukou")
        parser.add_argument("file", help="the file to import")
        parser.add_argument("--user", help="user name recorded as the importer")
        parser.add_argument("--area", help="area code the list belongs to (default: the city)")
        parser.add_argument("--no-link", action="store_true", help="store only; link later")
        parser.add_argument("--flagged", help="write the flagged rows to this CSV file")

    def handle(self, *args, source, file, **opts):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file")
        user = None
        if opts.get("user"):
            user = get_user_model().objects.filter(username=opts["user"]).first()
            if user is None:
                raise CommandError(f"no user named {opts['user']}")
        try:
            result = ingest_file(
                source, path, user=user, area_code=opts.get("area"), link=not opts["no_link"]
            )
        except IngestRefused as exc:
            raise CommandError(f"refused, nothing imported: {exc}") from exc
        batch = result.batch
        if not result.created:
            self.stdout.write(
                f"{path.name}: already imported as batch {batch.pk} on "
                f"{batch.created_at:%Y-%m-%d %H:%M}; nothing changed"
            )
            return
        self.stdout.write(
            f"batch {batch.pk}: {batch.rows} rows of {source} from {path.name}, "
            f"{batch.flagged_rows} flagged; {batch.linked_records} records linked, "
            f"{batch.new_persons} new persons"
        )
        if opts.get("flagged"):
            with open(opts["flagged"], "w", newline="", encoding="utf-8-sig") as fh:
                writer = csv.writer(fh)
                writer.writerow(["row", "record_id", "field", "reason"])
                for row in flagged_rows(batch):
                    writer.writerow([safe_cell(v) for v in row])

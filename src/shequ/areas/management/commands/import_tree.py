"""``shequ import_tree FILE``: load the governance tree from CSV or GeoJSON (operator tool)."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from shequ.areas.treeio import TreeImportError, import_tree


class Command(BaseCommand):
    help = (
        "Import the governance tree (city, districts, streets, communities, grids) and places "
        "from a CSV or GeoJSON file; see docs/tree-format.md. Nothing is written if any row is "
        "bad: every problem is printed as FILE:LINE: field: message."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV or GeoJSON file ('-' reads standard input)")
        parser.add_argument(
            "--format", choices=["csv", "geojson"], help="default: from the file name"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="check the file and count, write nothing"
        )

    def handle(self, *args, **options):
        name = options["file"]
        if name == "-":
            data, name = sys.stdin.buffer.read(), "<stdin>"
        else:
            try:
                data = Path(name).read_bytes()
            except OSError as exc:
                raise CommandError(f"{name}: cannot read the file: {exc.strerror}") from exc
        try:
            result = import_tree(
                data, filename=name, fmt=options["format"], dry_run=options["dry_run"]
            )
        except TreeImportError as exc:
            for error in exc.errors:
                self.stderr.write(str(error))
            if exc.total > len(exc.errors):
                self.stderr.write(f"… and {exc.total - len(exc.errors)} more errors")
            raise CommandError(f"{exc.total} errors in {name}: nothing was imported.") from exc
        verb = "would be " if result.dry_run else ""
        self.stdout.write(f"{'level':<10} {'created':>8} {'updated':>8} {'unchanged':>10}")
        for level, created, updated, unchanged in result.by_level():
            self.stdout.write(f"{level:<10} {created:>8} {updated:>8} {unchanged:>10}")
        totals = result.totals
        self.stdout.write(
            f"{name}: {totals['created']} {verb}created, {totals['updated']} {verb}updated, "
            f"{totals['unchanged']} unchanged" + (" (dry run: nothing written)" if verb else "")
        )

"""``shequ export_tree CODE``: write a subtree as CSV or GeoJSON (operator tool: no scoping)."""

from django.core.management.base import BaseCommand, CommandError

from shequ.areas.models import Area
from shequ.areas.treeio import PLACE_DEPTHS, export_csv, export_geojson


class Command(BaseCommand):
    help = (
        "Export the governance tree under an area (our code or the national code, e.g. 5101 "
        "or 510100) as CSV or GeoJSON; the file imports again with import_tree."
    )

    def add_arguments(self, parser):
        parser.add_argument("code", help="root area code, e.g. 5101 or 510104")
        parser.add_argument(
            "--format", choices=["csv", "geojson"], help="default: from --out, else csv"
        )
        parser.add_argument(
            "--places",
            choices=list(PLACE_DEPTHS),
            default="compounds",
            help="places to include: compounds (default), all (down to dwellings) or none",
        )
        parser.add_argument("--out", help="output file (default: standard output)")

    def handle(self, *args, **options):
        code = options["code"]
        root = Area.objects.filter(code=code).first()
        if root is None:
            matches = list(Area.objects.filter(ext_code=code)[:2])
            if len(matches) != 1:
                raise CommandError(f"no area has the code {code}")
            root = matches[0]
        out = options["out"]
        fmt = options["format"] or (
            "geojson" if out and out.lower().endswith((".geojson", ".json")) else "csv"
        )
        writer = export_geojson if fmt == "geojson" else export_csv
        pieces = writer(root, places=options["places"])
        if out:
            with open(out, "w", encoding="utf-8", newline="") as handle:
                for piece in pieces:
                    handle.write(piece)
        else:
            for piece in pieces:
                self.stdout.write(piece, ending="")

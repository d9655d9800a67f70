"""``shequ rebuild_rollups [--module population ...]``: the nightly full rebuild."""

import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError

from shequ.dashboards import registry, rollups


class Command(BaseCommand):
    help = "Recompute the dashboards' rollups from the raw rows (set-based; run nightly)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--module",
            action="append",
            dest="modules",
            help="Only this module (population, facilities, requests, screening); repeatable.",
        )
        parser.add_argument("--as-of", help="The snapshot day (YYYY-MM-DD); default today.")

    def handle(self, *args, modules=None, as_of=None, **options):
        known = {p.module for p in registry.providers()}
        unknown = sorted(set(modules or ()) - known)
        if unknown:
            raise CommandError(
                f"unknown module(s) {', '.join(unknown)}; available: {', '.join(sorted(known))}"
            )
        day = None
        if as_of:
            try:
                day = dt.date.fromisoformat(as_of)
            except ValueError as exc:
                raise CommandError(f"--as-of: {as_of!r} is not a date (YYYY-MM-DD)") from exc
        t0 = time.perf_counter()
        rollups.rebuild(modules, as_of=day, stdout=self.stdout)
        self.stdout.write(f"rollups rebuilt in {time.perf_counter() - t0:.1f} s")

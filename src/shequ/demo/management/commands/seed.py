"""``shequ seed --residents N --seed S [--reset]``: build the demo city (see docs/demo.md)."""

from __future__ import annotations

import sys
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from shequ.areas.models import Area
from shequ.core import twofactor
from shequ.demo import accounts, hooks
from shequ.demo.generate import CitySeeder
from shequ.demo.reset import wipe


class Command(BaseCommand):
    help = (
        "Build a deterministic demo city (Chengdu's real districts, generated streets, "
        "communities, grids, compounds, households and residents) and one demo account per role."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--residents", type=int, default=20_000, help="number of residents (default 20000)"
        )
        parser.add_argument(
            "--seed", type=int, default=1, help="random seed: same seed, same city (default 1)"
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="delete the existing city, people, role assignments and demo users first",
        )
        parser.add_argument(
            "--city-only",
            action="store_true",
            help="only the city, its people and the accounts: skip the apps' demo data",
        )
        parser.add_argument(
            "--password",
            default=accounts.DEMO_PASSWORD,
            help=f"password of the demo accounts (default {accounts.DEMO_PASSWORD})",
        )

    def handle(
        self, *args, residents, seed, reset: bool, password: str, city_only: bool = False, **options
    ):
        verbosity = options.get("verbosity", 1)
        if residents < 1:
            raise CommandError("--residents must be at least 1.")

        def log(msg: str) -> None:
            if verbosity >= 1:
                print(f"[seed] {msg}", file=sys.stderr, flush=True)

        t0 = time.monotonic()
        postgres = connection.vendor == "postgresql"
        with transaction.atomic():
            if not reset:
                existing = Area.objects.count()
                if existing:
                    raise CommandError(
                        f"The database already holds {existing:,} areas. Run "
                        "`shequ seed --reset ...` to replace them (and all people, places, "
                        "facilities and role assignments) with the demo city, or use an empty "
                        "database."
                    )
            if postgres:
                # Check foreign keys per statement: no queue of millions of deferred checks,
                # and none pending that would stop TRUNCATE.
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            if reset:
                tables = wipe()
                log(f"reset: emptied {', '.join(tables)}")
            log(f"seeding {residents:,} residents with seed {seed} into {connection.vendor}")
            seeder = CitySeeder(residents, seed, log=log)
            stats = seeder.run()
            demo = seeder.demo
            acc = accounts.accounts_for(demo.street, demo.community, demo.grid)
            accounts.create_accounts(acc, password)
            ctx = hooks.DemoContext(
                seed=seed,
                residents=residents,
                street=demo.street[0],
                community=demo.community[0],
                grid=demo.grid[0],
                log=log,
            )
            app_summaries = [] if city_only else hooks.run_all(ctx)
            if postgres:
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        elapsed = time.monotonic() - t0
        log(
            f"done in {elapsed:.1f} s: {stats.residents:,} residents, "
            f"{stats.households:,} households, {sum(stats.places.values()):,} places, "
            f"{sum(stats.areas.values()):,} areas, {stats.facilities:,} facilities"
        )
        self.print_summary(stats, acc, password, app_summaries)

    def print_summary(self, stats, acc, password: str, app_summaries: list[str]) -> None:
        out = self.stdout
        levels = ", ".join(f"{level} {n:,}" for level, n in stats.areas.items())
        places = ", ".join(f"{kind} {n:,}" for kind, n in stats.places.items())
        out.write(f"Areas: {levels}")
        out.write(f"Places: {places}")
        out.write(
            f"Households: {stats.households:,}; residents: {stats.residents:,}; "
            f"facilities: {stats.facilities:,}"
        )
        for line in app_summaries:
            out.write(line)
        out.write("")
        out.write("Demo accounts (one password for all):")
        rows = [("username", "password", "role", "area")]
        rows += [(a.username, password, a.role, f"{a.area_code} {a.area_name}") for a in acc]
        widths = [max(_width(r[i]) for r in rows) for i in range(3)]
        for r in rows:
            cells = [r[i] + " " * (widths[i] - _width(r[i])) for i in range(3)]
            out.write("  ".join([*cells, r[3]]).rstrip())
        with_code = [a.username for a in acc if twofactor.role_may_reveal(a.role)]
        if with_code:
            out.write("")
            out.write(
                f"Two-factor sign-in: {', '.join(with_code)} may reveal personal data, so after "
                "the password they are asked for a code."
            )
            out.write(
                f"  The demo's authenticator key (public, demo only): {accounts.demo_secret()}"
            )
            out.write("  Add it to an authenticator app, or run `.venv/bin/shequ demo_code`.")


def _width(text: str) -> int:
    """Display width: CJK characters take two columns."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)

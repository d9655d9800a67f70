"""``shequ link_people``: link every record no person holds yet into persons (incremental)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from shequ.people.linkage import LinkageConfigError, load_config
from shequ.people.services import link_pending


class Command(BaseCommand):
    help = (
        "Link the records no person holds yet against the existing persons and each other; "
        "person ids stay stable, steward decisions are honoured."
    )

    def add_arguments(self, parser):
        parser.add_argument("--config", help="TOML file merged over the shipped linkage.toml")

    def handle(self, *args, **opts):
        started = time.perf_counter()
        try:
            config = load_config(opts.get("config"))
        except LinkageConfigError as exc:
            raise CommandError(str(exc)) from exc
        outcome = link_pending(config=config)
        self.stdout.write(
            f"{outcome.pending} records to link: {outcome.linked_records} linked, "
            f"{outcome.new_persons} new persons, {outcome.merged_persons} merged, "
            f"{outcome.review_items} pairs for review "
            f"({time.perf_counter() - started:.1f} s)"
        )

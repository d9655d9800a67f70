"""``shequ source_feedback SOURCE --out FILE``: the records of a source that disagree with the
golden record (反馈), as a CSV its owner can act on. Personal fields are masked unless
``--reveal-as USER --reason TEXT`` names a user who may reveal them (the access is recorded)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from shequ.people.feedback import FeedbackRefused, write_feedback
from shequ.people.models import Source


class Command(BaseCommand):
    help = "Write the feedback file of one source: records that disagree with the golden record."

    def add_arguments(self, parser):
        parser.add_argument("source", help="source code, e.g. property_mgmt")
        parser.add_argument("--out", required=True, help="CSV file to write")
        parser.add_argument("--reveal-as", help="user whose reveal permission unmasks values")
        parser.add_argument("--reason", default="", help="why the plain values are needed")

    def handle(self, *args, source, out, **opts):
        src = Source.objects.filter(code=source).first()
        if src is None:
            raise CommandError(f"no source {source} has been imported")
        user = None
        if opts.get("reveal_as"):
            user = get_user_model().objects.filter(username=opts["reveal_as"]).first()
            if user is None:
                raise CommandError(f"no user named {opts['reveal_as']}")
        try:
            with open(out, "w", newline="", encoding="utf-8-sig") as fh:
                n = write_feedback(fh, src, reveal_user=user, reason=opts["reason"], channel="cli")
        except FeedbackRefused as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{n} rows of feedback for {source} written to {out}")

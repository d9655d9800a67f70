"""``shequ link DIR --out clusters.csv``: link the source files in DIR into persons.

Reads every source file in DIR that a shipped (or ``--sources``) definition names, with the
area tree ``DIR/geography.csv``, and writes ``source,record_id,cluster_id``. Needs no database:
the engine works in memory. ``--pairs FILE`` also writes every linked or uncertain pair with
its match weight and the level and weight of each comparison.
"""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from shequ.people.linkage import LinkageConfigError, link_records, load_config
from shequ.people.linkage.engine import standardise_directory
from shequ.people.sourcedefs import SourceDefinitionError, SourceFileError, builtin_definitions


class Command(BaseCommand):
    help = "Link the source files in DIR into persons and write source,record_id,cluster_id."

    def add_arguments(self, parser):
        parser.add_argument("directory", help="folder with the source files and geography.csv")
        parser.add_argument("--out", required=True, help="CSV file to write the clusters to")
        parser.add_argument("--geography", help="area tree CSV (default: DIR/geography.csv)")
        parser.add_argument("--sources", help="folder of source definitions (default: shipped)")
        parser.add_argument("--config", help="TOML file merged over the shipped linkage.toml")
        parser.add_argument("--pairs", help="also write linked and uncertain pairs, explained")
        parser.add_argument(
            "--report", help="also write a JSON report (model parameters, timings, counts)"
        )

    def handle(self, *args, **opts):
        directory = Path(opts["directory"])
        if not directory.is_dir():
            raise CommandError(f"{directory}: not a folder")
        started = time.perf_counter()
        try:
            config = load_config(opts.get("config"))
            definitions = builtin_definitions(opts.get("sources"))
            geography = Path(opts.get("geography") or directory / "geography.csv")
            if not geography.exists():
                raise CommandError(f"{geography}: the area tree file is missing")
            records = standardise_directory(directory, definitions=definitions, geography=geography)
            result = link_records(records, config)
        except (SourceDefinitionError, SourceFileError, LinkageConfigError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        except FileNotFoundError as exc:
            raise CommandError(str(exc)) from exc

        out = Path(opts["out"])
        out.parent.mkdir(parents=True, exist_ok=True)
        labels = result.cluster_labels()
        with open(out, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["source", "record_id", "cluster_id"])
            for rec, label in zip(records, labels, strict=True):
                writer.writerow([rec.source, rec.record_id, label])
        if opts.get("pairs"):
            self._write_pairs(result, Path(opts["pairs"]))
        elapsed = time.perf_counter() - started
        if opts.get("report"):
            report = {
                "records": len(records),
                "clusters": result.n_clusters,
                "candidate_pairs": len(result.i),
                "linked_pairs": int(result.linked.sum()),
                "review_pairs": len(result.review_pairs()),
                "seconds": round(elapsed, 3),
                "timings": {k: round(v, 3) for k, v in result.timings.items()},
                "blocking": result.blocking,
                "lambda": result.model.lam,
                "sessions": result.model.sessions,
                "parameters": result.model.describe(),
                "flagged_records": sum(1 for r in records if r.issues),
            }
            Path(opts["report"]).write_text(
                json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8"
            )
        self.stdout.write(
            f"{len(records)} records -> {result.n_clusters} persons "
            f"({int(result.linked.sum())} links, {len(result.review_pairs())} pairs for review) "
            f"in {elapsed:.1f} s; wrote {out}"
        )

    def _write_pairs(self, result, path: Path) -> None:
        keep = sorted(set(result.linked_pairs().tolist()) | set(result.review_pairs().tolist()))
        names = [c.name for c in result.comparisons]
        with open(path, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(
                [
                    "source_l",
                    "record_id_l",
                    "source_r",
                    "record_id_r",
                    "match_weight",
                    "match_probability",
                    "linked",
                    *[f"{n}_level" for n in names],
                    *[f"{n}_weight" for n in names],
                ]
            )
            for k in keep:
                e = result.explain(k)
                parts = e["comparisons"]
                writer.writerow(
                    [
                        *e["left"],
                        *e["right"],
                        e["match_weight"],
                        e["match_probability"],
                        int(e["linked"]),
                        *[p["level"] for p in parts],
                        *[p["weight"] for p in parts],
                    ]
                )

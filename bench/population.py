#!/usr/bin/env python3
"""Incremental linking figure of issue 3: the four lists imported one after another into the
store, each linked against the persons already there, scored against the one-shot run.

    .venv/bin/python bench/population.py ../shared/data/linkage/dev-20k

1. A fresh store (SQLite under a temporary ``SHEQU_VAR_DIR``, or ``--database-url``): the
   migrations, then the area tree ``DIR/geography.csv`` (``import_tree``).
2. The source files of DIR imported as batches in the order given (``--order``; default
   police, clinic, property, visit), exactly as ``shequ ingest SOURCE FILE`` does: rows kept,
   standardised, stored, then linked against the existing persons (``link_pending``). Each
   batch is timed; its linked records, new persons, review items and the model that linked it
   (``Batch.linkage_model``) are printed.
3. The store's persons as ``source,record_id,cluster_id`` (the person id), scored with
   ``../shared/tools/score_linkage.py``; unless ``--skip-oneshot``, the one-shot
   ``manage.py link DIR`` on the same files is scored in the same run for comparison.

Prints precision, recall and F1 (all pairs and cross-source pairs) for both, with the
conditions (CPU count and load, records, database).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SCORER = REPO.parent / "shared" / "tools" / "score_linkage.py"
ORDER = ["police_hukou", "clinic", "property_mgmt", "visit_forms"]


def score(scorer: Path, truth: Path, predicted: Path) -> dict:
    out = subprocess.run(
        [sys.executable, str(scorer), str(truth), str(predicted), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def run_store(directory: Path, order: list[str], out: Path) -> list[dict]:
    """Import the files in ``order`` into the (fresh) store; write the persons to ``out``."""
    import django

    django.setup()
    from django.core.management import call_command

    from shequ.people.ingest import ingest_file
    from shequ.people.models import RawRecord, ReviewItem

    quiet = io.StringIO()
    call_command("migrate", verbosity=0, interactive=False, stdout=quiet)
    call_command("import_tree", str(directory / "geography.csv"), verbosity=0, stdout=quiet)
    batches = []
    for source in order:
        path = directory / f"{source}.csv"
        if not path.exists():
            continue
        started = time.perf_counter()
        batch = ingest_file(source, path).batch
        seconds = time.perf_counter() - started
        batches.append(
            {
                "source": source,
                "rows": batch.rows,
                "seconds": round(seconds, 1),
                "linked_records": batch.linked_records,
                "new_persons": batch.new_persons,
                "review_items": ReviewItem.objects.filter(batch=batch).count(),
                "model": batch.linkage_model,
            }
        )
    with open(out, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["source", "record_id", "cluster_id"])
        for source, record_id, person in RawRecord.objects.values_list(
            "source__code", "record_id", "person_id"
        ).iterator():
            writer.writerow([source, record_id, f"P{person}"])
    return batches


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("directory", type=Path)
    ap.add_argument("--order", nargs="+", default=ORDER, help="sources, in import order")
    ap.add_argument("--scorer", type=Path, default=DEFAULT_SCORER)
    ap.add_argument("--database-url", help="an empty database to use (default: fresh SQLite)")
    ap.add_argument("--skip-oneshot", action="store_true", help="do not run `manage.py link`")
    ap.add_argument("--keep", type=Path, help="folder for the store and the predicted files")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    a = ap.parse_args(argv)
    directory = a.directory.resolve()
    truth = directory / "ground_truth.csv"
    if not truth.exists():
        ap.error(f"{truth}: no ground truth to score against")
    if not a.scorer.exists():
        ap.error(f"{a.scorer}: scorer not found (use --scorer)")
    unknown = sorted(set(a.order) - set(ORDER))
    if unknown:
        ap.error(f"--order: unknown source(s) {', '.join(unknown)}; known: {', '.join(ORDER)}")
    work = a.keep or Path(tempfile.mkdtemp(prefix="shequ-population-bench-"))
    work.mkdir(parents=True, exist_ok=True)

    os.environ["SHEQU_VAR_DIR"] = str(work / "var")
    os.environ["HUEY_IMMEDIATE"] = "1"
    if a.database_url:
        os.environ["DATABASE_URL"] = a.database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shequ.settings")
    sys.path.insert(0, str(REPO / "src"))

    results: dict = {}
    started = time.perf_counter()
    batches = run_store(directory, a.order, work / "store.csv")
    store_seconds = time.perf_counter() - started
    results["store"] = {
        "seconds": round(store_seconds, 1),
        "batches": batches,
        "score": score(a.scorer, truth, work / "store.csv"),
    }
    if not a.skip_oneshot:
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, str(REPO / "manage.py"), "link", str(directory), "--out",
             str(work / "oneshot.csv")],
            cwd=REPO, check=True, stdout=subprocess.DEVNULL, env=env,
        )  # fmt: skip
        results["one-shot"] = {
            "seconds": round(time.perf_counter() - started, 1),
            "score": score(a.scorer, truth, work / "oneshot.csv"),
        }
    from django.db import connection

    conditions = {
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "records": results["store"]["score"]["records"],
        "database": connection.vendor,
        "python": platform.python_version(),
        "data": str(directory),
        "order": a.order,
    }
    if a.json:
        print(json.dumps({"conditions": conditions, "results": results}, indent=1))
        return 0
    print("conditions: " + ", ".join(f"{k} {v}" for k, v in conditions.items()))
    print(f"{'batch':14} {'rows':>6} {'seconds':>8} {'linked':>7} {'new':>6} {'review':>6}  model")
    for b in batches:
        m = b["model"]
        model = m.get("mode", "")
        if m.get("fingerprint"):
            model += f" {m['fingerprint']} (on {m.get('estimated_on', 0):,} records)"
        print(
            f"{b['source']:14} {b['rows']:6d} {b['seconds']:8.1f} {b['linked_records']:7d} "
            f"{b['new_persons']:6d} {b['review_items']:6d}  {model}"
        )
    print(f"{'run':9} {'precision':>9} {'recall':>7} {'F1':>7} {'xsrc F1':>8} {'seconds':>8}")
    for name, r in results.items():
        m, x = r["score"]["all_pairs"], r["score"]["cross_source_pairs"]
        print(
            f"{name:9} {m['precision']:9.4f} {m['recall']:7.4f} {m['f1']:7.4f} {x['f1']:8.4f} "
            f"{r['seconds']:8.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Linkage figure of issue 3: Shequ's engine against a plain Splink model, same data, same run.

    .venv/bin/python bench/linkage.py ../shared/data/linkage/dev-20k

1. Runs the evaluation contract exactly as a user would: ``manage.py link DIR --out X.csv``
   in a fresh process (standardisation, blocking, EM, clustering, writing the file), timed
   from start to finish.
2. Runs the peer: a plain Splink model on DuckDB with Splink's standard comparisons on name,
   birth date, ID number, phone and address (light clean-up only: trimmed text, upper-case ID
   without spaces, phone digits, ISO birth dates), u by random sampling, m by EM on two
   blocking rules, connected components at a match-probability threshold chosen once on
   dev-20k (``--peer-threshold``).
3. Scores both with ``../shared/tools/score_linkage.py`` (``--scorer``) and prints precision,
   recall, F1 (all pairs and cross-source pairs) and records per second, with the conditions:
   CPU count and load, record count, versions.

Needs the ``bench`` extra (``pip install -e .[bench]``) for Splink; ``--skip-peer`` runs only
Shequ's engine.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import unicodedata
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SCORER = REPO.parent / "shared" / "tools" / "score_linkage.py"
# Chosen on dev-20k once (best all-pairs F1 of the peer over 0.5, 0.8, 0.9, 0.95, 0.99, 0.995,
# 0.999: 0.9 gave F1 0.805) and kept fixed.
PEER_THRESHOLD = 0.9

SOURCES = {
    # file stem: (record id, name, birth date, id number, phone, address columns)
    "police_hukou": ("RYBH", "XM", "CSRQ", "GMSFHM", None, ("HJDZ_DZMC",)),
    "property_mgmt": (
        "登记编号",
        "住户姓名",
        None,
        "证件号码",
        "联系电话",
        ("小区名称", "楼栋房号"),
    ),
    "visit_forms": ("form_id", "name", None, "id_no", "phone", ("address",)),
    "clinic": ("patient_no", "patient_name", "birth_date", "id_card", "mobile", ("home_address",)),
}


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _git_rev() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return "?"


def score(scorer: Path, truth: Path, predicted: Path) -> dict:
    out = subprocess.run(
        [sys.executable, str(scorer), str(truth), str(predicted), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


# ----------------------------------------------------------------------------- Shequ
def run_shequ(directory: Path, out: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, str(REPO / "manage.py"), "link", str(directory), "--out", str(out)],
        cwd=REPO,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


# ----------------------------------------------------------------------------- peer
def _plain_date(raw: str) -> str | None:
    raw = (raw or "").strip()
    for pattern in (r"^(\d{4})(\d{2})(\d{2})$", r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$"):
        match = re.match(pattern, raw)
        if match:
            try:
                return dt.date(*map(int, match.groups())).isoformat()
            except ValueError:
                return None
    return None


def _plain_phone(raw: str) -> str | None:
    first = re.split(r"[/;,]", raw or "")[0]
    digits = re.sub(r"\D", "", first)
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits or None


def _plain(text: str) -> str | None:
    text = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text or "")).strip()
    return text or None


def peer_table(directory: Path) -> dict[str, list]:
    cols: dict[str, list] = {
        k: []
        for k in ("uid", "source", "record_id", "name", "dob", "id_number", "phone", "address")
    }
    for stem, (rid, name, dob, idn, phone, address) in SOURCES.items():
        path = directory / f"{stem}.csv"
        if not path.exists():
            continue
        with open(path, newline="", encoding="utf-8-sig") as fh:
            for row in csv.DictReader(fh):
                cols["uid"].append(f"{stem}:{row[rid]}")
                cols["source"].append(stem)
                cols["record_id"].append(row[rid])
                cols["name"].append(_plain(row[name]))
                cols["dob"].append(_plain_date(row[dob]) if dob else None)
                id_text = re.sub(r"\s", "", unicodedata.normalize("NFKC", row[idn] or "")).upper()
                cols["id_number"].append(id_text or None)
                cols["phone"].append(_plain_phone(row[phone]) if phone else None)
                cols["address"].append(_plain("".join(row[c] for c in address)))
    return cols


def run_peer(directory: Path, out: Path, threshold: float, predictions: Path | None = None):
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    started = time.perf_counter()
    table = peer_table(directory)
    db_api = DuckDBAPI()
    df = db_api.register(table)
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="uid",
        comparisons=[
            cl.NameComparison("name"),
            cl.DateOfBirthComparison("dob", input_is_string=True),
            cl.LevenshteinAtThresholds("id_number", [1, 2]),
            cl.ExactMatch("phone").configure(term_frequency_adjustments=True),
            cl.LevenshteinAtThresholds("address", [3, 8]),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("name"),
            block_on("id_number"),
            block_on("phone"),
            block_on("dob"),
            block_on("address"),
        ],
    )
    linker = Linker(df, settings, log_level=40)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("id_number"), block_on("name", "dob")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("name"))
    low = min(threshold, 0.5)
    pairs = linker.inference.predict(threshold_match_probability=low)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        pairs, threshold_match_probability=threshold
    )
    rows = clusters.as_dict()
    with open(out, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["source", "record_id", "cluster_id"])
        for uid, cluster_id in zip(rows["uid"], rows["cluster_id"], strict=True):
            source, _, record_id = uid.partition(":")
            writer.writerow([source, record_id, cluster_id])
    elapsed = time.perf_counter() - started
    if predictions is not None:  # for choosing the threshold: keep the scored pairs
        pairs_dict = pairs.as_dict()
        with open(predictions, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["uid_l", "uid_r", "match_probability"])
            for a, b, p in zip(
                pairs_dict["uid_l"],
                pairs_dict["uid_r"],
                pairs_dict["match_probability"],
                strict=True,
            ):
                writer.writerow([a, b, p])
    return elapsed, len(table["uid"])


# ----------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("directory", type=Path)
    ap.add_argument("--scorer", type=Path, default=DEFAULT_SCORER)
    ap.add_argument("--truth", type=Path, help="default: DIR/ground_truth.csv")
    ap.add_argument("--peer-threshold", type=float, default=PEER_THRESHOLD)
    ap.add_argument("--skip-peer", action="store_true")
    ap.add_argument("--keep", type=Path, help="folder to keep the predicted files in")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    a = ap.parse_args(argv)
    directory = a.directory.resolve()
    truth = a.truth or directory / "ground_truth.csv"
    if not truth.exists():
        ap.error(f"{truth}: no ground truth to score against")
    if not a.scorer.exists():
        ap.error(f"{a.scorer}: scorer not found (use --scorer)")
    work = a.keep or Path(tempfile.mkdtemp(prefix="shequ-linkage-bench-"))
    work.mkdir(parents=True, exist_ok=True)

    results = {}
    seconds = run_shequ(directory, work / "shequ.csv")
    s = score(a.scorer, truth, work / "shequ.csv")
    results["shequ"] = {"seconds": seconds, "score": s}
    if not a.skip_peer:
        peer_seconds, _ = run_peer(directory, work / "splink.csv", a.peer_threshold)
        results["splink"] = {
            "seconds": peer_seconds,
            "score": score(a.scorer, truth, work / "splink.csv"),
            "threshold": a.peer_threshold,
        }
    records = s["records"]
    conditions = {
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "records": records,
        "persons": s["persons"],
        "python": platform.python_version(),
        "shequ": f"{_version('shequ')} ({_git_rev()})",
        "numpy": _version("numpy"),
        "rapidfuzz": _version("rapidfuzz"),
        "duckdb": _version("duckdb"),
        "splink": _version("splink"),
        "data": str(directory),
    }
    if a.json:
        print(json.dumps({"conditions": conditions, "results": results}, indent=1))
        return 0
    print("conditions: " + ", ".join(f"{k} {v}" for k, v in conditions.items()))
    print(
        f"{'engine':8} {'precision':>9} {'recall':>7} {'F1':>7} {'xsrc F1':>8} "
        f"{'clusters':>8} {'seconds':>8} {'records/s':>10}"
    )
    for engine, r in results.items():
        m, x = r["score"]["all_pairs"], r["score"]["cross_source_pairs"]
        print(
            f"{engine:8} {m['precision']:9.4f} {m['recall']:7.4f} {m['f1']:7.4f} {x['f1']:8.4f} "
            f"{r['score']['clusters']:8d} {r['seconds']:8.2f} {records / r['seconds']:10.0f}"
        )
    if "splink" in results:
        print(f"(peer threshold: match probability {results['splink']['threshold']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

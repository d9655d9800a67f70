#!/usr/bin/env python3
"""Scale figure of issue 3: a 1,000,000-person set linked in one run, wall time and peak memory.

    .venv/bin/python bench/gen_linkage.py /tmp/g1m --persons 1000000 --seed 1
    .venv/bin/python bench/linkage_scale.py /tmp/g1m

Runs the evaluation contract ``manage.py link DIR --out clusters.csv --report report.json`` in
a child process (standardisation in forked workers, blocking, comparisons, EM, clustering,
writing the file), and reports, from the operating system's accounting of that process and
its workers: wall time, CPU time (user + system) and the share of the machine's CPUs it got,
and the peak resident memory of the largest process (what ``/usr/bin/time -v`` calls the
maximum resident set size). The engine's own step timings come from the report. Then the
clusters are scored with ``../shared/tools/score_linkage.py`` against ``DIR/ground_truth.csv``
(``--skip-score`` to leave that out). The load average before and after is printed with the
figures: other jobs on the same cores slow the run down.

The issue's target: under 10 minutes and under 8 GB on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SCORER = REPO.parent / "shared" / "tools" / "score_linkage.py"
TARGET_SECONDS, TARGET_GB = 600, 8.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("directory", type=Path, help="a set written by bench/gen_linkage.py")
    ap.add_argument("--scorer", type=Path, default=DEFAULT_SCORER)
    ap.add_argument("--skip-score", action="store_true")
    ap.add_argument("--keep", type=Path, help="folder for clusters.csv and report.json")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    a = ap.parse_args(argv)
    directory = a.directory.resolve()
    if not (directory / "geography.csv").exists():
        ap.error(f"{directory}: no geography.csv (write the set with bench/gen_linkage.py)")
    work = a.keep or Path(tempfile.mkdtemp(prefix="shequ-linkage-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    clusters, report = work / "clusters.csv", work / "report.json"

    load_before = os.getloadavg()
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, str(REPO / "manage.py"), "link", str(directory), "--out", str(clusters),
         "--report", str(report)],
        cwd=REPO, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # the link process and its workers
    load_after = os.getloadavg()
    engine = json.loads(report.read_text(encoding="utf-8"))
    cpu = usage.ru_utime + usage.ru_stime
    result = {
        "records": engine["records"],
        "persons": engine["clusters"],
        "candidate_pairs": engine["candidate_pairs"],
        "wall_seconds": round(wall, 1),
        "cpu_seconds": round(cpu, 1),
        "cpu_share": round(cpu / wall / (os.cpu_count() or 1), 2),
        "peak_rss_gb": round(usage.ru_maxrss / 1024**2, 2),  # ru_maxrss is in KiB on Linux
        "steps": engine["timings"],
        "blocking": engine["blocking"],
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "cpus": os.cpu_count(),
    }
    if not a.skip_score:
        out = subprocess.run(
            [sys.executable, str(a.scorer), str(directory / "ground_truth.csv"), str(clusters),
             "--json"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        result["score"] = json.loads(out.stdout)["all_pairs"]
    if a.json:
        print(json.dumps(result, indent=1))
        return 0
    print(
        f"{result['records']:,} records -> {result['persons']:,} persons, "
        f"{result['candidate_pairs']:,} candidate pairs"
    )
    print(
        f"wall {wall / 60:.1f} min (target {TARGET_SECONDS // 60} min), CPU {cpu:.0f} s "
        f"({result['cpu_share']:.0%} of {result['cpus']} CPUs), peak RSS "
        f"{result['peak_rss_gb']:.2f} GB (target {TARGET_GB:.0f} GB)"
    )
    print("steps (s): " + ", ".join(f"{k} {v:.0f}" for k, v in result["steps"].items()))
    print(
        f"load average before {result['load_average_before']}, after {result['load_average_after']}"
    )
    if "score" in result:
        s = result["score"]
        print(f"precision {s['precision']:.4f} recall {s['recall']:.4f} F1 {s['f1']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

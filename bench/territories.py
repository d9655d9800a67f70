"""Territory planning (shequ.campaigns.planner): time, workload imbalance and walking distance,
beside a plain baseline (round-robin by building) on the same input.

    .venv/bin/python bench/territories.py              # community 2,000 / 10 teams; street 30,000
    .venv/bin/python bench/territories.py --processes 1

The input is generated like the demo city (``shequ.demo.generate``): compounds of commercial
towers (1-3 units x 11-33 floors x 2-4 rooms), old walk-ups and resettlement blocks, spread over
a community of about 1 km² (a street: 12 communities side by side, planned in parallel worker
processes, one per core). About 8 % of dwellings have nobody registered (they count as one
visit); 5 % hold two households. The planner is the code the service runs, on the same plain
data the service loads from the database (loading and writing are not timed here).

Figures: planning time (wall clock); imbalance = the largest deviation of a team's households
from the mean, in %; walk = the sum over teams of the straight-line path through the team's
buildings in its route order, in km. The baseline deals buildings (in code order) to teams in
turn and walks them in that order.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from shequ.campaigns import planner
from shequ.campaigns.planner import Dwelling


def building_shapes(kind: str, rng: random.Random) -> tuple[int, int, int]:
    if kind == "tower":
        return rng.randint(1, 3), rng.randint(11, 33), rng.randint(2, 4)
    if kind == "old":
        return rng.randint(2, 4), rng.randint(6, 7), 2
    return 2, rng.randint(6, 18), rng.randint(2, 4)


def community(
    target: int, seed: int, origin=(0.0, 0.0), first_id=1, first_building=1, first_compound=1
):
    """About ``target`` dwellings in compounds over a ~1 km square starting at ``origin``."""
    rng = random.Random(seed)
    out: list[Dwelling] = []
    pk, building, compound = first_id, first_building, first_compound
    while len(out) < target:
        kind = rng.choice(["tower", "old", "old", "resettlement"])
        cx = origin[0] + rng.uniform(0, 1000)
        cy = origin[1] + rng.uniform(0, 1000)
        for _b in range(rng.randint(2, 8)):
            units, floors, rooms = building_shapes(kind, rng)
            bx, by = cx + rng.uniform(-80, 80), cy + rng.uniform(-80, 80)
            for u in range(1, units + 1):
                for f in range(1, floors + 1):
                    for _r in range(rooms):
                        roll = rng.random()
                        load = 1 if roll < 0.08 else (2 if roll > 0.95 else 1)
                        out.append(Dwelling(pk, building, compound, str(u), f, load, bx, by))
                        pk += 1
                        if len(out) >= target:
                            return out
            building += 1
        compound += 1
    return out


def street(target: int, communities: int, seed: int):
    jobs = []
    per = target // communities
    pk = b = c = 1
    for i in range(communities):
        origin = ((i % 4) * 1100.0, (i // 4) * 1100.0)
        dwellings = community(per, seed + i, origin, pk, b, c)
        pk = dwellings[-1].id + 1
        b = max(d.building for d in dwellings) + 1
        c = max(d.compound for d in dwellings) + 1
        jobs.append((f"community-{i + 1:02d}", dwellings, 10))
    return jobs


def report(name: str, dwellings, plans, baselines, seconds: float, limit: float) -> bool:
    imb = max(planner.imbalance(p) for p in plans)
    base_imb = max(planner.imbalance(p) for p in baselines)
    walk = sum(t.distance for p in plans for t in p) / 1000
    base_walk = sum(t.distance for p in baselines for t in p) / 1000
    teams = sum(len(p) for p in plans)
    households = sum(d.load for d in dwellings)
    ok = seconds < limit and imb <= 0.10
    print(f"\n{name}: {len(dwellings):,} dwellings, {households:,} households, {teams} teams")
    print(f"  planning time        {seconds:8.3f} s   (target < {limit:.0f} s)")
    print(f"  {'':20} {'planner':>10} {'round-robin':>12}")
    print(f"  {'imbalance (max)':20} {100 * imb:9.1f}% {100 * base_imb:11.1f}%")
    print(f"  {'walking distance':20} {walk:8.1f}km {base_walk:10.1f}km")
    print(f"  {'result':20} {'OK' if ok else 'MISSED'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(
        f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores; "
        f"{args.processes} worker processes for the street"
    )

    dwellings = community(2000, args.seed)
    t0 = time.perf_counter()
    plan = planner.plan(dwellings, 10)
    seconds = time.perf_counter() - t0
    ok = report("Community", dwellings, [plan], [planner.round_robin(dwellings, 10)], seconds, 2.0)

    jobs = street(30_000, 12, args.seed)
    all_dwellings = [d for _k, ds, _t in jobs for d in ds]
    t0 = time.perf_counter()
    plans = planner.plan_many(jobs, processes=args.processes)
    seconds = time.perf_counter() - t0
    baselines = [planner.round_robin(ds, t) for _k, ds, t in jobs]
    ok &= report(
        "Street (12 communities x 10 teams)",
        all_dwellings,
        list(plans.values()),
        baselines,
        seconds,
        60.0,
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

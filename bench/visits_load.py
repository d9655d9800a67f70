"""The visit sync API under load: visit submissions per second on PostgreSQL behind gunicorn.

    .venv/bin/python bench/visits_load.py                      # 15 s, one visit per request
    .venv/bin/python bench/visits_load.py --batch 5            # a phone flushing its queue
    .venv/bin/python bench/visits_load.py --keep ... ; ... --reuse   # prepare once, run again

A scratch database ``bench_visits`` is created on the server of ``DATABASE_URL`` (default
postgres://postgres@127.0.0.1:5432/postgres), migrated and seeded with the demo city (its
campaign: a community of ~1,350 dwellings in round 2), then dropped (unless ``--keep``).
gunicorn serves the app (``--workers`` processes x ``--threads`` threads; ``bench/_server.py``);
client threads in this process post visits with token authentication over keep-alive
connections, each request a batch of ``--batch`` visits (1 = one phone sending one visit), each
visit a new UUID on a random task of the open round, with the full form answered. The
dashboards' rollups follow every visit (their pending changes are applied each second).

Client and server share the machine's cores (and whatever else runs on it): besides the rate,
the server's CPU per request (gunicorn's processes and the database's backends) is printed, and
what rate that CPU cost allows on the machine's cores. Printed too: latency percentiles, and
that every visit sent was stored exactly once.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import statistics
import sys
import threading
import time
import uuid

import psycopg
from _server import Gunicorn, ScratchDatabase, load_average, server_cpu

SCRATCH_DB = "bench_visits"
TARGET = 200  # visits/s (issue 6)
ANSWERS = {
    "temperature": 36.6,
    "came_from_outside": False,
    "people_home": 3,
    "elderly_alone": False,
    "disability_needs_help": False,
}
VISITED_AT = "2024-01-01T10:00:00+08:00"
SETUP = (
    "import json\n"
    "from rest_framework.authtoken.models import Token\n"
    "from django.contrib.auth import get_user_model\n"
    "from shequ.campaigns.models import Campaign, VisitTask\n"
    "u = get_user_model().objects.get(username='community')\n"
    "t, _ = Token.objects.get_or_create(user=u)\n"
    "r = Campaign.objects.get().open_round()\n"
    "ids = list(VisitTask.objects.filter(round=r).values_list('id', flat=True))\n"
    "print(json.dumps({'token': t.key, 'tasks': ids}))\n"
)


def client(port, token, tasks, batch, stop_at, latencies, sent, errors, seed):
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    while time.monotonic() < stop_at:
        visits = [
            {
                "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "task": rng.choice(tasks),
                "outcome": "visited",
                "answers": ANSWERS,
                "visited_at": VISITED_AT,
            }
            for _ in range(batch)
        ]
        body = json.dumps({"visits": visits})
        t0 = time.perf_counter()
        try:
            conn.request("POST", "/api/v1/campaign-visits/sync/", body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException):
            errors.append("connection")
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        latencies.append(time.perf_counter() - t0)
        if response.status != 200:
            errors.append(response.status)
            continue
        results = json.loads(payload)["results"]
        if any(r["status"] != "created" for r in results):
            errors.append("not created")
        sent.extend(v["uuid"] for v in visits)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--batch", type=int, default=1, help="visits per request")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--residents", type=int, default=5000, help="of the demo city")
    parser.add_argument("--database", default=SCRATCH_DB, help="the scratch database's name")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--reuse", action="store_true", help="reuse a kept scratch database")
    args = parser.parse_args()

    db = ScratchDatabase(args.database)
    try:
        if args.reuse:
            db.manage("migrate")  # the code may have new migrations since
        else:
            db.create()
            print(f"preparing {db.url.split('@')[-1]}: migrate, seed --residents {args.residents}")
            db.prepare(args.residents)
        data = db.shell_json(SETUP)
        token, tasks = data["token"], data["tasks"]
        with Gunicorn(db.env(), workers=args.workers, threads=args.threads, port=args.port) as srv:
            # One request first (each worker imports lazily), not counted.
            base = random.SystemRandom().getrandbits(64)  # new UUIDs on every run (--reuse)
            client(srv.port, token, tasks, 1, time.monotonic() + 1, [], [], [], base - 1)
            with psycopg.connect(db.url) as conn:
                stored_before = conn.execute("SELECT count(*) FROM campaigns_visit").fetchone()[0]
            load = load_average()
            latencies: list[float] = []
            sent: list[str] = []
            errors: list = []
            before = server_cpu(srv, db)
            client0 = time.process_time()
            stop_at = time.monotonic() + args.seconds
            threads = [
                threading.Thread(
                    target=client,
                    args=(srv.port, token, tasks, args.batch, stop_at, latencies, sent, errors),
                    kwargs={"seed": base + i},
                )
                for i in range(args.clients)
            ]
            t0 = time.monotonic()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.monotonic() - t0
            time.sleep(1.5)  # the rollups' pending changes (applied each second) count too
            spent = server_cpu(srv, db) - before
            client_cpu = time.process_time() - client0
            if errors:
                print(f"server log {srv.log}, its end:\n{srv.log_tail()}")
            description = srv.description
        with psycopg.connect(db.url) as conn:
            rows, distinct = conn.execute(
                "SELECT count(*), count(DISTINCT uuid) FROM campaigns_visit"
            ).fetchone()
            stored = conn.execute(
                "SELECT count(*) FROM campaigns_visit WHERE uuid = ANY(%s::uuid[])", (sent,)
            ).fetchone()[0]
        version = db.server_version()
        lat = sorted(latencies)
        pct = lambda p: 1000 * lat[min(len(lat) - 1, int(p * len(lat)))]  # noqa: E731
        rate = len(sent) / elapsed
        per_request = (spent.app + spent.db) / len(lat) if lat else 0
        cores = os.cpu_count() or 1
        print(
            f"\nConditions: Python {platform.python_version()}, {cores} cores shared by client "
            f"and server (and other users of the machine: {load} before the run); PostgreSQL "
            f"{version} on 127.0.0.1; {description}; {args.clients} client threads in this "
            f"process, keep-alive, token auth; {args.batch} visit(s) per request; "
            f"{len(tasks):,} open tasks; {args.seconds:.0f} s"
        )
        print(f"  requests            {len(lat):8,}  ({len(lat) / elapsed:,.0f}/s)")
        print(f"  visits submitted    {len(sent):8,}  ({rate:,.0f}/s; target {TARGET}/s)")
        if lat:
            print(
                f"  latency ms          p50 {pct(0.5):.0f}  p95 {pct(0.95):.0f}  "
                f"p99 {pct(0.99):.0f}  mean {1000 * statistics.mean(lat):.0f}"
            )
            print(f"  {spent.per_request(len(lat))}; client {1000 * client_cpu / len(lat):.1f} ms")
            print(
                f"  capacity            {cores} cores / (server + client CPU per request) = "
                f"{cores / (per_request + client_cpu / len(lat)):,.0f} requests/s if nothing "
                f"else ran on the machine"
            )
        print(f"  errors              {len(errors)}")
        new = rows - stored_before
        print(
            f"  stored              {stored:,} of the {len(sent):,} sent; {new:,} new rows, "
            f"{distinct:,} distinct UUIDs in {rows:,} rows"
        )
        ok = rate >= TARGET and not errors and stored == len(sent) == new and rows == distinct
        print(f"  result              {'OK' if ok else 'MISSED'}")
        return 0 if ok else 1
    finally:
        if not args.keep:
            db.drop()


if __name__ == "__main__":
    sys.exit(main())

"""The visit sync API under load: visit submissions per second on PostgreSQL behind gunicorn.

    .venv/bin/python bench/visits_load.py                      # 15 s, one visit per request
    .venv/bin/python bench/visits_load.py --batch 5            # a phone flushing its queue
    .venv/bin/python bench/visits_load.py --keep ... ; ... --reuse   # prepare once, run again

A scratch database ``bench_visits`` is created on the server of ``DATABASE_URL`` (default
postgres://postgres@127.0.0.1:5432/postgres), migrated and seeded with the demo city (its
campaign: a community of ~1,350 dwellings in round 2), then dropped (unless ``--keep``).
gunicorn serves the app (``--workers`` processes x ``--threads`` threads; ``bench/_server.py``).
The load comes from wrk (``apt-get install wrk``; ``make bench-tools``), a load generator
written in C, so that the client takes little of the cores the server needs: ``bench/visits.lua``
posts visits with token authentication over keep-alive connections, each request a batch of
``--batch`` visits (1 = one phone sending one visit), each visit a new UUID on a random task of
the open round, with the full form answered. The dashboards' rollups follow every visit (their
pending changes are applied each second).

Client and server share the machine's cores (and whatever else runs on it): besides the rate,
the server's CPU per request (gunicorn's processes and the database's backends) and the
client's are printed, and what rate that CPU cost allows on the machine's cores. Printed too:
latency percentiles, and that every visit answered ``created`` was stored exactly once.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import secrets
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from _server import WRK, Gunicorn, ScratchDatabase, db_host, load_average, run_wrk, server_cpu

LUA = Path(__file__).with_name("visits.lua")
SYNC = "/api/v1/campaign-visits/sync/"
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


def warm_up(port, token, task) -> None:
    """One request per worker thread before the run (each worker imports lazily)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    for _ in range(8):
        visit = {"uuid": str(uuid.uuid4()), "task": task, "outcome": "visited",
                 "answers": ANSWERS, "visited_at": VISITED_AT}  # fmt: skip
        conn.request("POST", SYNC, body=json.dumps({"visits": [visit]}), headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"warm-up request answered {response.status}")


def run_visits(port, token, tasks, args, run: str) -> tuple[dict, float]:
    """wrk with visits.lua; its RESULT line, and the CPU seconds wrk used. Every visit UUID of
    the run starts with ``run`` (8 hex digits)."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("\n".join(map(str, tasks)))
    try:
        return run_wrk(
            port,
            LUA,
            {
                "VISITS_TOKEN": token,
                "VISITS_TASKS": f.name,
                "VISITS_BATCH": str(args.batch),
                "VISITS_RUN": run,
            },
            threads=args.client_threads,
            connections=args.clients,
            seconds=args.seconds,
        )
    finally:
        os.unlink(f.name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=16, help="wrk's connections")
    parser.add_argument("--client-threads", type=int, default=2, help="wrk's threads")
    parser.add_argument("--batch", type=int, default=1, help="visits per request")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="per gunicorn worker")
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--residents", type=int, default=5000, help="of the demo city")
    parser.add_argument("--database", default=SCRATCH_DB, help="the scratch database's name")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--reuse", action="store_true", help="reuse a kept scratch database")
    args = parser.parse_args()
    if not WRK:
        parser.error("wrk is not installed: apt-get install wrk (or: make bench-tools)")

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
            warm_up(srv.port, token, tasks[0])
            with psycopg.connect(db.url) as conn:
                stored_before = conn.execute("SELECT count(*) FROM campaigns_visit").fetchone()[0]
            load = load_average()
            before = server_cpu(srv, db)
            run = secrets.token_hex(4)
            result, client_cpu = run_visits(srv.port, token, tasks, args, run)
            time.sleep(1.5)  # the rollups' pending changes (applied each second) count too
            spent = server_cpu(srv, db) - before
            failed = result["failed"] + result["socket_errors"]
            if failed:
                print(f"server log {srv.log}, its end:\n{srv.log_tail()}")
            description = srv.description
        with psycopg.connect(db.url) as conn:
            rows, distinct = conn.execute(
                "SELECT count(*), count(DISTINCT uuid) FROM campaigns_visit"
            ).fetchone()
            stored = conn.execute(
                "SELECT count(*) FROM campaigns_visit WHERE uuid::text LIKE %s", (f"{run}-%",)
            ).fetchone()[0]
        version = db.server_version()
        requests = result["requests"]
        elapsed = result["seconds"]
        created = result["created"]
        rate = created / elapsed
        cores = os.cpu_count() or 1
        print(
            f"\nConditions: Python {platform.python_version()}, {cores} cores shared by client "
            f"and server (and other users of the machine: {load} before the run); PostgreSQL "
            f"{version} on {db_host(db.url)}; {description}; wrk {args.client_threads} threads x "
            f"{args.clients} keep-alive connections (closed loop), token auth; {args.batch} "
            f"visit(s) per request; {len(tasks):,} open tasks; {args.seconds:.0f} s"
        )
        print(f"  requests            {requests:8,}  ({requests / elapsed:,.0f}/s)")
        print(f"  visits stored       {created:8,}  ({rate:,.0f}/s; target {TARGET}/s)")
        print(
            f"  latency ms          p50 {result['p50']:.0f}  p95 {result['p95']:.0f}  "
            f"p99 {result['p99']:.0f}  mean {result['mean']:.0f}"
        )
        if requests:
            per_request = (spent.app + spent.db) / requests
            client_ms = 1000 * client_cpu / requests
            print(f"  {spent.per_request(requests)}; client (wrk) {client_ms:.2f} ms")
            print(
                f"  capacity            {cores} cores / (server + client CPU per request) = "
                f"{cores / (per_request + client_cpu / requests):,.0f} requests/s if nothing "
                f"else ran on the machine"
            )
        print(
            f"  errors              {result['failed']} answers other than 200, "
            f"{result['socket_errors']} socket errors, {result['refused']} visits not created"
        )
        new = rows - stored_before
        print(
            f"  stored              {stored:,} of this run (the {created:,} answered created, "
            f"and those in flight when wrk stopped); {new:,} new rows, {distinct:,} distinct "
            f"UUIDs in {rows:,} rows"
        )
        ok = (
            rate >= TARGET
            and not failed
            and not result["refused"]
            and created <= stored <= created + args.clients * args.batch
            and stored == new
            and rows == distinct
        )
        print(f"  result              {'OK' if ok else 'MISSED'}")
        return 0 if ok else 1
    finally:
        if not args.keep:
            db.drop()


if __name__ == "__main__":
    sys.exit(main())

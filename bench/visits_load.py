"""The visit sync API under load: visit submissions per second on PostgreSQL behind gunicorn.

    .venv/bin/python bench/visits_load.py                      # 20 s, 16 client threads
    .venv/bin/python bench/visits_load.py --seconds 30 --batch 5 --workers 2 --threads 8

A scratch database ``shequ_bench_visits`` is created on the server of ``DATABASE_URL``
(default postgres://postgres@127.0.0.1:5432/postgres), migrated and seeded with the demo city
(its campaign: a community of ~1,350 dwellings in round 2), then dropped (unless ``--keep``).
gunicorn serves the app (``--workers`` processes x ``--threads`` threads); client threads in
this process post visits with token authentication over keep-alive connections, each request a
batch of ``--batch`` visits (1 = one phone sending one visit), each visit a new UUID on a task of
the open round, with the full form answered. Client and server share the machine's cores.
Printed: requests and visits per second, latency percentiles, and that every visit sent was
stored exactly once.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
SCRATCH_DB = "shequ_bench_visits"
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"
ANSWERS = {
    "temperature": 36.6,
    "came_from_outside": False,
    "people_home": 3,
    "elderly_alone": False,
    "disability_needs_help": False,
}


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def manage(env, *args, quiet=True):
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL if quiet else None,
        stderr=subprocess.DEVNULL if quiet else None,
    )


def setup(env) -> tuple[str, list[int]]:
    script = (
        "from rest_framework.authtoken.models import Token\n"
        "from django.contrib.auth import get_user_model\n"
        "from shequ.campaigns.models import Campaign, VisitTask\n"
        "u = get_user_model().objects.get(username='community')\n"
        "t, _ = Token.objects.get_or_create(user=u)\n"
        "c = Campaign.objects.get()\n"
        "r = c.open_round()\n"
        "ids = list(VisitTask.objects.filter(round=r).values_list('id', flat=True))\n"
        "import json; print(json.dumps({'token': t.key, 'tasks': ids}))\n"
    )
    out = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "shell", "-c", script],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    data = json.loads(out.strip().splitlines()[-1])
    return data["token"], data["tasks"]


def wait_for(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/accounts/login/")
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


def client(port, token, tasks, batch, stop_at, latencies, sent, errors, seed):
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    while time.monotonic() < stop_at:
        visits = [
            {
                "uuid": str(uuid.uuid4()),
                "task": rng.choice(tasks),
                "outcome": "visited",
                "answers": ANSWERS,
                "visited_at": "2024-01-01T10:00:00+08:00",
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
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--residents", type=int, default=20000)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    if not args.port:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            args.port = probe.getsockname()[1]
    server = os.environ.get("DATABASE_URL", DEFAULT_SERVER)
    if not server.startswith("postgres"):
        server = DEFAULT_SERVER
    url = with_database(server, SCRATCH_DB)
    with psycopg.connect(with_database(server, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{SCRATCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{SCRATCH_DB}"')
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_DEBUG": "0", "DEBUG": "0"}
    gunicorn = None
    try:
        print(f"preparing {url.split('@')[-1]}: migrate, seed --residents {args.residents}")
        manage(env, "migrate")
        manage(env, "seed", "--residents", str(args.residents), "--seed", "1")
        token, tasks = setup(env)
        gunicorn = subprocess.Popen(
            [
                str(ROOT / ".venv" / "bin" / "gunicorn"),
                "shequ.wsgi:application",
                "--bind",
                f"127.0.0.1:{args.port}",
                "--workers",
                str(args.workers),
                "--threads",
                str(args.threads),
                "--log-level",
                "warning",
            ],
            env={**env, "PYTHONPATH": str(ROOT / "src")},
            cwd=ROOT,
        )
        wait_for(args.port)
        latencies: list[float] = []
        sent: list[str] = []
        errors: list = []
        stop_at = time.monotonic() + args.seconds
        threads = [
            threading.Thread(
                target=client,
                args=(args.port, token, tasks, args.batch, stop_at, latencies, sent, errors, i),
            )
            for i in range(args.clients)
        ]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - t0
        with psycopg.connect(url) as conn:
            stored = conn.execute(
                "SELECT count(*), count(DISTINCT uuid) FROM campaigns_visit "
                "WHERE visited_at = '2024-01-01T02:00:00+00:00'"
            ).fetchone()
            version = conn.execute("SHOW server_version").fetchone()[0]
        lat = sorted(latencies)
        pct = lambda p: 1000 * lat[min(len(lat) - 1, int(p * len(lat)))]  # noqa: E731
        rate = len(sent) / elapsed
        print(
            f"\nConditions: Python {platform.python_version()}, {os.cpu_count()} cores shared by "
            f"client and server; PostgreSQL {version} on 127.0.0.1; gunicorn {args.workers} "
            f"workers x {args.threads} threads; {args.clients} client threads, keep-alive, "
            f"token auth; {args.batch} visit(s) per request; {len(tasks):,} open tasks; "
            f"{args.seconds:.0f} s"
        )
        print(f"  requests            {len(latencies):8,}  ({len(latencies) / elapsed:,.0f}/s)")
        print(f"  visits submitted    {len(sent):8,}  ({rate:,.0f}/s; target 200/s)")
        if lat:
            print(
                f"  latency ms          p50 {pct(0.5):.0f}  p95 {pct(0.95):.0f}  "
                f"p99 {pct(0.99):.0f}  mean {1000 * statistics.mean(lat):.0f}"
            )
        print(f"  errors              {len(errors)}")
        print(f"  stored              {stored[0]:,} rows, {stored[1]:,} distinct UUIDs")
        ok = rate >= 200 and not errors and stored[0] == stored[1] == len(sent)
        print(f"  result              {'OK' if ok else 'MISSED'}")
        return 0 if ok else 1
    finally:
        if gunicorn is not None:
            gunicorn.terminate()
            gunicorn.wait(timeout=30)
        if not args.keep:
            with psycopg.connect(with_database(server, "postgres"), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{SCRATCH_DB}" WITH (FORCE)')


if __name__ == "__main__":
    sys.exit(main())

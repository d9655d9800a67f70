"""Resident requests under load: case intake through the API, the department worklist and the
public tracking page, on PostgreSQL behind gunicorn, with N cases already in the database.

    .venv/bin/python bench/cases_load.py                       # 50,000 cases pre-loaded, 20 s
    .venv/bin/python bench/cases_load.py --cases 2000000       # the issue's 2,000,000 (COPY)
    .venv/bin/python bench/cases_load.py --seconds 30 --clients 16 --workers 2 --threads 8

A scratch database ``shequ_bench_cases`` is created on the server of ``DATABASE_URL`` (default
postgres://postgres@127.0.0.1:5432/postgres), migrated and seeded with the demo city (its
cases app adds categories, departments, the routing matrix and a few thousand cases), then
``--cases`` synthetic cases (spread over 90 days, mostly closed, with one intake event each)
are bulk-loaded with COPY. gunicorn serves the app; client threads in this process then run
three phases of ``--seconds`` each over keep-alive connections:

1. intake: POST /api/v1/cases/ (token auth, a hotline operator of the city) with a text, a
   point inside a random compound and a phone: located by point-in-polygon, classified,
   numbered, routed and auto-dispatched — the full intake;
2. worklist: GET /cases/ as the demo department handler (session login), the default view
   (open cases of their department, newest first, 50 per page, with the count);
3. tracking: GET /cases/track/<token>/ of random pre-loaded cases (anonymous).

Printed: the conditions, rates and latency percentiles per phase against the issue's targets
(intake >= 200/s with p95 < 200 ms; pages p95 < 150 ms).
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import platform
import random
import re
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
SCRATCH_DB = "shequ_bench_cases"
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"
TEXTS = [
    "{p}门口垃圾堆了两天没人清运",
    "{p}的路灯晚上不亮",
    "{p}电梯又坏了老人下不了楼",
    "{p}附近工地夜间施工噪音很大",
    "{p}门口井盖松动很危险",
    "{p}楼顶漏水家里墙面发霉",
]


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def manage(env, *args, quiet=True):
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL if quiet else None,
        stderr=subprocess.DEVNULL if quiet else None,
    )


def setup(env) -> dict:
    script = (
        "import json\n"
        "from rest_framework.authtoken.models import Token\n"
        "from django.contrib.auth import get_user_model\n"
        "from shequ.core.models import RoleAssignment\n"
        "from shequ.areas.models import Place\n"
        "from shequ.cases.models import Department, Category\n"
        "U = get_user_model()\n"
        "u, _ = U.objects.get_or_create(username='bench-hotline')\n"
        "RoleAssignment.objects.get_or_create(user=u, role='city_operator', area_code='5101')\n"
        "t, _ = Token.objects.get_or_create(user=u)\n"
        "places = list(Place.objects.filter(kind='compound').exclude(lat=None)"
        ".values_list('id', 'name', 'area_code', 'lat', 'lng'))\n"
        "print(json.dumps({'token': t.key, 'places': places,"
        " 'departments': list(Department.objects.values_list('id', flat=True)),"
        " 'zj': Department.objects.get(code='ZJ').id,"
        " 'categories': list(Category.objects.values_list('id', flat=True))}))\n"
    )
    out = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "shell", "-c", script],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def preload(url: str, n: int, data: dict, seed: int = 7) -> tuple[float, list[str]]:
    """COPY ``n`` synthetic cases (and one intake event each) into the database."""
    rng = random.Random(seed)
    places, depts, cats = data["places"], data["departments"], data["categories"]
    now = dt.datetime.now(dt.UTC)
    tokens: list[str] = []
    t0 = time.monotonic()
    cols = (
        "number, token, title, text, category_id, channel, source_ref, case_type, state, "
        "outcome, department_id, area_code, lat, lng, address, place_id, reporter_name, "
        "reporter_phone, reporter_email, created_at, respond_by, resolve_by, extended_days, "
        "closed_at, satisfaction, satisfaction_comment, updated_at"
    )
    ev_cols = "case_id, area_code, kind, move, from_state, to_state, actor_label, at, note, public"
    with psycopg.connect(url) as conn:
        start_id = conn.execute("SELECT coalesce(max(id), 0) FROM cases_case").fetchone()[0]
        with conn.cursor() as cur, cur.copy(f"COPY cases_case ({cols}) FROM STDIN") as copy:
            for i in range(n):
                pid, pname, area, lat, lng = rng.choice(places)
                created = now - dt.timedelta(seconds=rng.randrange(90 * 86400) + 3600)
                open_ = rng.random() < 0.03
                state = (
                    rng.choice(["dispatched", "in_progress"])
                    if open_
                    else rng.choice(["closed", "evaluated"])
                )
                token = secrets.token_urlsafe(18)
                if i % 50 == 0:
                    tokens.append(token)
                text = rng.choice(TEXTS).format(p=pname)
                copy.write_row(
                    (
                        f"SB{created:%Y%m%d}{i:08d}",
                        token,
                        text[:30],
                        text,
                        rng.choice(cats),
                        "hotline",
                        "",
                        "promised",
                        state,
                        "" if open_ else "resolved",
                        rng.choice(depts),
                        area,
                        lat,
                        lng,
                        pname,
                        pid,
                        "",
                        f"13{rng.randrange(10**9):09d}",
                        "",
                        created,
                        created + dt.timedelta(hours=24),
                        created + dt.timedelta(days=7),
                        0,
                        None if open_ else created + dt.timedelta(days=2),
                        "satisfied" if state == "evaluated" else "",
                        "",
                        created,
                    )
                )
        conn.execute(
            f"INSERT INTO cases_caseevent ({ev_cols}) SELECT id, area_code, 'created', '', '', "
            "'new', 'hotline', created_at, '', true FROM cases_case WHERE id > %s",
            (start_id,),
        )
        conn.commit()
        conn.execute("ANALYZE cases_case")
        conn.execute("ANALYZE cases_caseevent")
    return time.monotonic() - t0, tokens


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


def login(port: int, username: str, password: str) -> str:
    """A session cookie header for ``username``, through the login form."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/accounts/login/")
    response = conn.getresponse()
    html = response.read().decode()
    cookies = {}
    for header, value in response.getheaders():
        if header.lower() == "set-cookie":
            name, _, rest = value.partition("=")
            cookies[name] = rest.split(";")[0]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    body = urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token})
    conn.request(
        "POST",
        "/accounts/login/",
        body=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
            "Referer": f"http://127.0.0.1:{port}/accounts/login/",
        },
    )
    response = conn.getresponse()
    response.read()
    for header, value in response.getheaders():
        if header.lower() == "set-cookie" and value.startswith("sessionid="):
            cookies["sessionid"] = value.split(";")[0].split("=", 1)[1]
    if "sessionid" not in cookies:
        raise RuntimeError(f"login of {username} failed ({response.status})")
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def run_phase(port, clients, seconds, make_request, expect_status):
    latencies: list[float] = []
    errors: list = []
    stop_at = time.monotonic() + seconds

    def worker(seed):
        rng = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < stop_at:
            method, path, body, headers = make_request(rng)
            t0 = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                errors.append("connection")
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            latencies.append(time.perf_counter() - t0)
            if response.status != expect_status:
                errors.append(response.status)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(latencies), errors, time.monotonic() - t0


def report(name, lat, errors, elapsed, target_rate, target_p95):
    if not lat:
        print(f"  {name:10} no responses; errors {len(errors)}")
        return False
    pct = lambda p: 1000 * lat[min(len(lat) - 1, int(p * len(lat)))]  # noqa: E731
    rate = len(lat) / elapsed
    ok = pct(0.95) < target_p95 and (target_rate is None or rate >= target_rate) and not errors
    target = (f">= {target_rate}/s, " if target_rate else "") + f"p95 < {target_p95} ms"
    print(
        f"  {name:10} {len(lat):7,} requests  {rate:6,.0f}/s  p50 {pct(0.5):4.0f} ms  "
        f"p95 {pct(0.95):4.0f} ms  p99 {pct(0.99):4.0f} ms  mean "
        f"{1000 * statistics.mean(lat):4.0f} ms  errors {len(errors)}"
        f"{' ' + str(sorted(set(map(str, errors)))[:5]) if errors else ''}  "
        f"target: {target} "
        f"-> {'OK' if ok else 'MISSED'}"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=50_000, help="cases to pre-load (COPY)")
    parser.add_argument("--seconds", type=float, default=20, help="per phase")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--residents", type=int, default=20000)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--reuse", action="store_true", help="reuse a kept scratch database")
    args = parser.parse_args()

    if not args.port:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            args.port = probe.getsockname()[1]
    server = os.environ.get("DATABASE_URL", DEFAULT_SERVER)
    if not server.startswith("postgres"):
        server = DEFAULT_SERVER
    url = with_database(server, SCRATCH_DB)
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "0", "AXES_FAILURE_LIMIT": "1000"}
    gunicorn = None
    try:
        if not args.reuse:
            with psycopg.connect(with_database(server, "postgres"), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{SCRATCH_DB}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{SCRATCH_DB}"')
            print(f"preparing {url.split('@')[-1]}: migrate, seed --residents {args.residents}")
            manage(env, "migrate")
            manage(env, "seed", "--residents", str(args.residents), "--seed", "1")
        data = setup(env)
        if not args.reuse and args.cases:
            print(f"pre-loading {args.cases:,} cases with COPY ...", flush=True)
            took, tokens = preload(url, args.cases, data)
            print(f"  loaded in {took:.0f} s ({args.cases / took:,.0f} cases/s)")
        with psycopg.connect(url) as conn:
            total = conn.execute("SELECT count(*) FROM cases_case").fetchone()[0]
            tokens = [
                r[0]
                for r in conn.execute(
                    "SELECT token FROM cases_case TABLESAMPLE SYSTEM (1) LIMIT 5000"
                )
            ] or [r[0] for r in conn.execute("SELECT token FROM cases_case LIMIT 5000")]
            dept_open = conn.execute(
                "SELECT count(*) FROM cases_case WHERE department_id = %s AND state IN "
                "('new','accepted','registered','dispatched','in_progress','returned',"
                "'reported','verified','review')",
                (data["zj"],),
            ).fetchone()[0]
            version = conn.execute("SHOW server_version").fetchone()[0]
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
        token, places = data["token"], data["places"]
        api_headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}

        def intake(rng):
            _pid, name, _area, lat, lng = rng.choice(places)
            body = json.dumps(
                {
                    "text": rng.choice(TEXTS).format(p=name),
                    "lat": lat + rng.uniform(-0.0003, 0.0003),
                    "lng": lng + rng.uniform(-0.0003, 0.0003),
                    "reporter_phone": f"139{rng.randrange(10**8):08d}",
                    "channel": "hotline",
                }
            )
            return "POST", "/api/v1/cases/", body, api_headers

        cookie = login(args.port, "dept", "shequ-demo-2026")

        def worklist(rng):
            return "GET", "/cases/", None, {"Cookie": cookie}

        def tracking(rng):
            return "GET", f"/cases/track/{rng.choice(tokens)}/", None, {}

        print(
            f"\nConditions: Python {platform.python_version()}, {os.cpu_count()} cores shared by "
            f"client and server; PostgreSQL {version} on 127.0.0.1; gunicorn {args.workers} "
            f"workers x {args.threads} threads; {args.clients} client threads, keep-alive; "
            f"{total:,} cases in the database ({dept_open:,} open for the worklist's "
            f"department); demo city of {args.residents:,} residents, {len(places):,} "
            f"compounds; {args.seconds:.0f} s per phase"
        )
        results = []
        lat, err, el = run_phase(args.port, args.clients, args.seconds, intake, 201)
        results.append(report("intake", lat, err, el, 200, 200))
        lat, err, el = run_phase(args.port, args.clients, args.seconds, worklist, 200)
        results.append(report("worklist", lat, err, el, None, 150))
        lat, err, el = run_phase(args.port, args.clients, args.seconds, tracking, 200)
        results.append(report("tracking", lat, err, el, None, 150))
        return 0 if all(results) else 1
    finally:
        if gunicorn is not None:
            gunicorn.terminate()
            gunicorn.wait(timeout=30)
        if not args.keep:
            with psycopg.connect(with_database(server, "postgres"), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{SCRATCH_DB}" WITH (FORCE)')


if __name__ == "__main__":
    sys.exit(main())

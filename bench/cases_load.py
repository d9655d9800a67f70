"""Resident requests under load: case intake through the API, the department worklist and the
public tracking page, on PostgreSQL behind gunicorn, with N cases already in the database.

    .venv/bin/python bench/cases_load.py                       # 50,000 cases pre-loaded, 20 s
    .venv/bin/python bench/cases_load.py --cases 2000000 --keep --load-only   # the issue's 2M
    .venv/bin/python bench/cases_load.py --reuse --keep --seconds 15          # closed loop
    .venv/bin/python bench/cases_load.py --reuse --keep --prewarm --database bench_cases2m
    .venv/bin/python bench/cases_load.py --reuse --keep --rate intake=25,tracking=40  # open loop

A database (``bench_cases``, ``--database``) is created on the server of ``DATABASE_URL``
(default postgres://postgres@127.0.0.1:5432/postgres), migrated and seeded with the demo city
(its cases app adds categories, departments, the routing matrix and a few thousand cases),
then ``--cases`` synthetic cases (in time order over 90 days; the last 60 hours' and 3% of the
rest open; 80% with a phone, encrypted and hashed as the app stores it) are written with COPY,
and each case's timeline (8 or 9 events for a closed case) with one INSERT ... SELECT.
After the load the two big tables are vacuumed and analysed, as autovacuum would in time.
``--keep`` keeps the database, ``--reuse`` runs on a kept one (migrating it first);
``--prewarm`` reads it into the OS cache first (``pg_prewarm``), as on a server that has been
serving it: a 2M-case database (7 GB) read cold from disk measures the disk, not the app.
gunicorn serves the app; then three phases of ``--seconds`` each, over keep-alive
connections:

1. intake: POST /api/v1/cases/ (token auth, a hotline operator of the city) with a text, a
   point inside a random compound and a phone: located by point-in-polygon, classified (by a
   model trained on ``--classifier``, by default the requests data's train.csv, as a city
   would install one; else by the keyword rules), routed and auto-dispatched: the full intake;
2. worklist: GET /cases/ as the demo department handler (session login), the default view
   (open cases of their department, newest first, 50 per page, with the count);
3. tracking: GET /cases/track/<token>/ of random pre-loaded cases (anonymous).

Closed loop by default: wrk (``make bench-tools``; ``bench/cases.lua``), ``--clients``
connections on ``--client-threads`` threads, each sending its next request when the last one
is answered: the saturation throughput. wrk is written in C: Python client threads took a
tenth of a core of the two the server needs. ``--rate`` runs an open loop instead, from
Python threads (requests at a fixed rate, latency counted from each one's scheduled time,
which wrk cannot do). Printed: the conditions,
the load average, rates and latency percentiles per phase against the issue's targets
(intake >= 200/s with p95 < 200 ms; pages p95 < 150 ms), and the server's CPU per request.
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
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import psycopg
from _server import ROOT, Gunicorn, ScratchDatabase, db_host, load_average, run_wrk, server_cpu

SCRATCH_DB = "bench_cases"
LUA = Path(__file__).with_name("cases.lua")
TRAIN_CSV = ROOT.parent / "shared" / "data" / "requests" / "train.csv"
TEXTS = [
    "{p}门口垃圾堆了两天没人清运",
    "{p}的路灯晚上不亮",
    "{p}电梯又坏了老人下不了楼",
    "{p}附近工地夜间施工噪音很大",
    "{p}门口井盖松动很危险",
    "{p}楼顶漏水家里墙面发霉",
]
SETUP = (
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


def crypto_module(url: str):
    """``shequ.core.crypto`` configured like the server (the same demo or environment keys),
    so that the pre-loaded contacts are encrypted and hashed as the app would store them."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shequ.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from shequ.core import crypto

    return crypto


def preload(url: str, n: int, data: dict, seed: int = 7) -> tuple[float, list[str]]:
    """COPY ``n`` synthetic cases (and one intake event each) into the database; 80% with a
    reporter phone, stored encrypted with its lookup hash as the app stores it."""
    rng = random.Random(seed)
    crypto = crypto_module(url)
    places, depts, cats = data["places"], data["departments"], data["categories"]
    now = dt.datetime.now(dt.UTC)
    tokens: list[str] = []
    t0 = time.monotonic()
    cols = (
        "number, token, title, text, category_id, channel, source_ref, case_type, state, "
        "outcome, department_id, area_code, lat, lng, address, place_id, reporter_name, "
        "reporter_phone, reporter_phone_hash, reporter_email, created_at, respond_by, "
        "resolve_by, extended_days, responded_at, closed_at, satisfaction, satisfaction_comment, "
        "updated_at"
    )
    ev_cols = "case_id, area_code, kind, move, from_state, to_state, actor_label, at, note, public"
    with psycopg.connect(url) as conn:
        # Generated rows reference existing ones by construction: skip the deferred foreign-key
        # checks at COMMIT (as ``pg_restore --disable-triggers`` does); with them, committing
        # 2M cases and their ~17M events took longer than writing them.
        conn.execute("SET session_replication_role = replica")
        start_id = conn.execute("SELECT coalesce(max(id), 0) FROM cases_case").fetchone()[0]
        with conn.cursor() as cur, cur.copy(f"COPY cases_case ({cols}) FROM STDIN") as copy:
            # In time order, as a live table receives them (the open ones end up together).
            ages = sorted((rng.randrange(90 * 86400) + 3600 for _ in range(n)), reverse=True)
            for i, age in enumerate(ages):
                pid, pname, area, lat, lng = rng.choice(places)
                created = now - dt.timedelta(seconds=age)
                # Open: the last 60 hours' cases (not yet through the loop) and 3% of the rest.
                open_ = now - created < dt.timedelta(hours=60) or rng.random() < 0.03
                state = (
                    rng.choice(["dispatched", "in_progress"])
                    if open_
                    else rng.choice(["closed", "evaluated"])
                )
                token = secrets.token_urlsafe(18)
                if i % 50 == 0:
                    tokens.append(token)
                text = rng.choice(TEXTS).format(p=pname)
                phone = f"13{rng.randrange(10**9):09d}" if rng.random() < 0.8 else ""
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
                        crypto.encrypt(phone),
                        crypto.hash_phone(phone),
                        "",
                        created,
                        created + dt.timedelta(hours=24),
                        created + dt.timedelta(days=7),
                        0,
                        None if state == "dispatched" else created + dt.timedelta(hours=4),
                        None if open_ else created + dt.timedelta(days=2),
                        "satisfied" if state == "evaluated" else "",
                        "",
                        created,
                    )
                )
        # Each case's timeline as the workflow writes it: received, then the steps up to its
        # state (8 or 9 events for a closed case), at plausible hours after intake.
        conn.execute(
            f"INSERT INTO cases_caseevent ({ev_cols}, department_id) "
            "SELECT c.id, c.area_code, s.kind, s.move, s.from_state, s.to_state, s.actor, "
            "c.created_at + s.hours * interval '1 hour', '', true, "
            "CASE WHEN s.move = 'dispatch' THEN c.department_id END "
            "FROM cases_case c JOIN (VALUES "
            "(0, 'created', '', '', 'new', 'hotline', 0),"
            "(1, 'move', 'accept', 'new', 'accepted', 'system', 0.01),"
            "(2, 'move', 'register', 'accepted', 'registered', 'system', 0.02),"
            "(3, 'move', 'dispatch', 'registered', 'dispatched', 'system', 0.03),"
            "(4, 'move', 'start', 'dispatched', 'in_progress', 'handler', 4),"
            "(5, 'move', 'report', 'in_progress', 'reported', 'handler', 30),"
            "(6, 'move', 'verify', 'reported', 'verified', 'dispatcher', 40),"
            "(7, 'move', 'close', 'verified', 'closed', 'dispatcher', 48),"
            "(8, 'move', 'evaluate', 'closed', 'evaluated', 'reporter', 60)"
            ") AS s(step, kind, move, from_state, to_state, actor, hours) "
            "ON s.step <= CASE c.state WHEN 'dispatched' THEN 3 WHEN 'in_progress' THEN 4 "
            "WHEN 'closed' THEN 7 ELSE 8 END "
            "WHERE c.id > %s",
            (start_id,),
        )
        conn.commit()
        conn.execute("ANALYZE cases_case")
        conn.execute("ANALYZE cases_caseevent")
    return time.monotonic() - t0, tokens


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


def run_closed(port, phase: str, args, env: dict) -> tuple[dict, float]:
    """The closed loop of ``phase`` from wrk (``bench/cases.lua``): ``--clients`` keep-alive
    connections, each sending its next request when the last one is answered. Its summary
    (``requests``, ``seconds``, ``ok``, ``failed``, ``socket_errors``, latency percentiles in
    ms) and the CPU seconds wrk used."""
    return run_wrk(
        port,
        LUA,
        {"CASES_PHASE": phase, "CASES_SEED": str(random.randrange(1 << 30)), **env},
        threads=args.client_threads,
        connections=args.clients,
        seconds=args.seconds,
    )


def run_open(port, rate, seconds, make_request, expect_status, connections=32):
    """Open loop: requests scheduled at ``rate`` per second whatever the server does; each
    latency counts from the request's scheduled time, so a server falling behind shows as
    queueing in the percentiles (no coordinated omission). ``connections`` keep-alive
    connections carry them."""
    latencies: list[float] = []
    errors: list = []
    total = int(rate * seconds)
    start = time.perf_counter() + 0.2
    counter = iter(range(total))
    lock = threading.Lock()

    def worker(seed):
        rng = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            due = start + i / rate
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            method, path, body, headers = make_request(rng)
            response = None
            for _attempt in range(2):  # the server closes keep-alive connections idle for 2 s
                try:
                    conn.request(method, path, body=body, headers=headers)
                    response = conn.getresponse()
                    response.read()
                    break
                except (OSError, http.client.HTTPException):
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            if response is None:
                errors.append("connection")
                continue
            latencies.append(time.perf_counter() - due)
            if response.status != expect_status:
                errors.append(response.status)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(latencies), errors, max(time.perf_counter() - start, seconds)


def summary(latencies: list[float], errors: list, elapsed: float, offered: float) -> dict:
    """The open loop's results in the form of the closed loop's (``run_closed``), with the
    rate ``offered``."""
    lat = sorted(latencies)
    pct = lambda p: 1000 * lat[min(len(lat) - 1, int(p * len(lat)))] if lat else 0.0  # noqa: E731
    return {
        "requests": len(lat),
        "seconds": elapsed,
        "ok": len(lat) - sum(1 for e in errors if e != "connection"),
        "failed": sum(1 for e in errors if e != "connection"),
        "socket_errors": sum(1 for e in errors if e == "connection"),
        "p50": pct(0.5),
        "p95": pct(0.95),
        "p99": pct(0.99),
        "mean": 1000 * statistics.mean(lat) if lat else 0.0,
        "errors": sorted(set(map(str, errors)))[:5],
        "offered": offered,
    }


def report(name: str, result: dict, target_rate, target_p95) -> bool:
    if not result["requests"]:
        print(f"  {name:10} no responses; errors {result['failed'] + result['socket_errors']}")
        return False
    rate = result["ok"] / result["seconds"]
    errors = result["failed"] + result["socket_errors"]
    # An open loop's last answer comes one latency after its schedule ends, so the rate
    # measured over the run stays just under the one offered even when the server keeps
    # pace; keeping pace shows in the p95, counted from each request's scheduled time.
    kept = result.get("offered", rate)
    ok = result["p95"] < target_p95 and (target_rate is None or kept >= target_rate) and not errors
    target = (f">= {target_rate}/s, " if target_rate else "") + f"p95 < {target_p95} ms"
    print(
        f"  {name:10} {result['requests']:7,} requests  {rate:6,.0f}/s  p50 "
        f"{result['p50']:4.0f} ms  p95 {result['p95']:4.0f} ms  p99 {result['p99']:4.0f} ms  "
        f"mean {result['mean']:4.0f} ms  errors {errors}"
        f"{' ' + str(result.get('errors', '')) if errors else ''}  target: {target} "
        f"-> {'OK' if ok else 'MISSED'}"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=50_000, help="cases to pre-load (COPY)")
    parser.add_argument("--seconds", type=float, default=20, help="per phase")
    parser.add_argument("--clients", type=int, default=16, help="closed loop: wrk's connections")
    parser.add_argument("--client-threads", type=int, default=2, help="closed loop: wrk's threads")
    parser.add_argument(
        "--rate",
        default="",
        help="open loop instead: requests per second, for every phase (200) or per phase "
        "(intake=200,worklist=40)",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="per gunicorn worker")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--residents", type=int, default=20000)
    parser.add_argument(
        "--phases", default="intake,worklist,tracking", help="which phases, comma-separated"
    )
    parser.add_argument("--database", default=SCRATCH_DB, help="the scratch database's name")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument(
        "--load-only", action="store_true", help="prepare and pre-load the database, then stop"
    )
    parser.add_argument("--reuse", action="store_true", help="reuse a kept scratch database")
    parser.add_argument(
        "--prewarm",
        action="store_true",
        help="read the database into the OS cache first (pg_prewarm), as on a server that has "
        "been serving it: a 2M-case database (7 GB) read cold from disk measures the disk",
    )
    parser.add_argument(
        "--classifier",
        default=str(TRAIN_CSV) if TRAIN_CSV.exists() else "",
        metavar="CSV",
        help="a labelled file to train the request classifier on (shequ train_classifier, its "
        "default kind) and install for the server, as a city would; '' for the keyword rules "
        "alone (default: the requests data's train.csv when it is there)",
    )
    args = parser.parse_args()
    phases = [p for p in args.phases.split(",") if p]
    unknown = set(phases) - {"intake", "worklist", "tracking"}
    if unknown:
        parser.error(f"unknown phase(s): {', '.join(sorted(unknown))}")

    rates: dict[str, float] = {}
    for item in filter(None, args.rate.split(",")):
        name, _, value = item.rpartition("=")
        try:
            for phase in [name] if name else ["intake", "worklist", "tracking"]:
                rates[phase] = float(value)
        except ValueError:
            parser.error(f"--rate: {item!r} is not a number of requests per second")
    db = ScratchDatabase(args.database)
    try:
        if not args.reuse:
            db.create()
            print(f"preparing {db.url.split('@')[-1]}: migrate, seed --residents {args.residents}")
            db.prepare(args.residents)
        else:
            db.manage("migrate")  # the code may have new migrations (indexes) since
        data = db.shell_json(SETUP)
        if not args.reuse and args.cases:
            print(f"pre-loading {args.cases:,} cases with COPY ...", flush=True)
            took, _tokens = preload(db.url, args.cases, data)
            print(f"  loaded in {took:.0f} s ({args.cases / took:,.0f} cases/s)")
            # As autovacuum would, in time: the planner's statistics and the visibility map.
            started = time.monotonic()
            with psycopg.connect(db.url, autocommit=True) as conn:
                for table in ("cases_case", "cases_caseevent"):
                    conn.execute(f"VACUUM (ANALYZE) {table}")
            print(f"  vacuumed and analysed in {time.monotonic() - started:.0f} s")
        if args.load_only:
            return 0
        with psycopg.connect(db.url) as conn:
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
        cached = ""
        if args.prewarm:
            started = time.monotonic()
            with psycopg.connect(db.url, autocommit=True) as conn:
                conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
                blocks = conn.execute(
                    "SELECT sum(pg_prewarm(c.oid::regclass, 'read')) FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i')"
                ).fetchone()[0]
            cached = (
                f"; the database's tables and indexes read into the OS cache first "
                f"(pg_prewarm, {blocks * 8 / 1024 / 1024:.1f} GiB, "
                f"{time.monotonic() - started:.0f} s)"
            )
        version = db.server_version()
        env = db.env(AXES_FAILURE_LIMIT="1000")
        workdir = Path(tempfile.mkdtemp(prefix="shequ-bench-cases-"))
        classifier = "the keyword rules (no model installed)"
        if args.classifier:
            model = workdir / "classifier.npz"
            db.manage("train_classifier", "--csv", args.classifier, "--out", str(model), "--no-cv")
            env["SHEQU_CLASSIFIER_MODEL"] = str(model)
            classifier = f"a model trained on {Path(args.classifier).name} (train_classifier)"
        with Gunicorn(env, workers=args.workers, threads=args.threads, port=args.port) as server:
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

            cookie = login(server.port, "dept", "shequ-demo-2026")

            def worklist(rng):
                return "GET", "/cases/", None, {"Cookie": cookie}

            def tracking(rng):
                return "GET", f"/cases/track/{rng.choice(tokens)}/", None, {}

            print(
                f"\nConditions: Python {platform.python_version()}, {os.cpu_count()} cores "
                f"shared by client and server (and other users of the machine); PostgreSQL "
                f"{version} on {db_host(db.url)}; {server.description}; clients on this "
                f"machine, over keep-alive connections (per phase below); {total:,} cases in the "
                f"database ({dept_open:,} open for the worklist's department); demo city of "
                f"{args.residents:,} residents, "
                f"{len(places):,} compounds; classifier: {classifier}; "
                f"{args.seconds:.0f} s per phase. Server CPU: "
                f"gunicorn's processes and the scratch database's PostgreSQL backends{cached}."
            )
            plan = {
                "intake": (intake, 201, 200, 200),
                "worklist": (worklist, 200, None, 150),
                "tracking": (tracking, 200, None, 150),
            }
            results = []
            (workdir / "places.txt").write_text(
                "".join(
                    f"{json.dumps(name, ensure_ascii=False)}\t{lat}\t{lng}\n"
                    for _pid, name, _area, lat, lng in places
                )
            )
            (workdir / "track.txt").write_text("\n".join(tokens) + "\n")
            wrk_env = {
                "intake": {"CASES_TOKEN": token, "CASES_PLACES": str(workdir / "places.txt")},
                "worklist": {"CASES_COOKIE": cookie},
                "tracking": {"CASES_TRACK": str(workdir / "track.txt")},
            }
            for name in phases:
                make, status, rate, p95 = plan[name]
                print(f"  [{load_average()} before {name}]")
                before = server_cpu(server, db)
                offered = rates.get(name)
                if offered:
                    print(f"  {name}: open loop, {offered:g} requests/s offered (Python clients)")
                    client0 = time.process_time()
                    result = summary(
                        *run_open(server.port, offered, args.seconds, make, status), offered
                    )
                    client = time.process_time() - client0
                else:
                    print(
                        f"  {name}: closed loop, wrk {args.client_threads} threads x "
                        f"{args.clients} connections"
                    )
                    result, client = run_closed(server.port, name, args, wrk_env[name])
                spent = server_cpu(server, db) - before
                results.append(report(name, result, rate, p95))
                if result["failed"] or result["socket_errors"]:
                    print(f"  server log {server.log}, its end:\n{server.log_tail()}")
                el = result["seconds"]
                print(
                    f"  {'':10} {spent.per_request(result['requests'])}; client "
                    f"{client / el:.2f} cores; server {(spent.app + spent.db) / el:.2f} cores"
                )
            shutil.rmtree(workdir, ignore_errors=True)
        return 0 if all(results) else 1
    finally:
        if not args.keep:
            db.drop()


if __name__ == "__main__":
    sys.exit(main())

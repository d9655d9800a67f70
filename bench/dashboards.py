"""Dashboards at scale: the full rollup rebuild, and every level's dashboard served from the
rollups (p50/p95 server time, queries per request).

    .venv/bin/python bench/dashboards.py                 # 1,000,000 residents, PostgreSQL
    .venv/bin/python bench/dashboards.py --keep          # reuse the scratch database if seeded
    .venv/bin/python bench/dashboards.py --residents 100000 --requests 30

A scratch database ``shequ_bench_dashboards`` is created on the server of ``DATABASE_URL``
(default postgres://postgres@127.0.0.1:5432/postgres), migrated and seeded with
``shequ seed --residents N`` (which also builds the rollups once); kept with ``--keep``. Cases:
``--cases`` synthetic cases (default 2,000,000, spread over the last 365 days, at compounds,
2% open plus most of the last five days) are COPYed into ``cases_case`` with their dispatch,
closing and rating steps (``INSERT ... SELECT`` into ``cases_caseevent``) when fewer exist.
Requests go through Django's test client in this process (server time = the view's time,
including template rendering for pages; the API is JSON).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
SCRATCH_DB = "shequ_bench_dashboards"
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"


def with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def ensure_database(server: str, keep: bool) -> bool:
    """Create the scratch database; True when it already existed (and --keep)."""
    import psycopg

    with psycopg.connect(server, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [SCRATCH_DB]
        ).fetchone()
        if exists and keep:
            return True
        if exists:
            conn.execute(f'DROP DATABASE "{SCRATCH_DB}"')
        conn.execute(f'CREATE DATABASE "{SCRATCH_DB}"')
    return False


def percentile(values, p):
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))
    return values[k]


def load_cases(connection, n: int, seed: int = 5) -> None:
    """COPY ``n`` synthetic cases spread over the last 365 days into ``cases_case`` (at
    compounds, with the demo's categories and departments), then derive their timeline steps
    the rollups count (dispatch, close or withdraw, evaluate) with INSERT ... SELECT."""
    import datetime as dt
    import random
    import secrets

    from shequ.areas.models import Place, PlaceKind
    from shequ.cases.demo import _setup
    from shequ.cases.models import Category, Department

    _setup()
    rng = random.Random(seed)
    places = list(
        Place.objects.filter(kind=PlaceKind.COMPOUND, lat__isnull=False).values_list(
            "pk", "area_code", "lat", "lng"
        )
    )
    cats = list(Category.objects.values_list("pk", flat=True))
    depts = list(Department.objects.values_list("pk", flat=True))
    now = dt.datetime.now(dt.UTC)
    cols = (
        "number, token, title, text, category_id, channel, source_ref, case_type, state, "
        "outcome, department_id, area_code, lat, lng, address, place_id, reporter_name, "
        "reporter_phone, reporter_email, created_at, respond_by, responded_at, resolve_by, "
        "extended_days, closed_at, satisfaction, satisfaction_comment, updated_at"
    )
    outcomes = ["resolved"] * 17 + ["unresolvable", "not_ours", "withdrawn", "duplicate"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM cases_case")
        start_id = cursor.fetchone()[0]
        with cursor.cursor.copy(f"COPY cases_case ({cols}) FROM STDIN") as copy:
            for i in range(n):
                pid, area, lat, lng = rng.choice(places)
                age = rng.random() ** 1.3 * 365 * 86400  # more recent than old
                created = now - dt.timedelta(seconds=age + 600)
                open_ = rng.random() < (0.6 if age < 5 * 86400 else 0.02)
                respond_by = created + dt.timedelta(hours=24)
                responded = created + dt.timedelta(hours=rng.choice([1, 3, 8, 20, 30]))
                resolve_by = created + dt.timedelta(days=7)
                if open_:
                    state, outcome, closed, sat = "in_progress", "", None, ""
                else:
                    outcome = rng.choice(outcomes)
                    closed = created + dt.timedelta(hours=rng.randrange(2, 24 * 9))
                    sat = rng.choice(["satisfied"] * 6 + ["basically", "dissatisfied", "", ""])
                    state = "evaluated" if sat else "closed"
                copy.write_row(
                    (
                        f"SD{created:%Y%m%d}{i:08d}",
                        secrets.token_urlsafe(18),
                        "诉求",
                        "合成诉求",
                        rng.choice(cats),
                        "hotline",
                        "",
                        "promised",
                        state,
                        outcome,
                        rng.choice(depts),
                        area,
                        lat + rng.uniform(-0.002, 0.002),
                        lng + rng.uniform(-0.002, 0.002),
                        "",
                        pid,
                        "",
                        "",
                        "",
                        created,
                        respond_by,
                        None if open_ and rng.random() < 0.5 else responded,
                        resolve_by,
                        0,
                        closed,
                        sat,
                        "",
                        created,
                    )
                )
        ev = "case_id, area_code, kind, move, from_state, to_state, actor_label, at, note, public"
        cursor.execute(
            f"INSERT INTO cases_caseevent ({ev}) SELECT id, area_code, 'move', 'dispatch', "
            "'registered', 'dispatched', 'system', created_at, '', true FROM cases_case "
            "WHERE id > %s",
            [start_id],
        )
        cursor.execute(
            f"INSERT INTO cases_caseevent ({ev}) SELECT id, area_code, 'move', "
            "CASE WHEN outcome = 'withdrawn' THEN 'withdraw' ELSE 'close' END, 'verified', "
            "'closed', 'system', closed_at, '', true FROM cases_case "
            "WHERE id > %s AND closed_at IS NOT NULL",
            [start_id],
        )
        cursor.execute(
            f"INSERT INTO cases_caseevent ({ev}) SELECT id, area_code, 'move', 'evaluate', "
            "'closed', 'evaluated', 'reporter', closed_at + interval '1 day', '', true "
            "FROM cases_case WHERE id > %s AND satisfaction <> ''",
            [start_id],
        )
        cursor.execute("ANALYZE cases_case")
        cursor.execute("ANALYZE cases_caseevent")
    connection.commit() if not connection.get_autocommit() else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--cases", type=int, default=2_000_000)
    parser.add_argument("--requests", type=int, default=50, help="per URL")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    server = os.environ.get("DATABASE_URL") or DEFAULT_SERVER
    reused = ensure_database(server, args.keep)
    os.environ["DATABASE_URL"] = with_db(server, SCRATCH_DB)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shequ.settings")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    settings.ALLOWED_HOSTS = ["*"]
    from shequ.areas.models import Area, Place, PlaceKind
    from shequ.dashboards import registry, rollups
    from shequ.people.models import Person

    call_command("migrate", verbosity=0)  # also when reused: new tables may exist
    if not reused or not Person.objects.exists():
        t0 = time.perf_counter()
        call_command("seed", residents=args.residents, seed=1, reset=True, verbosity=0)
        print(f"seeded {args.residents:,} residents in {time.perf_counter() - t0:.0f} s")
    residents = Person.objects.count()
    modules = [p.module for p in registry.providers()]
    cases = 0
    if "requests" in modules:
        from shequ.cases.models import Case

        cases = Case.objects.count()
        if cases < args.cases:
            t0 = time.perf_counter()
            load_cases(connection, args.cases - cases)
            print(f"loaded {args.cases - cases:,} cases (COPY) in {time.perf_counter() - t0:.0f} s")
            cases = Case.objects.count()
    print(f"data: {residents:,} residents, {cases:,} cases; modules: {', '.join(modules)}")
    if "requests" not in modules:
        print("NOTE: no requests provider registered: figures are for residents only")

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    print(f"PostgreSQL {version}, {os.cpu_count()} cores")

    t0 = time.perf_counter()
    report = rollups.rebuild()
    rebuild_s = time.perf_counter() - t0
    for module, r in report.items():
        print(f"  rebuild {module}: {r['rows']:,} rows in {r['seconds']:.1f} s")
    print(f"FULL REBUILD: {rebuild_s:.1f} s (target < 300 s)")

    from django.contrib.auth import get_user_model

    from shequ.core.models import RoleAssignment

    user, _created = get_user_model().objects.get_or_create(username="bench-dash")
    RoleAssignment.objects.get_or_create(user=user, role="city_operator", area_code="5101")
    client = Client()
    client.force_login(user)

    # The busiest area of each level (most residents), and its busiest compound.
    urls = {}
    for level in ("city", "district", "street", "community", "grid"):
        code = (
            rollups.Rollup.objects.filter(level=level, key="pop.residents")
            .order_by("-value")
            .values_list("area_code", flat=True)
            .first()
        ) or Area.objects.filter(level=level).values_list("code", flat=True).first()
        if code:
            urls[level] = f"/dashboards/{code}/"
    compound = (
        rollups.Rollup.objects.filter(level="compound", key="pop.residents")
        .order_by("-value")
        .values_list("area_code", flat=True)
        .first()
    ) or Place.objects.filter(kind=PlaceKind.COMPOUND).values_list("code", flat=True).first()
    if compound:
        urls["compound"] = f"/dashboards/place/{compound}/"
    urls["api-city"] = "/api/v1/dashboards/5101/"
    if "street" in urls:
        urls["api-street"] = "/api/v1/dashboards/" + urls["street"].split("/")[2] + "/"

    print(f"\n{'dashboard':<12} {'url':<44} {'p50 ms':>7} {'p95 ms':>7} {'queries':>8}")
    worst = 0.0
    for name, url in urls.items():
        assert client.get(url).status_code == 200, url  # warm up
        times, queries = [], set()
        for _i in range(args.requests):
            with CaptureQueriesContext(connection) as captured:
                t = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - t) * 1000)
            assert response.status_code == 200
            queries.add(len(captured))
        p95 = percentile(times, 95)
        worst = max(worst, p95)
        q = "/".join(str(n) for n in sorted(queries))
        print(f"{name:<12} {url:<44} {statistics.median(times):7.1f} {p95:7.1f} {q:>8}")
    print(f"\nWORST p95: {worst:.1f} ms (target < 150 ms); rebuild {rebuild_s:.1f} s")


if __name__ == "__main__":
    main()

"""Measure the demo-city seeder (``shequ seed``): wall time, residents per second, peak memory.

    .venv/bin/python bench/seed.py                          # 1,000,000 residents, PostgreSQL
    .venv/bin/python bench/seed.py --sqlite                 # 20,000 residents, SQLite
    .venv/bin/python bench/seed.py --residents 200000 --keep

PostgreSQL: a scratch database ``shequ_bench_seed`` is created on the server of
``DATABASE_URL`` (default postgres://postgres@127.0.0.1:5432/postgres), migrated, seeded and
dropped again (unless ``--keep``). SQLite: a fresh file in a temporary directory. The seed runs
in a child process so that its peak RSS is its own; migrations are not timed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
SCRATCH_DB = "shequ_bench_seed"
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"


def child(residents: int, seed: int) -> None:
    """Runs inside the child process: migrate (untimed), then seed (timed)."""
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shequ.settings")
    import django
    from django.core.management import call_command

    django.setup()
    from django.db import connection

    call_command("migrate", verbosity=0)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    call_command("seed", residents=residents, seed=seed, verbosity=1, stdout=sys.stderr)
    seconds = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_SELF)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            version = f"PostgreSQL {cursor.fetchone()[0]}"
        else:
            cursor.execute("select sqlite_version()")
            version = f"SQLite {cursor.fetchone()[0]}"
    print(
        json.dumps(
            {
                "seconds": seconds,
                "maxrss_kb": usage.ru_maxrss,
                "maxrss_before_seed_kb": before,
                "database": version,
                "django": django.get_version(),
            }
        )
    )


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--residents", type=int, help="default 1,000,000 (20,000 with --sqlite)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sqlite", action="store_true", help="a fresh SQLite file instead")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    residents = args.residents or (20_000 if args.sqlite else 1_000_000)
    if args.child:
        child(residents, args.seed)
        return 0

    env = dict(os.environ)
    tmpdir = None
    if args.sqlite:
        tmpdir = tempfile.mkdtemp(prefix="shequ-bench-seed-")
        db_path = Path(tmpdir) / "bench.sqlite3"
        env["DATABASE_URL"] = f"sqlite:///{db_path}"
        where = str(db_path)
    else:
        import psycopg

        server = os.environ.get("DATABASE_URL") or DEFAULT_SERVER
        if not server.startswith(("postgres://", "postgresql://")):
            server = DEFAULT_SERVER
        admin_url = with_database(server, urlsplit(server).path.lstrip("/") or "postgres")
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{SCRATCH_DB}"')
            conn.execute(f'CREATE DATABASE "{SCRATCH_DB}"')
        env["DATABASE_URL"] = with_database(server, SCRATCH_DB)
        where = with_database(server, SCRATCH_DB).split("@")[-1]

    try:
        cmd = [sys.executable, __file__, "--child", "--residents", str(residents)]
        cmd += ["--seed", str(args.seed)]
        proc = subprocess.run(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        if proc.returncode:
            print(f"seed failed with exit code {proc.returncode}", file=sys.stderr)
            return proc.returncode
        result = json.loads(proc.stdout.strip().splitlines()[-1])
    finally:
        if not args.keep:
            if tmpdir:
                shutil.rmtree(tmpdir, ignore_errors=True)
            else:
                with psycopg.connect(admin_url, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{SCRATCH_DB}" WITH (FORCE)')

    seconds = result["seconds"]
    print("bench/seed.py — demo city seeder (`shequ seed`)")
    print(f"residents        {residents:,}")
    print(f"seed             {args.seed}")
    print(f"wall seconds     {seconds:.1f}")
    print(f"residents/s      {residents / seconds:,.0f}")
    print(
        f"peak RSS         {result['maxrss_kb'] / 1024:.0f} MB "
        f"(after Django start-up and migrate: {result['maxrss_before_seed_kb'] / 1024:.0f} MB)"
    )
    print(
        f"database         {result['database']} ({where}{', kept' if args.keep else ', dropped'})"
    )
    print(f"CPUs             {os.cpu_count()} ({platform.machine()})")
    print(f"Python / Django  {platform.python_version()} / {result['django']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

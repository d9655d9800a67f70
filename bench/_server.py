"""What the load benchmarks share: a scratch PostgreSQL database holding the demo city, a
gunicorn serving the app on it, and the CPU time the server side spends.

    from _server import ScratchDatabase, Gunicorn, free_port, server_cpu

    db = ScratchDatabase("shequ_bench_x")          # on the server of DATABASE_URL
    db.create(); db.prepare(residents=20000)        # migrate + `shequ seed`
    data = db.shell_json("print(json.dumps({...}))")
    with Gunicorn(db.env(), workers=2, threads=8) as server:
        before = server_cpu(server, db)
        ...                                         # requests to server.port
        spent = server_cpu(server, db) - before     # .app / .db seconds of CPU
    db.drop()

The machine is shared: besides the latencies, a benchmark prints the load average and the CPU
milliseconds the server spent per request (gunicorn's processes and the PostgreSQL backends of
the scratch database), which do not depend on how busy the other cores are.
"""

from __future__ import annotations

import http.client
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
WRK = shutil.which("wrk")  # Debian's wrk: `make bench-tools`
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"
_TICK = os.sysconf("SC_CLK_TCK")


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def server_url() -> str:
    """The PostgreSQL server to use: ``DATABASE_URL`` if it names one, else the local one."""
    url = os.environ.get("DATABASE_URL", DEFAULT_SERVER)
    return url if url.startswith("postgres") else DEFAULT_SERVER


def db_host(url: str) -> str:
    """Where the database of ``url`` is reached: its host, or the directory of its socket."""
    from urllib.parse import unquote

    host = unquote(urlsplit(url).hostname or "")
    return f"the socket in {host}" if host.startswith("/") else host or "the default socket"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


class ScratchDatabase:
    """A database created for one benchmark on the server of ``DATABASE_URL``."""

    def __init__(self, name: str, server: str | None = None):
        self.name = name
        self.server = server or server_url()
        self.url = with_database(self.server, name)

    def env(self, **extra) -> dict:
        """The environment of ``manage.py`` and gunicorn on this database (DEBUG off)."""
        return {**os.environ, "DATABASE_URL": self.url, "DEBUG": "0", **extra}

    def _admin(self):
        return psycopg.connect(with_database(self.server, "postgres"), autocommit=True)

    def create(self) -> None:
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{self.name}"')

    def drop(self) -> None:
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def manage(self, *args, quiet=True, **env) -> None:
        """``manage.py *args`` on this database; quiet unless it fails."""
        done = subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), *args],
            env=self.env(**env),
            capture_output=quiet,
            text=True,
        )
        if done.returncode:
            if quiet:
                sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
            raise RuntimeError(f"manage.py {' '.join(args)} failed ({done.returncode})")

    def prepare(self, residents: int, seed: int = 1) -> None:
        """Migrate and seed the demo city (every app's demo data)."""
        self.manage("migrate")
        self.manage("seed", "--residents", str(residents), "--seed", str(seed))

    def shell_json(self, script: str):
        """Run ``script`` in ``manage.py shell`` and read the JSON of its last output line."""
        out = subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), "shell", "-c", script],
            env=self.env(),
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        return json.loads(out.strip().splitlines()[-1])

    def backend_pids(self) -> list[int]:
        with psycopg.connect(self.url) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (self.name,),
            ).fetchall()
        return [r[0] for r in rows]

    def server_version(self) -> str:
        with psycopg.connect(self.url) as conn:
            return conn.execute("SHOW server_version").fetchone()[0]


def _cpu_of(pid: int) -> float:
    """Seconds of CPU (user + system) of a process; 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(stat[1]) == pid:
            out.append(int(entry.name))
    return out


class Gunicorn:
    """gunicorn serving ``shequ.wsgi`` on a free port for the life of the ``with`` block."""

    def __init__(self, env: dict, *, workers: int = 2, threads: int = 8, port: int = 0):
        self.env, self.workers, self.threads = env, workers, threads
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None
        self.log = Path(tempfile.gettempdir()) / f"shequ-bench-gunicorn-{self.port}.log"

    def __enter__(self) -> Gunicorn:
        self._log = self.log.open("w")
        self.process = subprocess.Popen(
            [
                str(ROOT / ".venv" / "bin" / "gunicorn"),
                "shequ.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--threads",
                str(self.threads),
                "--log-level",
                "warning",
            ],
            # Each worker keeps its database connection for the whole run: a backend that
            # ends mid-phase (DB_CONN_MAX_AGE, 60 s by default) takes its CPU time with it,
            # and the server's CPU per request would leave it out.
            env={"DB_CONN_MAX_AGE": "3600", **self.env, "PYTHONPATH": str(ROOT / "src")},
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.wait()
        return self

    def __exit__(self, *exc) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
            self._log.close()

    def log_tail(self, lines: int = 12) -> str:
        """The end of the server's log (tracebacks of failed requests land there)."""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def wait(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/accounts/login/")
                conn.getresponse().read()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start")

    @property
    def description(self) -> str:
        age = {"DB_CONN_MAX_AGE": "3600", **self.env}["DB_CONN_MAX_AGE"]
        return (
            f"gunicorn {self.workers} workers x {self.threads} threads, database connections "
            f"kept {age} s"
        )

    def pids(self) -> list[int]:
        assert self.process is not None
        return [self.process.pid, *_children(self.process.pid)]


@dataclass
class Cpu:
    """CPU seconds spent by the app server (gunicorn) and the database backends."""

    app: float
    db: float
    by_pid: dict

    def __sub__(self, before: Cpu) -> Cpu:
        app = sum(v - before.by_pid.get(k, 0.0) for k, v in self.by_pid.items() if k[0] == "app")
        db = sum(v - before.by_pid.get(k, 0.0) for k, v in self.by_pid.items() if k[0] == "db")
        return Cpu(app, db, {})

    def per_request(self, n: int) -> str:
        if not n:
            return "no requests"
        return (
            f"server CPU {1000 * (self.app + self.db) / n:.1f} ms/request "
            f"(app {1000 * self.app / n:.1f}, PostgreSQL {1000 * self.db / n:.1f})"
        )


def server_cpu(server: Gunicorn, db: ScratchDatabase) -> Cpu:
    by_pid = {("app", pid): _cpu_of(pid) for pid in server.pids()}
    by_pid |= {("db", pid): _cpu_of(pid) for pid in db.backend_pids()}
    return Cpu(
        sum(v for k, v in by_pid.items() if k[0] == "app"),
        sum(v for k, v in by_pid.items() if k[0] == "db"),
        by_pid,
    )


def run_wrk(
    port: int, script: Path, env: dict, *, threads: int, connections: int, seconds: float
) -> tuple[dict, float]:
    """Run wrk (closed loop: ``connections`` keep-alive connections on ``threads`` threads)
    with a Lua ``script`` that prints one line ``RESULT <json>`` when done; that JSON, and the
    CPU seconds wrk used. ``env`` adds to the environment (the script's parameters)."""
    if not WRK:
        raise SystemExit("wrk is not installed: apt-get install wrk (or: make bench-tools)")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [
            *(WRK, "-t", str(threads), "-c", str(connections)),
            *("-d", f"{round(seconds)}s", "--timeout", "30s", "-s", str(script)),
            f"http://127.0.0.1:{port}",
        ],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT ")), cpu

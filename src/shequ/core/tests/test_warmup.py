"""A web worker warms up before it serves: its first requests do not load the URLconf or the
reference data (``shequ.core.warmup``, called from ``shequ.wsgi``)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps
from django.db import connection

from shequ.cases import reference
from shequ.cases.workcalendar import Calendar
from shequ.core.warmup import warm_up

SRC = Path(__file__).resolve().parents[3]


@pytest.mark.django_db(transaction=True)
def test_after_warm_up_intake_reads_its_reference_data_from_the_process(
    django_assert_num_queries,
):
    reference.forget()
    Calendar.forget()
    took = warm_up()
    assert {"urls", "translations", "cases"} <= set(took)
    assert connection.connection is None or connection.vendor == "sqlite"
    with django_assert_num_queries(0):
        reference.reference.get()
        reference.extents.get()
        Calendar.current()


@pytest.mark.django_db(transaction=True)
def test_a_part_that_fails_is_logged_and_the_others_still_load(monkeypatch, caplog):
    def broken():
        raise RuntimeError("the database is not up yet")

    monkeypatch.setattr(apps.get_app_config("cases"), "warm_up", broken, raising=False)
    took = warm_up()
    assert "cases" not in took
    assert "urls" in took
    assert "warm-up of cases failed" in caplog.text
    assert "the database is not up yet" in caplog.text


def _import_wsgi(tmp_path, **env):
    """Import ``shequ.wsgi`` in a fresh interpreter, on an empty SQLite file (no tables)."""
    return subprocess.run(
        [sys.executable, "-c", "import shequ.wsgi"],
        env={
            **os.environ,
            "PYTHONPATH": str(SRC),
            "DJANGO_SETTINGS_MODULE": "shequ.settings",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_worker_starts_even_when_its_warm_up_cannot_read_the_database(tmp_path):
    done = _import_wsgi(tmp_path)
    assert done.returncode == 0, done.stderr
    assert "warm-up of cases failed" in done.stderr
    assert "no such table" in done.stderr

    skipped = _import_wsgi(tmp_path, SHEQU_WARM_UP="0")
    assert skipped.returncode == 0, skipped.stderr
    assert "warm-up" not in skipped.stderr

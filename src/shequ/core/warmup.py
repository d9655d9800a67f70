"""A web worker's warm-up: what its first requests would otherwise load, loaded before it
serves any (``shequ.wsgi`` calls ``warm_up()`` once per worker process).

Django imports the URLconf, and with it every view, serializer and library they use
(pypinyin's tables for the people app among them), at the first request that resolves a URL;
the apps read their reference data (categories, routing rules, area extents, the working-day
calendar, the installed classifier) at the first request that needs it. A worker started by
a deploy, or by gunicorn replacing one that died, made its first callers wait ~1 s for all
of that and queued those behind them. Warming happens before the worker accepts a
connection, so no request pays for it.

Each app adds its own part as an ``AppConfig.warm_up()`` method. A part that fails (the
database not reachable yet, say) is logged and skipped, never fatal: what it would have
loaded is loaded lazily, as without a warm-up. The database connections the parts opened are
closed at the end, so that nothing opened here outlives the process's start (a server that
loads the app before forking must not share a connection between its workers).
"""

from __future__ import annotations

import logging
import time

from django.apps import apps
from django.conf import settings
from django.db import connections
from django.urls import get_resolver
from django.utils import translation

log = logging.getLogger(__name__)


def warm_up() -> dict[str, float]:
    """Load the URLconf, both languages' catalogs and each app's ``warm_up()``; returns the
    seconds each part took ("urls", "translations", then app labels), failed parts left
    out."""
    took: dict[str, float] = {}

    def part(name: str, load) -> None:
        started = time.perf_counter()
        try:
            load()
        except Exception:  # a warm-up must never stop the worker from starting
            log.warning("warm-up of %s failed; it will load at first use", name, exc_info=True)
        else:
            took[name] = time.perf_counter() - started

    part("urls", lambda: get_resolver().url_patterns)
    part("translations", _translations)
    try:
        for config in apps.get_app_configs():
            hook = getattr(config, "warm_up", None)
            if callable(hook):
                part(config.label, hook)
    finally:
        connections.close_all()
    log.info(
        "warmed up in %.0f ms (%s)",
        1000 * sum(took.values()),
        ", ".join(f"{name} {1000 * seconds:.0f} ms" for name, seconds in took.items()),
    )
    return took


def _translations() -> None:
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            translation.gettext("Shequ")

"""A small cache-based rate limiter for searches, reveals and exports (answers 429).

Fixed windows per user and purpose, counted in the default cache (Redis in production, so
limits hold across processes). Limits are settings: ``SHEQU_RATE_LIMITS`` {purpose: (n, s)}.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache

DEFAULTS = {"search": (30, 60), "reveal": (20, 60), "export": (10, 3600)}


def limit_for(purpose: str) -> tuple[int, int]:
    return {**DEFAULTS, **getattr(settings, "SHEQU_RATE_LIMITS", {})}[purpose]


def allow(user, purpose: str) -> bool:
    """Count one use of ``purpose`` by ``user``; False once the window's limit is used up."""
    limit, window = limit_for(purpose)
    slot = int(time.time() // window)
    key = f"shequ:rl:{purpose}:{getattr(user, 'pk', None)}:{slot}"
    if cache.add(key, 1, window + 1):
        return True
    try:
        count = cache.incr(key)
    except ValueError:  # expired in between
        cache.add(key, 1, window + 1)
        return True
    return count <= limit


class RateLimited(Exception):
    pass

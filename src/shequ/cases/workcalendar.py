"""Working days on the Chinese calendar: weekends off, public holidays off, adjusted weekend
workdays (调休) on. The State Council's schedules ship in ``data/holidays.json``; admins add
or correct days in the admin (``WorkCalendarDay``), which win over the file.

Deadlines: "within N working days" ends at the close of office (``END_OF_DAY``) on the Nth
working day after the day the case came in; "within H hours" counts clock hours.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from functools import lru_cache
from pathlib import Path

from django.utils import timezone

DATA_FILE = Path(__file__).with_name("data") / "holidays.json"
END_OF_DAY = dt.time(18, 0)
MAX_SCAN = 400  # days: no year has that many consecutive days off


@lru_cache(maxsize=1)
def shipped() -> dict[dt.date, bool]:
    """{date: is a working day} for the exceptional days of the shipped schedules."""
    data = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    days: dict[dt.date, bool] = {}
    for year, sched in data.items():
        if year.startswith("_"):
            continue
        for iso in sched.get("holidays", {}):
            days[dt.date.fromisoformat(iso)] = False
        for iso in sched.get("workdays", {}):
            days[dt.date.fromisoformat(iso)] = True
    return days


class Calendar:
    """The shipped schedule overlaid with the admins' days, read once per calendar object."""

    def __init__(self, overrides: dict[dt.date, bool] | None = None):
        if overrides is None:
            from .models import WorkCalendarDay

            overrides = dict(WorkCalendarDay.objects.values_list("date", "workday"))
        self.days = {**shipped(), **overrides}

    _current: Calendar | None = None
    _loaded_at = 0.0
    TTL = 300.0  # seconds; an admin's change is seen at once in this process (signal)

    @classmethod
    def current(cls) -> Calendar:
        """A calendar shared by the process, reloaded every ``TTL`` s and whenever an admin
        changes a day in this process."""
        now = time.monotonic()
        if cls._current is None or now - cls._loaded_at > cls.TTL:
            cls._current, cls._loaded_at = cls(), now
        return cls._current

    @classmethod
    def forget(cls, **_kwargs) -> None:
        cls._current = None

    def is_workday(self, day: dt.date) -> bool:
        special = self.days.get(day)
        if special is not None:
            return special
        return day.weekday() < 5

    def add_workdays(self, start: dt.date, n: int) -> dt.date:
        """The Nth working day after ``start`` (n=0: start itself if a workday, else the next)."""
        day = start
        if n == 0:
            for _i in range(MAX_SCAN):
                if self.is_workday(day):
                    return day
                day += dt.timedelta(days=1)
            raise ValueError("no working day found")
        count = 0
        for _i in range(MAX_SCAN * max(1, n)):
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                count += 1
                if count == n:
                    return day
        raise ValueError("no working day found")

    def workdays_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after ``start`` up to and including ``end``."""
        n, day = 0, start
        while day < end:
            day += dt.timedelta(days=1)
            n += self.is_workday(day)
        return n

    def deadline(self, start: dt.datetime, workdays: int) -> dt.datetime:
        local = timezone.localtime(start)
        day = self.add_workdays(local.date(), workdays)
        naive = dt.datetime.combine(day, END_OF_DAY)
        return timezone.make_aware(naive, timezone.get_current_timezone())


def respond_deadline(start: dt.datetime, hours: int) -> dt.datetime:
    return start + dt.timedelta(hours=hours)

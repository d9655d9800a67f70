"""Small helpers shared by the providers."""

from __future__ import annotations

import calendar
import datetime as dt


def month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def month_ends_before(as_of: dt.date, n: int) -> list[dt.date]:
    """The last days of the ``n`` months before the month of ``as_of``, oldest first."""
    out, cursor = [], as_of.replace(day=1)
    for _i in range(n):
        cursor = cursor - dt.timedelta(days=1)
        out.append(cursor)
        cursor = cursor.replace(day=1)
    return out[::-1]


def years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def age_on(birth: dt.date | None, day: dt.date) -> int | None:
    if birth is None:
        return None
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def epoch(moment) -> int | None:
    return int(moment.timestamp()) if moment is not None else None


def rate(numerator, denominator) -> float | None:
    if numerator is None or not denominator:
        return None
    return round(100.0 * numerator / denominator, 1)

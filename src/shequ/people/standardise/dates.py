"""Dates and ages as lists write them.

``parse_date`` tries the formats a source definition names (strftime style; ``%m`` and ``%d``
accept one or two digits, so ``1985/3/7`` parses with ``%Y/%m/%d``) and refuses impossible
dates with a reason. ``birth_range_from_age`` turns an age given on a date into the range of
birth dates it allows, with the nominal age (虚岁, one or two more than the full age) that the
elderly often give.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

DEFAULT_FORMATS = ("%Y%m%d", "%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日")


class DateError(ValueError):
    pass


_TOKEN = {"%Y": r"(?P<Y>\d{4})", "%m": r"(?P<m>\d{1,2})", "%d": r"(?P<d>\d{1,2})"}


@lru_cache(maxsize=64)
def _pattern(fmt: str) -> re.Pattern:
    out = []
    i = 0
    while i < len(fmt):
        tok = fmt[i : i + 2]
        if tok in _TOKEN:
            out.append(_TOKEN[tok])
            i += 2
        else:
            out.append(re.escape(fmt[i]))
            i += 1
    regex = "".join(out)
    if fmt == "%Y%m%d":  # compact form: exactly 8 digits
        regex = r"(?P<Y>\d{4})(?P<m>\d{2})(?P<d>\d{2})"
    return re.compile(rf"^{regex}$")


@lru_cache(maxsize=100_000)
def parse_date(
    raw: str,
    formats: tuple[str, ...] = DEFAULT_FORMATS,
    *,
    earliest: dt.date = dt.date(1890, 1, 1),
    latest: dt.date | None = None,
) -> dt.date | None:
    """Return the date, None for a blank value, or raise DateError saying what is wrong."""
    text = (raw or "").strip()
    text = text.translate(str.maketrans("０１２３４５６７８９－／．", "0123456789-/."))
    if not text:
        return None
    for fmt in formats:
        match = _pattern(fmt).match(text)
        if not match:
            continue
        y, m, d = int(match["Y"]), int(match["m"]), int(match["d"])
        try:
            value = dt.date(y, m, d)
        except ValueError as exc:
            raise DateError(f"{text} is not a date that exists") from exc
        if value < earliest or (latest is not None and value > latest):
            raise DateError(f"{text} is outside the plausible range")
        return value
    raise DateError(f"{text} matches none of the formats {', '.join(formats)}")


def parse_age(raw: str) -> int | None:
    text = (raw or "").strip().removesuffix("岁").removesuffix("周岁")
    if not text:
        return None
    if not text.isdigit():
        raise DateError(f"the age {raw!r} is not a whole number")
    age = int(text)
    if age > 125:
        raise DateError(f"the age {age} is not plausible")
    return age


def age_on(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def birth_range_from_age(
    age: int, on: dt.date, *, nominal_slack: int = 2
) -> tuple[dt.date, dt.date]:
    """Birth dates compatible with an ``age`` said on ``on``: a full age from ``age -
    nominal_slack`` (the nominal age 虚岁 is one or two more than the full age) up to ``age +
    1`` (an age misheard or mistyped by one)."""
    youngest = max(0, age - nominal_slack)
    latest = _minus_years(on, youngest)
    earliest = _minus_years(on, age + 2) + dt.timedelta(days=1)
    return earliest, latest


def _minus_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)

"""Citizen ID numbers (居民身份证号码, GB 11643-1999).

18 characters: 6-digit region code (GB/T 2260), birth date YYYYMMDD, 3-digit sequence (odd for
men, even for women), and an ISO 7064 MOD 11-2 check character (0-9 or X). Old 15-digit numbers
(before 1999) have a 2-digit year and no check character. Foreigners' permanent-residence IDs
(2017 format) are 18 characters starting with 9 and follow the same check.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
_FULLWIDTH = str.maketrans("０１２３４５６７８９ＸｘＳ", "0123456789XxS")


class IdNumberError(ValueError):
    """An ID number that is not valid; the message says what is wrong with it."""


@dataclass(frozen=True)
class IdNumber:
    number: str
    region: str
    birth_date: dt.date
    sex: str  # "1" male, "2" female (GB/T 2261.1)
    foreign_permanent: bool = False


def check_char(first17: str) -> str:
    if len(first17) != 17 or not first17.isdigit():
        raise IdNumberError("the first 17 characters must be digits")
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def clean(raw: str) -> str:
    """Strip spaces and full-width forms, upper-case the check character."""
    return re.sub(r"[\s\-]", "", (raw or "").translate(_FULLWIDTH)).upper()


def upgrade_15(number15: str) -> str:
    """Old 15-digit number -> 18 digits: insert '19' before the year, append the check."""
    if len(number15) != 15 or not number15.isdigit():
        raise IdNumberError("a 15-digit ID number must be 15 digits")
    first17 = number15[:6] + "19" + number15[6:]
    return first17 + check_char(first17)


def parse(raw: str, *, today: dt.date | None = None) -> IdNumber:
    """Validate and normalise; raise IdNumberError naming the first problem found."""
    number = clean(raw)
    if not number:
        raise IdNumberError("the ID number is empty")
    if len(number) == 15:
        number = upgrade_15(number)
    if len(number) != 18:
        raise IdNumberError(f"an ID number has 18 characters, this one has {len(number)}")
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise IdNumberError("an ID number is 17 digits and a final digit or X")
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError as exc:
        raise IdNumberError(f"the birth date {number[6:14]} does not exist") from exc
    today = today or dt.date.today()
    if birth > today or birth.year < 1890:
        raise IdNumberError(f"the birth date {birth.isoformat()} is not plausible")
    expected = check_char(number[:17])
    if number[17] != expected:
        raise IdNumberError(f"the check character is {number[17]}, it should be {expected}")
    sex = "1" if int(number[16]) % 2 else "2"
    return IdNumber(
        number=number,
        region=number[:6],
        birth_date=birth,
        sex=sex,
        foreign_permanent=number.startswith("9"),
    )


def is_valid(raw: str) -> bool:
    try:
        parse(raw)
    except IdNumberError:
        return False
    return True


def make(region: str, birth_date: dt.date, sequence: int) -> str:
    """Build a valid number (the demo city and tests use it): sequence 0-999, odd = male."""
    first17 = f"{region}{birth_date:%Y%m%d}{sequence:03d}"
    return first17 + check_char(first17)

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

from django.utils.translation import gettext_lazy as _

from .errors import ParseError

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
_FULLWIDTH = str.maketrans("０１２３４５６７８９ＸｘＳ", "0123456789XxS")


class IdNumberError(ParseError):
    """An ID number that is not valid; ``str(exc)`` says what is wrong with it, in the active
    language (see core/errors.py)."""


def _digits(text: str) -> bool:
    """ASCII digits only (``str.isdigit`` also accepts '²' and other scripts' digits)."""
    return text.isascii() and text.isdigit()


@dataclass(frozen=True)
class IdNumber:
    number: str
    region: str
    birth_date: dt.date
    sex: str  # "1" male, "2" female (GB/T 2261.1)
    foreign_permanent: bool = False


def check_char(first17: str) -> str:
    if len(first17) != 17 or not _digits(first17):
        raise IdNumberError(_("the first 17 characters must be digits"))
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def clean(raw: str) -> str:
    """Strip spaces and full-width forms, upper-case the check character."""
    return re.sub(r"[\s\-]", "", (raw or "").translate(_FULLWIDTH)).upper()


def upgrade_15(number15: str) -> str:
    """Old 15-digit number -> 18 digits: insert '19' before the year, append the check."""
    if len(number15) != 15 or not _digits(number15):
        raise IdNumberError(_("a 15-digit ID number must be 15 digits"))
    first17 = number15[:6] + "19" + number15[6:]
    return first17 + check_char(first17)


def parse(raw: str, *, today: dt.date | None = None) -> IdNumber:
    """Validate and normalise; raise IdNumberError naming the first problem found."""
    number = clean(raw)
    if not number:
        raise IdNumberError(_("the ID number is empty"))
    if len(number) == 15:
        number = upgrade_15(number)
    if len(number) != 18:
        raise IdNumberError(
            _("an ID number has 18 characters, this one has %(count)s"), count=len(number)
        )
    if not _digits(number[:17]) or not (_digits(number[17]) or number[17] == "X"):
        raise IdNumberError(_("an ID number is 17 digits and a final digit or X"))
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError as exc:
        raise IdNumberError(_("the birth date %(date)s does not exist"), date=number[6:14]) from exc
    today = today or dt.date.today()
    if birth > today or birth.year < 1890:
        raise IdNumberError(_("the birth date %(date)s is not plausible"), date=birth.isoformat())
    expected = check_char(number[:17])
    if number[17] != expected:
        raise IdNumberError(
            _("the check character is %(found)s, it should be %(expected)s"),
            found=number[17],
            expected=expected,
        )
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


# --- Reading IDs as lists write them (masked, mistyped, passports) ------------------------------

MASK_CHARS = "*＊●•×"
_MASKED = re.compile(r"^(?P<prefix>[0-9]*)(?P<mask>\*+)(?P<suffix>[0-9X]*)$")
# Passports and other travel documents: 6-12 letters and digits (resident IDs have 15 or 18).
_PASSPORT = re.compile(r"^(?=[A-Z0-9]*[0-9])[A-Z0-9]{6,12}$")


@dataclass(frozen=True)
class IdReading:
    """What a raw ID field holds, without refusing anything.

    ``kind``: ``resident`` (a valid GB 11643 number, 15-digit ones upgraded to 18), ``invalid``
    (looks like a resident number but fails the length, date or check; ``problem`` says why),
    ``masked`` (``prefix`` and ``suffix`` visible, ``length`` characters in all), ``passport``,
    ``other`` or ``blank``. ``number`` is the cleaned text (18 characters for ``resident``).
    """

    kind: str
    number: str = ""
    problem: str = ""
    prefix: str = ""
    suffix: str = ""
    length: int = 0
    birth_date: dt.date | None = None
    sex: str = ""
    upgraded_from_15: bool = False


def masked_parts(raw: str) -> tuple[str, str, int] | None:
    """``510108********123X`` -> ('510108', '123X', 18); None when the value is not masked."""
    text = re.sub(r"\s", "", (raw or "").translate(_FULLWIDTH)).upper()
    for ch in MASK_CHARS:
        text = text.replace(ch, "*")
    match = _MASKED.match(text)
    if not match:
        return None
    return match["prefix"], match["suffix"], len(text)


def read(raw: str, *, today: dt.date | None = None) -> IdReading:
    """Classify and clean a raw ID field; never raises (see :class:`IdReading`)."""
    if not (raw or "").strip():
        return IdReading(kind="blank")
    parts = masked_parts(raw)
    if parts is not None:
        prefix, suffix, length = parts
        return IdReading(
            kind="masked",
            number=prefix + "*" * (length - len(prefix) - len(suffix)) + suffix,
            prefix=prefix,
            suffix=suffix,
            length=length,
        )
    number = clean(raw)
    if _PASSPORT.match(number):
        return IdReading(kind="passport", number=number)
    if not re.fullmatch(r"[0-9]{14,19}X?|[0-9]{17}[0-9X]", number):
        return IdReading(kind="other", number=number, problem="not a citizen ID number")
    try:
        parsed = parse(number, today=today)
    except IdNumberError as exc:
        birth = None
        if len(number) == 18:
            try:
                birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
            except ValueError:
                birth = None
        # Stored with the record as data: the source text, whatever the active language.
        return IdReading(kind="invalid", number=number, problem=exc.source_text, birth_date=birth)
    return IdReading(
        kind="resident",
        number=parsed.number,
        birth_date=parsed.birth_date,
        sex=parsed.sex,
        upgraded_from_15=len(number) == 15,
    )

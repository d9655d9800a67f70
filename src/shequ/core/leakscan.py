"""Find unmasked citizen ID numbers and mobile numbers in text (responses, URLs, log lines).

Used by the test suite's response scanner (root ``conftest.py``): every response of every test
is scanned, except the answers of a reveal (``X-Personal-Data: revealed``).
"""

from __future__ import annotations

import re

from .idnumber import check_char

# 18 characters, not part of a longer run of digits/letters; the 18th is the GB 11643 check.
_ID = re.compile(r"(?<![0-9A-Za-z])([1-9]\d{16}[0-9Xx])(?![0-9A-Za-z])")
# A mainland mobile number, not part of a longer run of digits.
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d{9})(?!\d)")


def find(text: str) -> list[str]:
    """The plain ID numbers (valid check character) and mobile numbers in ``text``."""
    found = [m for m in _ID.findall(text) if check_char(m[:17]) == m[17].upper()]
    found += _MOBILE.findall(text)
    return found


def redact(value: str) -> str:
    """For failure messages: never print the value itself in full."""
    return value[:3] + "…" + value[-2:]

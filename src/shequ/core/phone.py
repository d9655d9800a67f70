"""Chinese phone numbers: mobiles (11 digits, 1[3-9]...) and landlines (area code + 7-8 digits)."""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _

from .errors import ParseError

MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
LANDLINE = re.compile(r"^0[0-9]{2,3}[0-9]{7,8}$")
_FULLWIDTH = str.maketrans("０１２３４５６７８９＋－", "0123456789+-")


class PhoneError(ParseError):
    """Not a phone number; ``str(exc)`` says why in the active language (see core/errors.py)."""


def normalise(raw: str) -> str:
    """'+86 138-8000-1234' -> '13880001234'; '028-8555 1234' -> '02885551234'."""
    text = (raw or "").translate(_FULLWIDTH).strip()
    digits = re.sub(r"[\s\-()（）.]", "", text)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    if not digits:
        raise PhoneError(_("the phone number is empty"))
    if not (digits.isascii() and digits.isdigit()):
        # Name the characters that do not belong, never the number itself (it is personal).
        wrong = "".join(dict.fromkeys(ch for ch in digits if ch not in "0123456789"))
        raise PhoneError(
            _("a phone number has only digits (this one also has: %(chars)s)"), chars=wrong
        )
    if MOBILE.match(digits) or LANDLINE.match(digits):
        return digits
    if digits.startswith("1") and len(digits) != 11:
        raise PhoneError(
            _("a mobile number has 11 digits, this one has %(count)s"), count=len(digits)
        )
    raise PhoneError(_("not a mobile (1xxxxxxxxxx) or landline (0xx-xxxxxxxx) number"))


def is_mobile(value: str) -> bool:
    return bool(MOBILE.match(value or ""))


# --- Reading phone fields as lists write them ----------------------------------------------------

SEPARATORS = re.compile(r"[/／;；,，、|]|\s{2,}|或")
LOCAL_LANDLINE = re.compile(r"^[2-9][0-9]{6,7}$")


def read_many(raw: str, *, area_code: str = "028") -> list[tuple[str, str]]:
    """Every number in a phone field, as ``(digits, problem)`` pairs.

    Several numbers may be separated by '/', ';', ',' or '、'. A local landline without its
    area code (``87654321``) gets ``area_code``. A value that is not a valid number keeps its
    digits (so a mistyped number can still be compared) and says what is wrong (in the source
    text, whatever the active language: the problem is stored as data).
    """
    out: list[tuple[str, str]] = []
    for part in SEPARATORS.split((raw or "").translate(_FULLWIDTH)):
        part = part.strip()
        if not part:
            continue
        try:
            out.append((normalise(part), ""))
            continue
        except PhoneError as exc:
            problem = exc.source_text  # stored with the record: the source text
        digits = re.sub(r"[^0-9]", "", part)
        if part.lstrip().startswith("+86") and digits.startswith("86"):
            digits = digits[2:]
        if LOCAL_LANDLINE.match(digits):
            out.append((area_code + digits, ""))
        elif digits:
            out.append((digits, problem))
    return out

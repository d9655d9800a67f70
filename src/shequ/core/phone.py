"""Chinese phone numbers: mobiles (11 digits, 1[3-9]...) and landlines (area code + 7-8 digits)."""

from __future__ import annotations

import re

MOBILE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE = re.compile(r"^0\d{2,3}\d{7,8}$")
_FULLWIDTH = str.maketrans("０１２３４５６７８９＋－", "0123456789+-")


class PhoneError(ValueError):
    pass


def normalise(raw: str) -> str:
    """'+86 138-8000-1234' -> '13880001234'; '028-8555 1234' -> '02885551234'."""
    text = (raw or "").translate(_FULLWIDTH).strip()
    digits = re.sub(r"[\s\-()（）.]", "", text)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    if not digits:
        raise PhoneError("the phone number is empty")
    if not digits.isdigit():
        raise PhoneError(f"a phone number has only digits, not {text!r}")
    if MOBILE.match(digits) or LANDLINE.match(digits):
        return digits
    if digits.startswith("1") and len(digits) != 11:
        raise PhoneError(f"a mobile number has 11 digits, this one has {len(digits)}")
    raise PhoneError("not a mobile (1xxxxxxxxxx) or landline (0xx-xxxxxxxx) number")


def is_mobile(value: str) -> bool:
    return bool(MOBILE.match(value or ""))


# --- Reading phone fields as lists write them ----------------------------------------------------

SEPARATORS = re.compile(r"[/／;；,，、|]|\s{2,}|或")
LOCAL_LANDLINE = re.compile(r"^[2-9]\d{6,7}$")


def read_many(raw: str, *, area_code: str = "028") -> list[tuple[str, str]]:
    """Every number in a phone field, as ``(digits, problem)`` pairs.

    Several numbers may be separated by '/', ';', ',' or '、'. A local landline without its
    area code (``87654321``) gets ``area_code``. A value that is not a valid number keeps its
    digits (so a mistyped number can still be compared) and says what is wrong.
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
            problem = str(exc)
        digits = re.sub(r"\D", "", part)
        if part.lstrip().startswith("+86") and digits.startswith("86"):
            digits = digits[2:]
        if LOCAL_LANDLINE.match(digits):
            out.append((area_code + digits, ""))
        elif digits:
            out.append((digits, problem))
    return out

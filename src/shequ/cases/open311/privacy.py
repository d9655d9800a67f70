"""What the public Open311 feed may show of a case: no personal data.

The public GET endpoints never read the reporter's contact columns for output. Free text that
residents and staff wrote (the description, status notes) goes through ``scrub``: phone
numbers, ID numbers and e-mail addresses are masked as everywhere else (``core.masking``), and
the reporter's own name is masked where the text repeats it. Addresses are cut before the
building / unit / room part (a home address names a household); ``address_id`` is the compound's
code, never a dwelling's; coordinates are rounded to 4 decimals (about 10 m).
"""

from __future__ import annotations

import re

from shequ.core.masking import mask_id_number, mask_name, mask_phone

COORD_DECIMALS = 4

_ID = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?(1[3-9]\d)[- ]?(\d{4})[- ]?(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})[- ]?(\d{7,8})(?!\d)")
_EMAIL = re.compile(r"[\w.+-]+@([\w-]+\.)+[\w-]{2,}")
# From the first building / unit / floor / room marker on: 3栋, 2单元, 501室, 12号楼, 3-2-501.
_DWELLING_PART = re.compile(
    r"(?:[0-9０-９一二三四五六七八九十百A-Za-z]+\s*(?:栋|幢|号楼|座|单元|楼|层|室|户))"
    r"|(?:\d+-\d+(?:-\d+)?)"
)
_COMPOUND_CODE = re.compile(r"^(.+C\d+)")


def scrub(text: str, names: tuple[str, ...] = ()) -> str:
    if not text:
        return ""
    text = _EMAIL.sub(lambda m: "***@" + m.group(0).split("@", 1)[1], text)
    text = _ID.sub(lambda m: mask_id_number(m.group(1)), text)
    text = _MOBILE.sub(lambda m: mask_phone("".join(m.groups())), text)
    text = _LANDLINE.sub(lambda m: mask_phone("".join(m.groups())), text)
    for name in names:
        name = (name or "").strip()
        if len(name) >= 2:
            text = text.replace(name, mask_name(name))
    return text


def public_address(address: str, names: tuple[str, ...] = ()) -> str:
    address = (address or "").strip()
    match = _DWELLING_PART.search(address)
    if match:
        address = address[: match.start()].rstrip(" ,，-")
    return scrub(address, names)


def public_address_id(place_code: str | None) -> str | None:
    """The compound's code of a place (a building, unit or dwelling names less than a home)."""
    if not place_code:
        return None
    match = _COMPOUND_CODE.match(place_code)
    return match.group(1) if match else None


def public_coordinate(value: float | None) -> float | None:
    return None if value is None else round(value, COORD_DECIMALS)

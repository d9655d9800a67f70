"""How codes are built below the national ones. One place, used by the seeder, importers, tests.

city ``5101`` · district ``510104`` · street ``510104001`` · community ``510104001001``
grid ``510104001001G01`` · compound ``510104001001C012`` · building ``…C012B03``
unit ``…B03U2`` · dwelling ``…U2R0501`` (floor 05, room 01) · facility ``<area code>F01``
"""

from __future__ import annotations

import re

_NATIONAL = re.compile(r"^\d{6}(\d{3}(\d{3})?)?$")


def city_prefix(national_code: str) -> str:
    """'510100' -> '5101': the prefix every district code of the city starts with."""
    code = national_code.rstrip()
    while len(code) > 2 and code.endswith("00"):
        code = code[:-2]
    return code


def is_national(code: str) -> bool:
    return bool(_NATIONAL.match(code))


def grid_code(community_code: str, n: int) -> str:
    return f"{community_code}G{n:02d}"


def compound_code(community_code: str, n: int) -> str:
    return f"{community_code}C{n:03d}"


def building_code(compound: str, n: int) -> str:
    return f"{compound}B{n:02d}"


def unit_code(building: str, n: int) -> str:
    return f"{building}U{n}"


def dwelling_code(unit: str, floor: int, room: int) -> str:
    return f"{unit}R{floor:02d}{room:02d}"


def extend(parent_code: str, code: str) -> str:
    """A child's code extends its parent's; an outside code (``C00000``) is put under it."""
    return code if code.startswith(parent_code) else f"{parent_code}{code}"


def facility_code(area_code: str, n: int) -> str:
    return f"{area_code}F{n:02d}"

"""Addresses parsed into the governance tree: district › street › community › compound ›
building › unit › room.

Real lists write the same flat as ``3栋2单元501``, ``3-2-501``, ``三栋二单元501室``,
``3幢2单元501号`` or, on police rolls, as the compound's gate road address with floor and flat
(``金沙北路269号3栋2单元5楼1号``). They put the province, city, district, street or community
in front, shorten the compound name, drop its phase or the unit. Village addresses are written
``新民村3组25号`` (village, group, house number). :func:`parse_address` handles all of these,
given the :class:`~shequ.people.standardise.geography.Geography` of the data set and whatever
context the record's other columns give (district, street, community codes).

The result keeps every candidate compound when an abbreviation fits several (and the context
cannot decide), so that linkage can still compare them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from .geography import Geography
from .numerals import CHARS, replace_numbers

_NUM = rf"[0-9{CHARS}]+"
SPEC_PATTERNS = (
    # 3栋2单元501, 3幢2单元501号, 3栋501, 22栋2单元8楼4号 (police: floor and flat)
    re.compile(
        r"^(?P<b>\d+)(?:栋|幢|号楼|座|#)(?:(?P<u>\d+)单元)?"
        r"(?:(?P<f>\d+)楼(?P<n>\d+)号?|(?P<r>\d+)(?:室|号|房)?)?$"
    ),
    re.compile(r"^(?P<b>\d+)-(?P<u>\d+)-(?P<r>\d+)(?:室|号|房)?$"),
    re.compile(r"^(?P<b>\d+)-(?P<r>\d+)(?:室|号|房)?$"),
)
VILLAGE = re.compile(rf"^(?P<v>[\u4e00-\u9fff]{{1,8}}?村)(?P<g>{_NUM})组(?P<n>\d+)号?$")
SPEC_AT_END = re.compile(r"(?P<spec>\d+(?:栋|幢|号楼|座|#).*|\d+-\d+(?:-\d+)?(?:室|号|房)?)$")


@dataclass(frozen=True, slots=True)
class Address:
    raw: str = ""
    kind: str = "blank"  # dwelling | compound | village | collective | unknown | blank
    district: str = ""
    street: str = ""
    community: str = ""
    compounds: tuple[str, ...] = ()  # candidate compound codes (one when resolved)
    place_text: str = ""  # the compound text as written, when it matched no compound
    building: int | None = None
    unit: int | None = None
    room: int | None = None

    @property
    def compound(self) -> str:
        return self.compounds[0] if len(self.compounds) == 1 else ""

    @property
    def place(self) -> str:
        """A key for the compound or village, or '' when unknown or ambiguous."""
        if self.kind == "village":
            return self.place_text
        return self.compound


BLANK = Address()


@lru_cache(maxsize=100_000)
def parse_spec(text: str) -> tuple[int | None, int | None, int | None] | None:
    """Building, unit, room from '3栋2单元501', '3-2-501', '22栋2单元8楼4号' …; None if the
    text is not such a form; (None, None, None) for an empty text."""
    text = replace_numbers(text).strip("，,。 ")
    if not text:
        return None, None, None
    for pattern in SPEC_PATTERNS:
        match = pattern.match(text)
        if not match:
            continue
        groups = match.groupdict()
        building = int(groups["b"])
        unit = int(groups["u"]) if groups.get("u") else None
        room = None
        if groups.get("f"):
            room = int(groups["f"]) * 100 + int(groups["n"])
        elif groups.get("r"):
            room = int(groups["r"])
        return building, unit, room
    return None


def _strip_prefixes(text: str, geo: Geography, ctx: dict[str, str]) -> str:
    changed = True
    while changed:
        changed = False
        for prefix in ("中国", "四川省", "四川", "成都市", "成都"):
            if text.startswith(prefix):
                text, changed = text[len(prefix) :], True
        for name, code in geo.district_by_name.items():
            if name.endswith(("区", "县", "市")) and text.startswith(name):
                ctx.setdefault("district", code)
                text, changed = text[len(name) :], True
                break
        match = re.match(r"^([\u4e00-\u9fff]{2,8}?(?:街道|镇|乡))", text)
        if match and match.group(1) in geo.street_by_name:
            code = geo.street_code(match.group(1))
            if code:
                ctx.setdefault("street", code)
            text, changed = text[len(match.group(1)) :], True
        match = re.match(r"^([\u4e00-\u9fff]{2,8}?社区)", text)
        if match and match.group(1) in geo.community_by_name:
            code = geo.community_code(match.group(1))
            if code:
                ctx.setdefault("community", code)
            text, changed = text[len(match.group(1)) :], True
    return text


def _context_code(ctx: dict[str, str]) -> str:
    return ctx.get("community") or ctx.get("street") or ctx.get("district") or ""


def _finish(raw: str, ctx: dict[str, str], geo: Geography, **fields) -> Address:
    compounds = fields.get("compounds", ())
    community = ctx.get("community", "")
    street = ctx.get("street", "")
    district = ctx.get("district", "")
    if len(compounds) == 1:
        comp = geo.compounds[compounds[0]]
        community, street, district = comp.community, comp.street, comp.district
    elif compounds:
        communities = {geo.compounds[c].community for c in compounds}
        if len(communities) == 1:
            community = communities.pop()
        districts = {geo.compounds[c].district for c in compounds}
        if len(districts) == 1:
            district = districts.pop()
    if community and not street:
        street = geo.communities.get(community, ("", ""))[1]
    if street and not district:
        district = street[:6]
    return Address(raw=raw, district=district, street=street, community=community, **fields)


def parse_address(
    raw: str,
    geo: Geography,
    *,
    district: str = "",
    street: str = "",
    community: str = "",
) -> Address:
    """Parse one address; the keyword arguments are area codes the record gives elsewhere."""
    return _parse_cached(raw or "", geo, district, street, community)


@lru_cache(maxsize=400_000)
def _parse_cached(raw: str, geo: Geography, district: str, street: str, community: str):
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", raw))
    if not text:
        return BLANK
    ctx = {k: v for k, v in (("district", district), ("street", street)) if v}
    if community:
        ctx["community"] = community
    text = _strip_prefixes(text, geo, ctx)
    if "集体户" in text:
        return _finish(raw, ctx, geo, kind="collective", place_text=text)

    match = VILLAGE.match(text)
    if match:
        village = match["v"]
        codes = geo.community_by_name.get(village, [])
        scope = _context_code(ctx)
        inside = [c for c in codes if scope and c.startswith(scope[:6])]
        codes = inside or codes
        if len(codes) == 1:
            ctx["community"] = codes[0]
            key = "V" + codes[0]
        else:
            key = "V" + (ctx.get("district", "") or "") + village
        group = int(replace_numbers(match["g"]))
        return _finish(
            raw, ctx, geo, kind="village", place_text=key, building=group, room=int(match["n"])
        )

    scope = _context_code(ctx)
    for candidates, rest in geo.match_compound_prefix(text, context=scope):
        spec = parse_spec(rest)
        if spec is None:
            continue
        codes = geo.narrow(candidates, context=scope)
        building, unit, room = spec
        kind = "dwelling" if building is not None else "compound"
        return _finish(
            raw,
            ctx,
            geo,
            kind=kind,
            compounds=tuple(codes),
            building=building,
            unit=unit,
            room=room,
        )

    road = geo.match_road(text, context=_context_code(ctx))
    if road is not None:
        codes, rest = road
        spec = parse_spec(rest)
        if spec is not None:
            building, unit, room = spec
            kind = "dwelling" if building is not None else "compound"
            return _finish(
                raw,
                ctx,
                geo,
                kind=kind,
                compounds=codes,
                building=building,
                unit=unit,
                room=room,
            )

    match = SPEC_AT_END.search(replace_numbers(text))
    if match:
        spec = parse_spec(match["spec"])
        if spec is not None:
            head = replace_numbers(text)[: match.start()]
            return _finish(
                raw,
                ctx,
                geo,
                kind="unknown",
                place_text=head,
                building=spec[0],
                unit=spec[1],
                room=spec[2],
            )
    return _finish(raw, ctx, geo, kind="unknown", place_text=text)

"""The area tree as linkage needs it: districts, streets, communities and compounds by name.

Reads the ``geography.csv`` of a data set (columns ``level, code, name, parent_code, kind,
road_address, managed``) with the csv module, and indexes

* every compound under the names lists really use: the canonical name, without its phase
  (``北苑桥新居三期`` -> ``北苑桥新居``), with the district in front (``郫都锦华花园一期``), and
  abbreviated (``明珠二期`` for ``明珠家园二期``, ``锦城东`` for ``锦城东苑``);
* every compound's gate road address (``金沙北路269号``), which is how police rolls write it;
* districts, streets and communities by full and short name.

An abbreviation can fit several compounds; :meth:`Geography.match_compound` returns all
candidates and narrows them with the context (community, street, district) when it has one.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

PHASE = re.compile(r"([一二三四五六七八九十0-9]+)期$")
GENERIC_TAILS = (
    "安置小区",
    "安置房",
    "小区",
    "花园",
    "家园",
    "新村",
    "新居",
    "公馆",
    "名苑",
    "雅苑",
    "西苑",
    "东苑",
    "雅居",
    "名邸",
    "大厦",
    "新城",
    "丽景",
    "春天",
    "华庭",
    "尚城",
)

# Match priorities: lower is better.
EXACT, VARIANT, ABBREVIATION, LOOSE_ABBREVIATION = 0, 1, 2, 3


@dataclass(frozen=True, slots=True)
class Compound:
    code: str
    name: str
    community: str
    street: str
    district: str
    kind: str
    road_address: str
    managed: bool


@dataclass(eq=False)
class Geography:
    districts: dict[str, str] = field(default_factory=dict)  # code -> name
    streets: dict[str, tuple[str, str]] = field(default_factory=dict)  # code -> (name, parent)
    communities: dict[str, tuple[str, str]] = field(default_factory=dict)
    compounds: dict[str, Compound] = field(default_factory=dict)
    district_by_name: dict[str, str] = field(default_factory=dict)  # 郫都区 and 郫都 -> code
    street_by_name: dict[str, list[str]] = field(default_factory=dict)
    community_by_name: dict[str, list[str]] = field(default_factory=dict)
    compound_variants: dict[str, dict[str, int]] = field(default_factory=dict)
    # 金沙北路269号 -> the codes of every compound at that gate address (the same road address
    # exists in several districts: 锦江区人民路1号 and 青羊区人民路1号)
    road_index: dict[str, list[str]] = field(default_factory=dict)
    max_variant_len: int = 0
    max_road_len: int = 0

    # ------------------------------------------------------------------ loading
    @classmethod
    def from_csv(cls, path: str | Path) -> Geography:
        geo = cls()
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            missing = {"level", "code", "name", "parent_code"} - set(reader.fieldnames or ())
            if missing:
                raise ValueError(
                    f"{path}: the geography file needs the columns {', '.join(sorted(missing))}"
                )
            rows = list(reader)
        for row in rows:
            level, code, name = row["level"].strip(), row["code"].strip(), row["name"].strip()
            parent = row["parent_code"].strip()
            if level == "district":
                geo.add_district(code, name)
            elif level == "street":
                geo.streets[code] = (name, parent)
                geo.street_by_name.setdefault(name, []).append(code)
            elif level == "community":
                geo.communities[code] = (name, parent)
                geo.community_by_name.setdefault(name, []).append(code)
        for row in rows:
            if row["level"].strip() == "compound":
                community = row["parent_code"].strip()
                street = geo.communities.get(community, ("", community[:9]))[1]
                geo.add_compound(
                    Compound(
                        code=row["code"].strip(),
                        name=row["name"].strip(),
                        community=community,
                        street=street,
                        district=street[:6],
                        kind=(row.get("kind") or "").strip(),
                        road_address=(row.get("road_address") or "").strip(),
                        managed=(row.get("managed") or "").strip() in ("1", "true", "yes"),
                    )
                )
        return geo

    def add_district(self, code: str, name: str) -> None:
        self.districts[code] = name
        self.district_by_name[name] = code
        short = district_short(name)
        if short and short != name:
            self.district_by_name.setdefault(short, code)

    def add_compound(self, compound: Compound) -> None:
        self.compounds[compound.code] = compound
        for variant, priority in compound_name_variants(
            compound.name, self.districts.get(compound.district, "")
        ):
            slot = self.compound_variants.setdefault(variant, {})
            if priority < slot.get(compound.code, 99):
                slot[compound.code] = priority
            self.max_variant_len = max(self.max_variant_len, len(variant))
        if compound.road_address:
            codes = self.road_index.setdefault(compound.road_address, [])
            if compound.code not in codes:
                codes.append(compound.code)
            self.max_road_len = max(self.max_road_len, len(compound.road_address))

    # ------------------------------------------------------------------ lookups
    def community_code(self, name: str, street_name: str = "") -> str:
        """The community's code from its name (and its street's name when names repeat)."""
        codes = self.community_by_name.get((name or "").strip(), [])
        if len(codes) > 1 and street_name:
            streets = set(self.street_by_name.get(street_name.strip(), []))
            codes = [c for c in codes if self.communities[c][1] in streets] or codes
        return codes[0] if len(codes) == 1 else ""

    def street_code(self, name: str) -> str:
        codes = self.street_by_name.get((name or "").strip(), [])
        return codes[0] if len(codes) == 1 else ""

    def narrow(self, candidates: dict[str, int], *, context: str = "") -> list[str]:
        """Candidates (code -> priority) narrowed by an area-code context, best priority
        first; returns codes sharing the best priority."""
        if not candidates:
            return []
        items = list(candidates.items())
        if context:
            inside = [(c, p) for c, p in items if self.compounds[c].community.startswith(context)]
            if inside:
                items = inside
        best = min(p for _, p in items)
        return sorted(c for c, p in items if p == best)

    def match_compound_prefix(self, text: str, *, context: str = ""):
        """Every way ``text`` can start with a compound name, longest first: yields
        (candidate codes, rest of the text); candidates are narrowed lazily."""
        variants = self.compound_variants
        for length in range(min(len(text), self.max_variant_len), 1, -1):
            candidates = variants.get(text[:length])
            if candidates:
                yield candidates, text[length:]

    def match_road(self, text: str, context: str = "") -> tuple[tuple[str, ...], str] | None:
        """(compound codes, rest) when ``text`` starts with a compound's gate road address.
        ``context``: the area code the text (or the record) names before it (district,
        street or community); it chooses among compounds with the same road address. With
        no context, or none inside it, every candidate is kept."""
        for length in range(min(len(text), self.max_road_len), 3, -1):
            codes = self.road_index.get(text[:length])
            if codes:
                if context and len(codes) > 1:
                    inside = [c for c in codes if self.compounds[c].community.startswith(context)]
                    codes = inside or codes
                return tuple(codes), text[length:]
        return None


def district_short(name: str) -> str:
    """锦江区 -> 锦江, 龙泉驿区 -> 龙泉驿 (the form used in front of compound names)."""
    for suffix in ("区", "县", "市"):
        if name.endswith(suffix) and len(name) > 2:
            return name[: -len(suffix)]
    return name


def split_phase(name: str) -> tuple[str, str]:
    """'北苑桥新居三期' -> ('北苑桥新居', '三期')."""
    match = PHASE.search(name)
    if not match:
        return name, ""
    return name[: match.start()], match.group(0)


def compound_name_variants(name: str, district_name: str = "") -> list[tuple[str, int]]:
    """Names a list may use for the compound ``name``, each with its match priority."""
    base, phase = split_phase(name)
    out: list[tuple[str, int]] = [(name, EXACT)]
    if phase:
        out.append((base, VARIANT))
        digit_phase = PHASE.sub(lambda m: _phase_digits(m.group(1)) + "期", phase)
        if digit_phase != phase:
            out.append((base + digit_phase, VARIANT))
    short = district_short(district_name) if district_name else ""
    for prefix in {short, district_name} - {""}:
        out.append((prefix + name, VARIANT))
        if phase:
            out.append((prefix + base, VARIANT))
    # Abbreviations: a leading part of the base name (at least two characters), with the phase
    # kept when there is one; generic tails dropped (红林安置小区二期 -> 红林安置二期).
    for k in range(2, len(base)):
        out.append((base[:k] + phase, ABBREVIATION))
        if phase:
            out.append((base[:k], LOOSE_ABBREVIATION))
    for tail in GENERIC_TAILS:
        if base.endswith(tail) and len(base) - len(tail) >= 2:
            out.append((base[: -len(tail)] + phase, ABBREVIATION))
            if phase:
                out.append((base[: -len(tail)], ABBREVIATION))
    return out


def _phase_digits(text: str) -> str:
    from .numerals import to_int

    value = to_int(text)
    return str(value) if value is not None else text

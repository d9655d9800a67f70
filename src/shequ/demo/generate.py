"""The demo city: Chengdu's real districts, generated streets, communities, grids, compounds,
buildings, dwellings, households, residents and facilities, written in bulk.

Deterministic: everything random comes from one ``random.Random(seed)`` consumed in a fixed
order, so the same ``--residents`` and ``--seed`` give the same names, codes and ID numbers.
Streaming: the city is generated one street at a time and written in batches; memory holds one
street plus the sets that keep ID numbers unique.
"""

from __future__ import annotations

import json
import math
import random
import time
from dataclasses import dataclass, field

from shequ.areas import codes
from shequ.areas.models import Area, CompoundType, Facility, FacilityKind, Level, Place, PlaceKind
from shequ.people.models import Household as HouseholdModel
from shequ.people.models import Person, Residence

from . import chengdu, names
from . import geometry as geo
from .population import PeopleMaker
from .writer import Writer

# Sizes: a grid is drawn around ~300 households (about 730 residents at ~2.44 per household);
# a community has 2-5 grids, a street 2-4 communities, a district takes up to ~50,000 residents
# before the next district is opened (so 20,000 residents make one district, 1,000,000 all 20).
RESIDENTS_PER_GRID = 730
GRIDS_PER_COMMUNITY = 3.6
COMMUNITIES_PER_STREET = 3
RESIDENTS_PER_DISTRICT = 50_000
BATCH_ROWS = 100_000

AREA_FIELDS = [
    "code", "level", "parent_id", "ext_code", "kind", "name", "name_en", "lat", "lng", "boundary"
]  # fmt: skip
PLACE_FIELDS = [
    "code", "kind", "parent_id", "area_code", "compound_type", "address", "managed", "floor",
    "name", "name_en", "lat", "lng", "boundary",
]  # fmt: skip
HOUSEHOLD_FIELDS = ["number", "area_code", "dwelling_id", "collective"]
PERSON_FIELDS = [
    "area_code", "name", "name_latin", "sex", "birth_date", "id_type", "id_number", "phone",
    "ethnicity", "nationality", "resident_type", "hukou_region", "household_id", "relation",
    "dwelling_id",
]  # fmt: skip
RESIDENCE_FIELDS = ["person_id", "dwelling_id", "kind", "start", "area_code"]
FACILITY_FIELDS = [
    "code", "kind", "area_code", "address", "capacity", "name", "name_en", "lat", "lng"
]  # fmt: skip

# Compound types by where the community is: (commercial, old, resettlement, village)
_MIX = {
    (chengdu.CORE, "community"): (55, 35, 10, 0),
    (chengdu.SUBURB, "community"): (60, 10, 30, 0),
    (chengdu.COUNTY, "community"): (50, 25, 25, 0),
    ("town", "community"): (35, 15, 50, 0),
    ("town", "village"): (0, 0, 15, 85),
}
_TYPES = [
    CompoundType.COMMERCIAL,
    CompoundType.OLD,
    CompoundType.RESETTLEMENT,
    CompoundType.VILLAGE,
]
# Dwellings per compound (before the grid's remaining need caps it)
_SIZE = {
    CompoundType.COMMERCIAL: (150, 600),
    CompoundType.OLD: (24, 120),
    CompoundType.RESETTLEMENT: (120, 400),
    CompoundType.VILLAGE: (25, 60),
}
_MANAGED = {
    CompoundType.COMMERCIAL: 0.96,
    CompoundType.OLD: 0.35,
    CompoundType.RESETTLEMENT: 0.7,
    CompoundType.VILLAGE: 0.0,
}


def split(total: int, weights: list[float], minimum: int = 0) -> list[int]:
    """Integers summing to ``total`` in proportion to ``weights`` (largest remainder), each at
    least ``minimum`` when the total allows it."""
    n = len(weights)
    base = minimum if total >= minimum * n else 0
    rest = total - base * n
    wsum = sum(weights)
    raw = [rest * w / wsum for w in weights]
    out = [int(r) for r in raw]
    short = rest - sum(out)
    order = sorted(range(n), key=lambda i: (out[i] - raw[i], i))
    for i in order[:short]:
        out[i] += 1
    return [base + o for o in out]


def _area_name(base: str, kind: str) -> tuple[str, str]:
    suffix = {
        "street": ("街道", "Street"),
        "town": ("镇", "Town"),
        "community": ("社区", "Community"),
        "village": ("村", "Village"),
    }[kind]
    return base + suffix[0], f"{names.pinyin(base)} {suffix[1]}"


@dataclass
class Stats:
    areas: dict = field(default_factory=dict)
    places: dict = field(default_factory=dict)
    households: int = 0
    residents: int = 0
    residences: int = 0
    facilities: int = 0
    districts_used: int = 0
    seconds: float = 0.0
    by_type: dict = field(default_factory=dict)


@dataclass
class DemoAreas:
    """The areas the demo accounts are attached to (first street, community, grid)."""

    street: tuple[str, str] | None = None
    community: tuple[str, str] | None = None
    grid: tuple[str, str] | None = None


class CitySeeder:
    def __init__(self, residents: int, seed: int, log=None):
        if residents < 1:
            raise ValueError("the number of residents must be at least 1")
        self.residents = residents
        self.seed = seed
        self.rng = random.Random(seed)
        self.log = log or (lambda msg: None)
        self.people = PeopleMaker(self.rng)
        self.street_pool, self.village_pool = names.place_pools()
        self.stats = Stats()
        self.demo = DemoAreas()
        self.done = 0
        self._t0 = 0.0
        self._facility_n: dict[str, int] = {}

    # --- the plan -----------------------------------------------------------------------

    def plan(self) -> list[tuple[chengdu.District, list[int]]]:
        """Per district that receives residents: the resident quota of each of its grids."""
        rng = self.rng
        n = self.residents
        grids = max(1, round(n / RESIDENTS_PER_GRID))
        k = min(len(chengdu.DISTRICTS), math.ceil(n / RESIDENTS_PER_DISTRICT), grids)
        used = chengdu.DISTRICTS[:k]
        grid_counts = split(grids, [d.population for d in used], minimum=1)
        jitter = [rng.uniform(0.85, 1.15) for _ in range(grids)]
        quotas = split(n, jitter)
        out, i = [], 0
        for d, g in zip(used, grid_counts, strict=True):
            out.append((d, quotas[i : i + g]))
            i += g
        return out

    # --- writing ------------------------------------------------------------------------

    def run(self) -> Stats:
        self._t0 = time.monotonic()
        w = self.w = Writer()
        self.areas = w.table(Area, AREA_FIELDS)
        self.places = w.table(Place, PLACE_FIELDS)
        self.households = w.table(HouseholdModel, HOUSEHOLD_FIELDS)
        self.persons = w.table(Person, PERSON_FIELDS)
        self.residences = w.table(Residence, RESIDENCE_FIELDS)
        self.facilities = w.table(Facility, FACILITY_FIELDS)

        plan = self.plan()
        self.stats.districts_used = len(plan)
        city_poly = geo.rounded(geo.convex_hull(chengdu.OUTLINE))
        city_id = self._area(
            chengdu.CITY_CODE,
            Level.CITY,
            None,
            chengdu.CITY_NAME,
            chengdu.CITY_NAME_EN,
            city_poly,
            ext_code=chengdu.CITY_EXT_CODE,
            kind="city",
        )
        seeds = [(d.lng, d.lat) for d in chengdu.DISTRICTS]
        _, cells = geo.voronoi(city_poly, seeds)
        district_ids = {}
        for d, cell in zip(chengdu.DISTRICTS, cells, strict=True):
            district_ids[d.code] = self._area(
                d.code,
                Level.DISTRICT,
                city_id,
                d.name,
                d.name_en,
                cell,
                kind=d.kind,
                centre=(d.lng, d.lat),
            )
        self.district_cells = dict(zip([d.code for d in chengdu.DISTRICTS], cells, strict=True))
        self.log(
            f"{len(chengdu.DISTRICTS)} districts; residents go to {len(plan)} of them "
            f"({sum(len(q) for _, q in plan)} grids)"
        )
        for district, quotas in plan:
            self.district(district, district_ids[district.code], quotas)
        w.finish()
        s = self.stats
        s.households = self.households.written
        s.residents = self.persons.written
        s.residences = self.residences.written
        s.facilities = self.facilities.written
        s.seconds = time.monotonic() - self._t0
        return s

    def _area(self, code, level, parent_id, name, name_en, poly, *, ext_code="", kind="",
              centre=None) -> int:  # fmt: skip
        lng, lat = geo.point(*(centre or geo.centroid(poly)))
        self.stats.areas[level] = self.stats.areas.get(level, 0) + 1
        return self.areas.add(
            code, level, parent_id, ext_code, kind, name, name_en, lat, lng,
            _json(geo.geojson(poly)),
        )  # fmt: skip

    def _maybe_flush(self) -> None:
        if self.w.pending() >= BATCH_ROWS:
            self.w.flush()

    # --- districts, streets, communities, grids -----------------------------------------

    def district(self, d: chengdu.District, district_id: int, quotas: list[int]) -> None:
        rng = self.rng
        self.people.district = d.code
        self.hh_seq = 0
        g = len(quotas)
        c = max(1, round(g / GRIDS_PER_COMMUNITY))
        s = max(1, round(c / COMMUNITIES_PER_STREET))
        per_street = split(c, [rng.uniform(0.7, 1.3) for _ in range(s)], minimum=1)
        per_community = split(g, [rng.uniform(0.7, 1.3) for _ in range(c)], minimum=1)
        cell = self.district_cells[d.code]
        seeds = geo.random_points(cell, s, rng)
        _, street_cells = geo.voronoi(cell, seeds, relax=2)
        urban = {chengdu.CORE: s, chengdu.SUBURB: max(1, round(s * 0.65))}.get(
            d.zone, max(1, round(s * 0.3))
        )
        urban = min(urban, 99)  # street codes 001-099; towns take 100 and up
        street_n = town_n = 0
        ci = qi = 0
        self.district_grids: list[tuple] = []
        for i, street_cell in enumerate(street_cells):
            if i < urban:
                street_n += 1
                code, kind = f"{d.code}{street_n:03d}", "street"
            else:
                code, kind = f"{d.code}{100 + town_n:03d}", "town"
                town_n += 1
            communities = per_community[ci : ci + per_street[i]]
            ci += per_street[i]
            n_q = sum(communities)
            self.street(d, district_id, code, kind, street_cell, communities, quotas[qi : qi + n_q])
            qi += n_q
        self.hospitals(d)

    def street(self, d, district_id, code, kind, cell, grid_counts, quotas) -> None:
        rng = self.rng
        t0 = time.monotonic()
        base = self.street_pool.take(rng)
        name, name_en = _area_name(base, kind)
        street_id = self._area(code, Level.STREET, district_id, name, name_en, cell, kind=kind)
        c = len(grid_counts)
        _, cells = geo.voronoi(cell, geo.random_points(cell, c, rng), relax=2)
        comm_n = vill_n = 0
        qi = 0
        self.street_grids: list[tuple] = []
        street_info = (code, name, name_en)
        for i, (ccell, g) in enumerate(zip(cells, grid_counts, strict=True)):
            if kind == "town" and i > 0 and rng.random() < 0.7:
                vill_n += 1
                ccode, ckind = f"{code}{199 + vill_n:03d}", "village"
                mix_key = ("town", "village")
            else:
                comm_n += 1
                ccode, ckind = f"{code}{comm_n:03d}", "community"
                mix_key = ("town", "community") if kind == "town" else (d.zone, "community")
            self.community(
                street_id, street_info, ccode, ckind, mix_key, ccell, quotas[qi : qi + g]
            )
            qi += g
        self.street_facilities(street_info)
        self.district_grids.extend(self.street_grids)
        n = sum(quotas)
        self.done += n
        self.log(
            f"{code} {name}: {n:,} residents in {len(grid_counts)} communities, "
            f"{len(quotas)} grids ({self.done:,}/{self.residents:,}, "
            f"{time.monotonic() - t0:.1f} s street, {time.monotonic() - self._t0:.0f} s total)"
        )
        if self.demo.street is None:
            self.demo.street = (code, name)
        self._maybe_flush()

    def community(self, street_id, street_info, code, kind, mix_key, cell, quotas) -> None:
        rng = self.rng
        pool = self.village_pool if kind == "village" else self.street_pool
        base = pool.take(rng)
        name, name_en = _area_name(base, kind)
        community_id = self._area(code, Level.COMMUNITY, street_id, name, name_en, cell, kind=kind)
        if self.demo.community is None:
            self.demo.community = (code, name)
        # A few roads run through the community; compounds take their gate numbers on them.
        road_bases = [base, street_info[1][:2], self.street_pool.take(rng)]
        self.roads = [
            [*names.road(rng, rng.choice(road_bases)), rng.randint(1, 30)]
            for _ in range(rng.randint(2, 4))
        ]
        self.compound_n = 0
        self.community_info = (code, name, name_en, kind, base, street_info)
        _, cells = geo.voronoi(cell, geo.random_points(cell, len(quotas), rng), relax=2)
        grids: list[tuple] = []
        for i, (gcell, q) in enumerate(zip(cells, quotas, strict=True)):
            gcode = codes.grid_code(code, i + 1)
            gname = f"{name}第{names.cn_number(i + 1)}网格"
            gname_en = f"{name_en} Grid {i + 1}"
            self._area(gcode, Level.GRID, community_id, gname, gname_en, gcell, kind="grid")
            if self.demo.grid is None:
                self.demo.grid = (gcode, gname)
            self.grid(gcode, gcell, q, mix_key)
            grids.append((gcode, gcell, code, name, self.roads))
        # one community service centre, in one of its grids
        self.facility(
            FacilityKind.SERVICE_CENTRE,
            rng.choice(grids),
            f"{name}党群服务中心",
            f"{name_en} Service Centre",
            None,
        )
        if rng.random() < 0.6:
            self.facility(
                FacilityKind.SCHOOL,
                rng.choice(grids),
                f"{base}幼儿园",
                f"{names.pinyin(base)} Kindergarten",
                rng.randint(120, 360),
            )
        self.street_grids.extend(grids)

    def grid(self, gcode: str, cell: geo.Polygon, quota: int, mix_key) -> None:
        rng = self.rng
        ccode, cname, cname_en, _kind, cbase, street_info = self.community_info
        households = list(self.people.households(quota))
        empty_rate = rng.uniform(0.04, 0.12)
        need = math.ceil(len(households) / (1 - empty_rate))
        mix = _MIX[mix_key]
        specs = []
        built = 0
        while built < need:
            ctype = _TYPES[_pick(rng, mix)]
            lo, hi = _SIZE[ctype]
            target = min(rng.randint(lo, hi), need - built)
            buildings = _structure(ctype, target, rng)
            specs.append((ctype, buildings))
            built += sum(u * f * r for u, f, r in buildings)
        seeds = geo.random_points(cell, len(specs), rng)
        _, cells = geo.voronoi(cell, seeds, relax=1)
        dwellings: list[tuple[int, str]] = []  # (place id, address)
        points = {}
        for (ctype, buildings), ccell in zip(specs, cells, strict=True):
            poly = geo.rounded(geo.shrink(ccell, 0.8))
            self.compound_n += 1
            code = codes.compound_code(ccode, self.compound_n)
            if ctype == CompoundType.VILLAGE:
                cn, en = names.village_group(cname, cname_en, self.compound_n)
                address = f"{street_info[1]}{cn}"
            else:
                road = rng.choice(self.roads)
                number = road[2]
                road[2] += rng.randint(2, 24)
                address = f"{road[0]}{number}号"
                if ctype == CompoundType.COMMERCIAL:
                    cn, en = names.commercial_compound(rng)
                elif ctype == CompoundType.OLD:
                    cn, en = names.old_compound(rng, cbase, road[0], road[1], number)
                else:
                    cn, en = names.resettlement_compound(rng, cbase)
            managed = rng.random() < _MANAGED[ctype]
            lng, lat = geo.point(*geo.centroid(poly))
            compound_id = self.places.add(
                code, PlaceKind.COMPOUND, None, gcode, ctype, address, managed, None,
                cn, en, lat, lng, _json(geo.geojson(poly)),
            )  # fmt: skip
            self._count_place(PlaceKind.COMPOUND)
            village = ctype == CompoundType.VILLAGE
            for b, (units, floors, rooms) in enumerate(buildings, start=1):
                bcode = codes.building_code(code, b)
                blng, blat = geo.point(*geo.random_point(poly, rng))
                points[b] = (blng, blat)
                bname, bname_en = (f"{b}号", f"No. {b}") if village else (f"{b}栋", f"Building {b}")
                building_id = self.places.add(
                    bcode, PlaceKind.BUILDING, compound_id, gcode, "", f"{address}{bname}", None,
                    None, bname, bname_en, blat, blng, None,
                )  # fmt: skip
                for u in range(1, units + 1):
                    ucode = codes.unit_code(bcode, u)
                    unit_id = self.places.add(
                        ucode, PlaceKind.UNIT, building_id, gcode, "", "", None, None,
                        f"{u}单元", f"Unit {u}", blat, blng, None,
                    )  # fmt: skip
                    prefix = f"{address}{bname}" if village else f"{address}{bname}{u}单元"
                    for f in range(1, floors + 1):
                        for r in range(1, rooms + 1):
                            room = f"{f}{r:02d}"
                            dwelling_address = prefix if village else f"{prefix}{room}号"
                            pk = self.places.add(
                                codes.dwelling_code(ucode, f, r), PlaceKind.DWELLING, unit_id,
                                gcode, "", dwelling_address, None, f, room, f"Room {room}",
                                blat, blng, None,
                            )  # fmt: skip
                            dwellings.append(pk)
                    self._count_place(PlaceKind.UNIT)
                self._count_place(PlaceKind.BUILDING)
        self._count_place(PlaceKind.DWELLING, len(dwellings))
        occupied = rng.sample(dwellings, len(households))
        self.populate(gcode, households, occupied)

    def populate(self, gcode: str, households, dwelling_ids: list[int]) -> None:
        add_household = self.households.add
        add_person = self.persons.add
        add_residence = self.residences.add
        district = self.people.district
        by_type = self.stats.by_type
        for hh, dwelling_id in zip(households, dwelling_ids, strict=True):
            self.hh_seq += 1
            hh_id = add_household(f"{district}{self.hh_seq:07d}", gcode, dwelling_id, False)
            for m in hh.members:
                pid = add_person(
                    gcode, m.name, m.name_latin, m.sex, m.birth_date, m.id_type, m.id_number,
                    m.phone, m.ethnicity, m.nationality, m.resident_type, m.hukou_region, hh_id,
                    m.relation, dwelling_id,
                )  # fmt: skip
                add_residence(pid, dwelling_id, m.residence_kind, m.residence_start, gcode)
            by_type[hh.resident_type] = by_type.get(hh.resident_type, 0) + len(hh.members)

    def _count_place(self, kind: str, n: int = 1) -> None:
        self.stats.places[kind] = self.stats.places.get(kind, 0) + n

    # --- facilities ---------------------------------------------------------------------

    def facility(self, kind, grid, name, name_en, capacity) -> None:
        """A facility at a random point of ``grid`` (code, cell, community code, name, roads)."""
        rng = self.rng
        gcode, cell, _ccode, _cname, roads = grid
        lng, lat = geo.point(*geo.random_point(cell, rng))
        road = rng.choice(roads)
        number = road[2]
        road[2] += rng.randint(2, 12)
        n = self._facility_n[gcode] = self._facility_n.get(gcode, 0) + 1
        self.facilities.add(
            codes.facility_code(gcode, n), kind, gcode, f"{road[0]}{number}号", capacity,
            name, name_en, lat, lng,
        )  # fmt: skip

    def street_facilities(self, street_info) -> None:
        rng = self.rng
        _code, name, name_en = street_info
        base = name[:2]  # place names are two characters
        base_en = names.pinyin(base)
        grids = self.street_grids
        self.facility(
            FacilityKind.HEALTH_CENTRE, rng.choice(grids), f"{name}社区卫生服务中心",
            f"{name_en} Community Health Centre", rng.randint(20, 80),
        )  # fmt: skip
        self.facility(
            FacilityKind.SCHOOL, rng.choice(grids), f"{base}中学", f"{base_en} Middle School",
            rng.randint(900, 2600),
        )  # fmt: skip
        communities = sorted({(g[2], g[3]) for g in grids})
        for i in range(0, len(communities), 2):
            ccode, cname = communities[i]
            cbase = cname[:2]
            self.facility(
                FacilityKind.SCHOOL, rng.choice([g for g in grids if g[2] == ccode]),
                f"{cbase}小学", f"{names.pinyin(cbase)} Primary School", rng.randint(600, 2400),
            )  # fmt: skip
        for i in range(rng.randint(1, 2)):
            kind_cn, kind_en = ("公园", "Park") if i == 0 else ("湿地公园", "Wetland Park")
            self.facility(
                FacilityKind.PARK, rng.choice(grids), f"{base}{kind_cn}", f"{base_en} {kind_en}",
                None,
            )  # fmt: skip

    def hospitals(self, d: chengdu.District) -> None:
        rng = self.rng
        kinds = [
            ("人民医院", "People's Hospital"),
            ("第二人民医院", "Second People's Hospital"),
            ("中医医院", "Hospital of Traditional Chinese Medicine"),
            ("妇幼保健院", "Maternal and Child Health Hospital"),
        ]
        for cn, en in kinds[: rng.randint(2, 4)]:
            self.facility(
                FacilityKind.HOSPITAL, rng.choice(self.district_grids), f"{d.name}{cn}",
                f"{d.name_en} {en}", rng.randint(200, 1500),
            )  # fmt: skip


def _pick(rng: random.Random, weights) -> int:
    x = rng.random() * sum(weights)
    for i, w in enumerate(weights):
        x -= w
        if x < 0:
            return i
    return len(weights) - 1


def _structure(ctype: str, target: int, rng: random.Random) -> list[tuple[int, int, int]]:
    """Buildings of a compound as (units, floors, rooms per floor), about ``target`` dwellings."""
    target = max(1, target)
    if ctype == CompoundType.VILLAGE:
        return [(1, 1, 1)] * min(99, target)
    if ctype == CompoundType.COMMERCIAL:
        if rng.random() < 0.7:
            units, floors, rooms = rng.randint(1, 3), rng.randint(11, 33), rng.randint(2, 4)
        else:
            units, floors, rooms = rng.randint(2, 4), rng.randint(6, 7), 2
    elif ctype == CompoundType.OLD:
        units, floors, rooms = rng.randint(1, 3), rng.randint(5, 7), 2
    else:
        units, floors, rooms = 2, rng.randint(6, 18), rng.randint(2, 4)
    if units * floors * rooms > target:
        units = max(1, min(units, target // (floors * rooms)))
        floors = max(1, min(floors, target // (units * rooms)))
        if units * floors * rooms > target:
            rooms = max(1, target // (units * floors))
    per = units * floors * rooms
    count = max(1, min(99, round(target / per)))
    return [(units, floors, rooms)] * count


def _json(geometry: dict) -> str:
    return json.dumps(geometry, separators=(",", ":"))

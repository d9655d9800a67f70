"""Standard records as columns (numpy arrays) for vectorised blocking and comparison.

Text values become integer codes (-1 for missing) so that equality over millions of candidate
pairs is one numpy operation; the few comparisons that need the text itself (edit distances)
keep object arrays.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..standardise.records import StandardRecord

# Dates are day numbers counted from 1800-01-01, so that every birth date is >= 0 and -1 can
# mean "missing" (counting from 1970 made everyone born before 1970 look undated).
EPOCH = dt.date(1800, 1, 1)
MISSING = -1
_EPOCH_TO_UNIX = (EPOCH - dt.date(1970, 1, 1)).days


def as_datetime64(days: np.ndarray) -> np.ndarray:
    """Day numbers (from :data:`EPOCH`) as ``datetime64[D]``."""
    return (days + _EPOCH_TO_UNIX).astype("datetime64[D]")


class Coder:
    """Assigns one integer per distinct non-empty value (shared across columns that compare)."""

    def __init__(self):
        self.codes: dict[str, int] = {}

    def __call__(self, value: str) -> int:
        if not value:
            return MISSING
        code = self.codes.get(value)
        if code is None:
            code = self.codes[value] = len(self.codes)
        return code

    def column(self, values: Sequence[str]) -> np.ndarray:
        """The same codes as calling the coder on each value in turn (a new value gets the
        next code: ``len`` is taken before ``setdefault`` inserts it)."""
        codes = self.codes
        return np.array(
            [codes.setdefault(v, len(codes)) if v else MISSING for v in values], dtype=np.int64
        )


def _days(day: dt.date | None) -> int:
    return (day - EPOCH).days if day else MISSING


NAME_KIND = {"blank": 0, "han": 1, "latin": 1, "title": 2}
ID_KIND = {"blank": 0, "resident": 1, "invalid": 2, "masked": 3, "passport": 4, "other": 0}


@dataclass
class RecordFrame:
    n: int
    sources: list[str]
    src: np.ndarray
    record_id: list[str]
    # names
    name_kind: np.ndarray
    name_text: np.ndarray
    name_key: np.ndarray
    fuzzy_key: np.ndarray
    surname_key: np.ndarray
    given_key: np.ndarray
    former_text: np.ndarray
    former_key: np.ndarray
    alt_key: np.ndarray  # other reading order of a Latin-script name
    name_str: np.ndarray  # object: cleaned name text
    # person
    sex: np.ndarray
    dob: np.ndarray
    dob_lo: np.ndarray
    dob_hi: np.ndarray
    # identity documents
    id_kind: np.ndarray
    id_code: np.ndarray
    id_str: np.ndarray  # object: cleaned full number, or masked form
    id_valid: np.ndarray
    id_head: np.ndarray  # region + birth date (14) of a full number
    id_p3s4: np.ndarray  # first 3 + last 4, for masked numbers too
    # phones
    phone1: np.ndarray
    phone2: np.ndarray
    phone_str1: np.ndarray
    phone_str2: np.ndarray
    # address
    hukou: np.ndarray
    place1: np.ndarray
    place2: np.ndarray
    place3: np.ndarray
    place_text: np.ndarray
    building: np.ndarray
    unit: np.ndarray
    room: np.ndarray
    community: np.ndarray
    district: np.ndarray
    lets_out: np.ndarray
    record_date: np.ndarray
    household: np.ndarray

    @classmethod
    def from_records(cls, records: Sequence[StandardRecord]) -> RecordFrame:
        # Column by column with list comprehensions over the records' parts (a generator and
        # a function call per value was most of the time at a million records). The coders see
        # the columns in a fixed order, so equal input gives equal codes.
        n = len(records)
        sources = sorted({r.source for r in records})
        src_index = {s: i for i, s in enumerate(sources)}
        names = Coder()  # name texts and former names share codes
        keys = Coder()  # pinyin keys (names, former names)
        fuzzy = Coder()
        parts = Coder()  # surname and given keys
        ids = Coder()
        id_parts = Coder()
        phones = Coder()
        places = Coder()
        areas = Coder()
        households = Coder()

        def arr(values, dtype=np.int64):
            return np.array(values, dtype=dtype)

        def obj(values):
            out = np.empty(n, dtype=object)
            out[:] = values
            return out

        name = [r.name for r in records]
        former = [r.former_name for r in records]
        idr = [r.id for r in records]
        conflict = [r.id_conflict for r in records]
        addr = [r.address for r in records]
        phone_lists = [r.phones for r in records]
        not_title = [nm.kind != "title" for nm in name]
        id_kind = [x.kind for x in idr]

        full_ids = [
            x.number if k in ("resident", "invalid", "passport") and not c else ""
            for x, k, c in zip(idr, id_kind, conflict, strict=True)
        ]
        masked = [x.number if k == "masked" else "" for x, k in zip(idr, id_kind, strict=True)]

        def p3s4(x, kind: str, full: str) -> str:
            if full and kind in ("resident", "invalid") and len(full) >= 10:
                return "M" + full[:3] + full[-4:]
            if kind == "masked" and len(x.prefix) >= 3 and len(x.suffix) >= 4:
                return "M" + x.prefix[:3] + x.suffix[-4:]
            return ""

        def places_of(a) -> tuple[str, ...]:
            if a.kind == "village":
                return (a.place_text,)
            if a.compounds:
                return a.compounds[:3]
            if a.kind == "unknown" and a.place_text:
                return ("T" + a.place_text,)
            return ()

        place_lists = [places_of(a) for a in addr]
        dob_lo, dob_hi = [], []
        best_dob = []
        for r in records:
            best = r.best_birth_date
            best_dob.append(_days(best))
            rng = r.birth_range() if best is None else None
            dob_lo.append(_days(rng[0]) if rng else MISSING)
            dob_hi.append(_days(rng[1]) if rng else MISSING)

        name_text = names.column([nm.text for nm in name])
        former_text = names.column([nm.text for nm in former])
        name_key = keys.column([nm.key if t else "" for nm, t in zip(name, not_title, strict=True)])
        former_key = keys.column([nm.key for nm in former])
        alt_key = keys.column([nm.alt_key for nm in name])
        # A surname + title (刘女士) is not a name: its key would put every 刘女士 and 刘先生 of
        # the city in one block and one EM session; such records meet others through their
        # flat or phone and compare at the "surname only" level.
        fuzzy_key = fuzzy.column(
            [nm.fuzzy_key if t else "" for nm, t in zip(name, not_title, strict=True)]
        )
        surname_key = parts.column([nm.surname_key for nm in name])
        given_key = parts.column([nm.given_key for nm in name])
        id_code = ids.column(full_ids)
        id_head = id_parts.column(
            [
                f[:14] if len(f) >= 17 and k in ("resident", "invalid") else ""
                for f, k in zip(full_ids, id_kind, strict=True)
            ]
        )
        id_p3s4 = id_parts.column(
            [p3s4(x, k, f) for x, k, f in zip(idr, id_kind, full_ids, strict=True)]
        )
        phone_str1 = [p[0] if p else "" for p in phone_lists]
        phone_str2 = [p[1] if len(p) > 1 else "" for p in phone_lists]
        phone1 = phones.column(phone_str1)
        phone2 = phones.column(phone_str2)
        place1 = places.column([p[0] if p else "" for p in place_lists])
        place2 = places.column([p[1] if len(p) > 1 else "" for p in place_lists])
        place3 = places.column([p[2] if len(p) > 2 else "" for p in place_lists])
        place_text = places.column([a.place_text for a in addr])

        def number(values: list) -> np.ndarray:
            return arr([MISSING if v is None else v for v in values])

        return cls(
            n=n,
            sources=sources,
            src=arr([src_index[r.source] for r in records], np.int8),
            record_id=[r.record_id for r in records],
            name_kind=arr([NAME_KIND[nm.kind] for nm in name], np.int8),
            name_text=name_text,
            name_key=name_key,
            fuzzy_key=fuzzy_key,
            surname_key=surname_key,
            given_key=given_key,
            former_text=former_text,
            former_key=former_key,
            alt_key=alt_key,
            name_str=obj([nm.text for nm in name]),
            sex=arr([int(r.best_sex or 0) for r in records], np.int8),
            dob=arr(best_dob),
            dob_lo=arr(dob_lo),
            dob_hi=arr(dob_hi),
            id_kind=arr(
                [0 if c else ID_KIND[k] for k, c in zip(id_kind, conflict, strict=True)], np.int8
            ),
            id_code=id_code,
            id_str=obj([f or m for f, m in zip(full_ids, masked, strict=True)]),
            id_valid=arr(
                [k == "resident" and not c for k, c in zip(id_kind, conflict, strict=True)],
                np.bool_,
            ),
            id_head=id_head,
            id_p3s4=id_p3s4,
            phone1=phone1,
            phone2=phone2,
            phone_str1=obj(phone_str1),
            phone_str2=obj(phone_str2),
            hukou=arr([r.address_role == "hukou" for r in records], np.bool_),
            place1=place1,
            place2=place2,
            place3=place3,
            place_text=place_text,
            building=number([a.building for a in addr]),
            unit=number([a.unit for a in addr]),
            room=number([a.room for a in addr]),
            community=areas.column([a.community for a in addr]),
            district=areas.column([a.district for a in addr]),
            lets_out=arr(["lets_out" in r.flags for r in records], np.bool_),
            record_date=arr([_days(r.record_date) for r in records]),
            household=households.column([r.household_number for r in records]),
        )

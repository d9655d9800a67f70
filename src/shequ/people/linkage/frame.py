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
        return np.fromiter((self(v) for v in values), dtype=np.int64, count=len(values))


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
            return np.fromiter(values, dtype=dtype, count=n)

        def obj(values):
            out = np.empty(n, dtype=object)
            out[:] = list(values)
            return out

        full_ids = [
            r.id.number
            if r.id.kind in ("resident", "invalid", "passport") and not r.id_conflict
            else ""
            for r in records
        ]
        masked = [r.id.number if r.id.kind == "masked" else "" for r in records]

        def p3s4(r: StandardRecord, full: str) -> str:
            if full and r.id.kind in ("resident", "invalid") and len(full) >= 10:
                return full[:3] + full[-4:]
            if r.id.kind == "masked" and len(r.id.prefix) >= 3 and len(r.id.suffix) >= 4:
                return r.id.prefix[:3] + r.id.suffix[-4:]
            return ""

        def places_of(r: StandardRecord) -> list[str]:
            a = r.address
            if a.kind == "village":
                return [a.place_text]
            if a.compounds:
                return list(a.compounds[:3])
            if a.kind == "unknown" and a.place_text:
                return ["T" + a.place_text]
            return []

        place_lists = [places_of(r) for r in records]
        dob_lo, dob_hi = [], []
        for r in records:
            rng = r.birth_range() if r.best_birth_date is None else None
            dob_lo.append(_days(rng[0]) if rng else MISSING)
            dob_hi.append(_days(rng[1]) if rng else MISSING)

        return cls(
            n=n,
            sources=sources,
            src=arr((src_index[r.source] for r in records), np.int8),
            record_id=[r.record_id for r in records],
            name_kind=arr((NAME_KIND[r.name.kind] for r in records), np.int8),
            name_text=arr(names(r.name.text) for r in records),
            # A surname + title (刘女士) is not a name: its key would put every 刘女士 and
            # 刘先生 of the city in one block and one EM session; such records meet others
            # through their flat or phone and compare at the "surname only" level.
            name_key=arr(keys(r.name.key) if r.name.kind != "title" else -1 for r in records),
            fuzzy_key=arr(
                fuzzy(r.name.fuzzy_key) if r.name.kind != "title" else -1 for r in records
            ),
            surname_key=arr(parts(r.name.surname_key) for r in records),
            given_key=arr(parts(r.name.given_key) for r in records),
            former_text=arr(names(r.former_name.text) for r in records),
            former_key=arr(keys(r.former_name.key) for r in records),
            alt_key=arr(keys(r.name.alt_key) for r in records),
            name_str=obj(r.name.text for r in records),
            sex=arr((int(r.best_sex or 0) for r in records), np.int8),
            dob=arr(_days(r.best_birth_date) for r in records),
            dob_lo=np.array(dob_lo, dtype=np.int64),
            dob_hi=np.array(dob_hi, dtype=np.int64),
            id_kind=arr((0 if r.id_conflict else ID_KIND[r.id.kind] for r in records), np.int8),
            id_code=arr(ids(v) for v in full_ids),
            id_str=obj(f or m for f, m in zip(full_ids, masked, strict=True)),
            id_valid=arr(
                (r.id.kind == "resident" and not r.id_conflict for r in records), np.bool_
            ),
            id_head=arr(
                id_parts(f[:14]) if len(f) >= 17 and r.id.kind in ("resident", "invalid") else -1
                for f, r in zip(full_ids, records, strict=True)
            ),
            id_p3s4=arr(
                id_parts("M" + p3s4(r, f)) if p3s4(r, f) else -1
                for f, r in zip(full_ids, records, strict=True)
            ),
            phone1=arr(phones(r.phones[0] if r.phones else "") for r in records),
            phone2=arr(phones(r.phones[1] if len(r.phones) > 1 else "") for r in records),
            phone_str1=obj(r.phones[0] if r.phones else "" for r in records),
            phone_str2=obj(r.phones[1] if len(r.phones) > 1 else "" for r in records),
            hukou=arr((r.address_role == "hukou" for r in records), np.bool_),
            place1=arr(places(p[0]) if p else -1 for p in place_lists),
            place2=arr(places(p[1]) if len(p) > 1 else -1 for p in place_lists),
            place3=arr(places(p[2]) if len(p) > 2 else -1 for p in place_lists),
            place_text=arr(places(r.address.place_text) for r in records),
            building=arr(
                r.address.building if r.address.building is not None else -1 for r in records
            ),
            unit=arr(r.address.unit if r.address.unit is not None else -1 for r in records),
            room=arr(r.address.room if r.address.room is not None else -1 for r in records),
            community=arr(areas(r.address.community) for r in records),
            district=arr(areas(r.address.district) for r in records),
            lets_out=arr(("lets_out" in r.flags for r in records), np.bool_),
            record_date=arr(_days(r.record_date) for r in records),
            household=arr(households(r.household_number) for r in records),
        )

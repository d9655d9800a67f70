"""Blocking: which record pairs are compared at all.

Each rule is a list of key columns; two records are a candidate pair when they agree on every
key of at least one rule (the union over rules, as in Splink). Keys that can hold several
values (a record's phones, the candidate compounds of an ambiguous address, the current and the
former name) are exploded so that any shared value counts. Everything is vectorised: sort the
(record, key) entries, cut them into groups and enumerate the pairs inside each group with
numpy. A group larger than ``max_block_size`` is skipped for that rule (its records usually
still meet through a tighter rule), which keeps the number of pairs near-linear in the number
of records.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .frame import RecordFrame, as_datetime64


def _years(days: np.ndarray) -> np.ndarray:
    """Calendar year of each day number; -1 where the day is missing."""
    out = np.full(len(days), -1, dtype=np.int64)
    ok = days >= 0
    out[ok] = as_datetime64(days[ok]).astype("datetime64[Y]").astype(np.int64) + 1970
    return out


def _year(frame: RecordFrame) -> np.ndarray:
    return _years(frame.dob)


def _birth_years(frame: RecordFrame) -> list[np.ndarray]:
    """Birth year from a birth date, or every year an age allows (age records explode)."""
    year = _year(frame)
    lo, hi = frame.dob_lo, frame.dob_hi
    has_range = (lo >= 0) & (year < 0)
    cols = [year]
    lo_year = np.where(has_range, _years(lo), -1)
    hi_year = np.where(has_range, _years(hi), -1)
    for k in range(5):  # an age range spans at most four calendar years
        y = np.where(has_range & (lo_year + k <= hi_year), lo_year + k, -1)
        cols.append(y)
    return cols


def key_columns(frame: RecordFrame, name: str) -> list[np.ndarray]:
    """The column(s) a key name stands for (several for multi-valued keys)."""
    simple = {
        "name_key": frame.name_key,
        "fuzzy_key": frame.fuzzy_key,
        "surname_key": frame.surname_key,
        "given_key": frame.given_key,
        "id": frame.id_code,
        "id_head": frame.id_head,
        "id_p3s4": frame.id_p3s4,
        "dob": frame.dob,
        "building": frame.building,
        "unit": frame.unit,
        "room": frame.room,
        "district": frame.district,
        "community": frame.community,
        "sex": frame.sex.astype(np.int64) - (frame.sex == 0) * 1,
        "source": frame.src.astype(np.int64),
    }
    if name in simple:
        return [simple[name]]
    if name == "any_name_key":
        return [frame.name_key, frame.former_key, frame.alt_key]
    if name == "phone":
        return [frame.phone1, frame.phone2]
    if name == "place":
        return [frame.place1, frame.place2, frame.place3]
    if name == "birth_year":
        return [_year(frame)]
    if name == "birth_years":
        return _birth_years(frame)
    raise ValueError(f"unknown blocking key {name!r}")


def _entries(frame: RecordFrame, rule: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(record index, group id) for every combination of the rule's key values."""
    rec = np.arange(frame.n, dtype=np.int64)
    values: list[np.ndarray] = []
    for key in rule:
        cols = key_columns(frame, key)
        if len(cols) == 1:
            values.append(cols[0][rec])
            continue
        reps = len(cols)
        new_values = [np.tile(v, reps) for v in values]
        new_values.append(np.concatenate([c[rec] for c in cols]))
        rec = np.tile(rec, reps)
        values = new_values
    keep = np.ones(len(rec), dtype=bool)
    for v in values:
        keep &= v >= 0
    rec = rec[keep]
    if not len(rec):
        return rec, rec
    values = [v[keep] for v in values]
    n = frame.n
    # One group id per distinct key tuple, numbered in the tuples' sorted order. The columns
    # are folded into one integer key (each value below its column's maximum + 1, so the
    # order is the tuples' order) when that fits in 63 bits together with the record index:
    # one sort of (key, record) then both drops duplicate entries and orders them by group.
    # Otherwise the key is made dense again after each column so that it cannot overflow.
    span = 1
    for v in values:
        span *= int(v.max()) + 1
    if span * n < 2**62:
        key = np.zeros(len(rec), dtype=np.int64)
        for v in values:
            key = key * (int(v.max()) + 1) + v
        entries = _sorted_unique(key * np.int64(n) + rec)
        key, rec = np.divmod(entries, np.int64(n))
        group = np.cumsum(np.r_[False, key[1:] != key[:-1]], dtype=np.int64)
        return rec, group
    group = np.zeros(len(rec), dtype=np.int64)
    for v in values:
        _, code = np.unique(v, return_inverse=True)
        size = int(code.max()) + 1
        _, group = np.unique(group * size + code.ravel(), return_inverse=True)
        group = group.ravel().astype(np.int64)
    entries = _sorted_unique(group * np.int64(n) + rec)
    return entries % n, entries // n


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique`` of integers by sorting (numpy's default hashes, which is slower for the
    millions of keys here)."""
    out = np.sort(values)
    if len(out) > 1:
        out = out[np.r_[True, out[1:] != out[:-1]]]
    return out


def pairs_in_groups(
    rec: np.ndarray, group: np.ndarray, max_block_size: int
) -> tuple[np.ndarray, np.ndarray]:
    """All (i, j), i < j, of records sharing a group; groups above the cap are skipped."""
    if not len(rec):
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    # entries from _entries come ordered by (group, record) already
    ordered = len(rec) < 2 or bool(
        np.all((group[1:] > group[:-1]) | ((group[1:] == group[:-1]) & (rec[1:] > rec[:-1])))
    )
    if not ordered:
        order = np.lexsort((rec, group))
        rec, group = rec[order], group[order]
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    sizes = np.diff(np.r_[starts, len(group)])
    ok = (sizes >= 2) & (sizes <= max_block_size)
    if not ok.any():
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    # Position of every member of a kept group and how many later members it pairs with.
    member_pos = np.flatnonzero(np.repeat(ok, sizes))
    group_end = np.repeat((starts + sizes)[ok], sizes[ok])
    later = group_end - member_pos - 1
    left = np.repeat(member_pos, later)
    # For each left member, offsets 1..later.
    cum = np.cumsum(later)
    offsets = np.arange(cum[-1] if len(cum) else 0) - np.repeat(cum - later, later) + 1
    right = left + offsets
    i, j = rec[left], rec[right]
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    keep = lo != hi
    return lo[keep], hi[keep]


def rule_spec(rule: Sequence[str] | dict, max_block_size: int) -> tuple[list[str], int]:
    """A blocking rule's keys and block-size cap: a rule is a list of keys (the shared cap) or
    a table ``{keys = [...], max_block_size = N}`` with a cap of its own."""
    if isinstance(rule, dict):
        try:
            keys = list(rule["keys"])
        except KeyError:
            raise ValueError(f"blocking rule {rule!r} has no keys") from None
        return keys, int(rule.get("max_block_size", max_block_size))
    return list(rule), max_block_size


def rule_name(rule: Sequence[str] | dict) -> str:
    return "+".join(rule_spec(rule, 0)[0])


def candidate_pairs(
    frame: RecordFrame, rules: Sequence[Sequence[str] | dict], max_block_size: int
) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Union of the pairs of every rule; also the number of pairs each rule produced."""
    codes = []
    counts: dict[str, int] = {}
    n = np.int64(frame.n)
    for rule in rules:
        keys, cap = rule_spec(rule, max_block_size)
        rec, group = _entries(frame, keys)
        i, j = pairs_in_groups(rec, group, cap)
        counts["+".join(keys)] = len(i)
        codes.append(i * n + j)
    if not codes:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, counts
    allc = _sorted_unique(np.concatenate(codes))
    del codes
    i, j = np.divmod(allc, n)
    return i, j, counts

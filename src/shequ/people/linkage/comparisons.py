"""Comparisons that understand Chinese records, each giving a level per candidate pair.

Level 0 of every comparison is "no information" (a value missing on either side): it carries
no weight. The other levels are ordered from the strongest agreement to disagreement; their
m and u probabilities (and so their weights) are estimated by EM, never set by hand.

* **name**: exact; a former name (曾用名) of one is the other's name; same pinyin (homophones,
  traditional characters, pinyin or given-name-first spellings); same after folding Sichuanese
  sound mergers (n/l, f/h, zh/z …); one character different, dropped or swapped (look-alike
  characters, typing slips), split by whether the substitution is a known confusion;
  surname-only records (刘女士) whose surname agrees; same surname only; different.
* **birth**: exact; a typo (day and month swapped, one digit wrong); within two months (lunar
  birthdays); an age that fits the birth date (nominal age 虚岁 allowed); different.
* **sex**: same or different (a sex from the ID number or a title counts).
* **id**: exact; one transposition, wrong digit or dropped digit in a number that fails its
  check; masked numbers whose visible digits agree (many or few of them); masked digits that
  conflict; different. A number whose birth date contradicts the record (a guardian's ID on
  a child's record) is not used.
* **household** = address × phone, one comparison because family members share both.
  Address: same dwelling; same building; same compound or village; same community or
  district; different — with separate levels when either side is a hukou address, which
  often is not where the person lives. Phone: a shared number (any of several); one digit
  wrong or transposed; different.
* **coresident** (optional, off by default): another name also agrees between the two
  records' households (police household number or flat) — the trace a moved household
  leaves.
* **sources**: which two sources the pair comes from, so that the prior odds of a match can
  differ by source pair (two police records are rarely the same person).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import OSA, Levenshtein

from .frame import RecordFrame, as_datetime64


@dataclass
class Comparison:
    name: str
    labels: tuple[str, ...]
    compute: Callable[[RecordFrame, np.ndarray, np.ndarray, dict], np.ndarray]
    tf_levels: tuple[int, ...] = ()  # levels whose weight is adjusted by value frequency
    # levels that say "not the same person" (used to pick non-matching pairs inside households)
    disagree_levels: tuple[int, ...] = ()
    options: dict = field(default_factory=dict)

    def levels(self, frame: RecordFrame, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        return self.compute(frame, i, j, self.options)


def _distance(a: np.ndarray, b: np.ndarray, scorer, cutoff: int | None = None) -> np.ndarray:
    """Edit distance of each pair (a[k], b[k]); with ``cutoff``, any distance above it comes
    back as ``cutoff + 1`` (much faster when only small distances matter). Threads on every
    core (rapidfuzz releases the GIL)."""
    if not len(a):
        return np.empty(0, dtype=np.int64)
    return process.cpdist(list(a), list(b), scorer=scorer, score_cutoff=cutoff, workers=-1).astype(
        np.int64
    )


def _substitution(a: str, b: str) -> tuple[str, str] | None:
    if len(a) != len(b):
        return None
    diff = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
    if len(diff) != 1:
        return None
    x, y = diff[0]
    return (x, y) if x < y else (y, x)


# ----------------------------------------------------------------------------- name
NAME_LABELS = (
    "null",
    "exact",
    "former name",
    "same pinyin",
    "dialect pinyin",
    "one known look-alike character",
    "one character dropped or swapped",
    "one character substituted",
    "surname only, agrees",
    "same surname",
    "different",
)


def _eq(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a == b) & (a >= 0)


def name_levels(f: RecordFrame, i: np.ndarray, j: np.ndarray, opts: dict) -> np.ndarray:
    out = np.full(len(i), 10, dtype=np.int8)
    ka, kb = f.name_kind[i], f.name_kind[j]
    null = (ka == 0) | (kb == 0)
    title = (ka == 2) | (kb == 2)
    full = ~null & ~title
    same_surname = _eq(f.surname_key[i], f.surname_key[j])
    out[same_surname] = 9
    out[title & same_surname] = 8
    # one character substituted, dropped or swapped (on the cleaned text)
    idx = np.flatnonzero(full & (f.name_key[i] != f.name_key[j]))
    if len(idx):
        sa, sb = f.name_str[i[idx]], f.name_str[j[idx]]
        d = _distance(sa, sb, OSA.distance, cutoff=1)
        one = idx[d == 1]
        lengths_a = np.fromiter(
            (len(x) for x in f.name_str[i[one]]), dtype=np.int64, count=len(one)
        )
        lengths_b = np.fromiter(
            (len(x) for x in f.name_str[j[one]]), dtype=np.int64, count=len(one)
        )
        lev = _distance(f.name_str[i[one]], f.name_str[j[one]], Levenshtein.distance, cutoff=2)
        dropped_or_swapped = (lengths_a != lengths_b) | (lev == 2)
        out[one] = np.where(dropped_or_swapped, 6, 7)
        confusions = opts.get("confusions")
        if confusions:
            for k in one[~dropped_or_swapped]:
                sub = _substitution(f.name_str[i[k]], f.name_str[j[k]])
                if sub is not None and sub in confusions:
                    out[k] = 5
    out[full & _eq(f.fuzzy_key[i], f.fuzzy_key[j])] = 4
    pinyin = (
        _eq(f.name_key[i], f.name_key[j])
        | _eq(f.alt_key[i], f.name_key[j])
        | _eq(f.name_key[i], f.alt_key[j])
    )
    out[full & pinyin] = 3
    former = (
        _eq(f.former_text[i], f.name_text[j])
        | _eq(f.former_text[j], f.name_text[i])
        | _eq(f.former_key[i], f.name_key[j])
        | _eq(f.former_key[j], f.name_key[i])
    )
    out[former & full & (out > 2)] = 2
    out[full & _eq(f.name_text[i], f.name_text[j])] = 1
    out[null] = 0
    return out


def learn_confusions(f: RecordFrame, i: np.ndarray, j: np.ndarray) -> set[tuple[str, str]]:
    """Character substitutions seen between names of records that share a valid ID number
    (look-alike characters typed for each other); learned from the data, no labels."""
    sel = np.flatnonzero(
        f.id_valid[i]
        & f.id_valid[j]
        & _eq(f.id_code[i], f.id_code[j])
        & (f.name_kind[i] == 1)
        & (f.name_kind[j] == 1)
        & (f.name_text[i] != f.name_text[j])
        & (f.name_key[i] != f.name_key[j])
    )
    out: set[tuple[str, str]] = set()
    for k in sel:
        sub = _substitution(f.name_str[i[k]], f.name_str[j[k]])
        if sub is not None:
            out.add(sub)
    return out


# ----------------------------------------------------------------------------- birth
BIRTH_LABELS = (
    "null",
    "exact",
    "typo (swap or one digit)",
    "within two months",
    "age fits",
    "different",
)


def _ymd(days: np.ndarray) -> np.ndarray:
    d = as_datetime64(days)
    y = d.astype("datetime64[Y]").astype(np.int64) + 1970
    m = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    dd = (d - d.astype("datetime64[M]")).astype(np.int64) + 1
    return y * 10000 + m * 100 + dd


def birth_levels(f: RecordFrame, i: np.ndarray, j: np.ndarray, opts: dict) -> np.ndarray:
    out = np.zeros(len(i), dtype=np.int8)
    da, db = f.dob[i], f.dob[j]
    both = (da >= 0) & (db >= 0)
    out[both] = 5
    idx = np.flatnonzero(both)
    a, b = da[idx], db[idx]
    ya, yb = _ymd(a), _ymd(b)
    digits_diff = np.zeros(len(idx), dtype=np.int64)
    for k in range(8):
        p = 10**k
        digits_diff += (ya // p % 10) != (yb // p % 10)
    swapped = (
        (ya // 10000 == yb // 10000) & (ya % 100 == yb // 100 % 100) & (ya // 100 % 100 == yb % 100)
    )
    gap = np.abs(a - b)
    lvl = np.full(len(idx), 5, dtype=np.int8)
    lvl[gap <= opts.get("close_days", 62)] = 3
    lvl[(digits_diff == 1) | swapped] = 2
    lvl[gap == 0] = 1
    out[idx] = lvl
    # one side gives only an age: does the other's birth date (or age range) fit?
    la, ha, lb, hb = f.dob_lo[i], f.dob_hi[i], f.dob_lo[j], f.dob_hi[j]
    ra, rb = la >= 0, lb >= 0
    fits = np.zeros(len(i), dtype=bool)
    m1 = ra & (db >= 0)
    fits[m1] = (db[m1] >= la[m1]) & (db[m1] <= ha[m1])
    m2 = rb & (da >= 0)
    fits[m2] = (da[m2] >= lb[m2]) & (da[m2] <= hb[m2])
    m3 = ra & rb
    fits[m3] = (la[m3] <= hb[m3]) & (lb[m3] <= ha[m3])
    any_age = m1 | m2 | m3
    out[any_age] = np.where(fits[any_age], 4, 5)
    return out


# ----------------------------------------------------------------------------- sex
SEX_LABELS = ("null", "same", "different")


def sex_levels(f: RecordFrame, i: np.ndarray, j: np.ndarray, opts: dict) -> np.ndarray:
    a, b = f.sex[i], f.sex[j]
    known = (a > 0) & (b > 0) & (a < 9) & (b < 9)
    out = np.zeros(len(i), dtype=np.int8)
    out[known] = np.where(a[known] == b[known], 1, 2)
    return out


# ----------------------------------------------------------------------------- id
ID_LABELS = (
    "null",
    "exact",
    "one typo (fails check)",
    "masked, many digits agree",
    "masked, few digits agree",
    "masked digits conflict",
    "different",
)


def _id_matrix(strings: np.ndarray) -> np.ndarray:
    data = np.array(
        [s.encode("ascii", "replace")[:18].ljust(18, b"\0") for s in strings], dtype="S18"
    )
    return data.view(np.uint8).reshape(len(strings), 18)


def id_levels(f: RecordFrame, i: np.ndarray, j: np.ndarray, opts: dict) -> np.ndarray:
    out = np.zeros(len(i), dtype=np.int8)
    ka, kb = f.id_kind[i], f.id_kind[j]
    full_a, full_b = (ka == 1) | (ka == 2), (kb == 1) | (kb == 2)
    both_full = full_a & full_b
    exact = (f.id_code[i] == f.id_code[j]) & (f.id_code[i] >= 0)
    # full numbers that differ: a typo if one fails its check and one edit apart
    idx = np.flatnonzero(both_full & ~exact)
    if len(idx):
        sa, sb = f.id_str[i[idx]], f.id_str[j[idx]]
        # one edit apart: OSA (edits plus swaps of neighbours) is never above Levenshtein
        one_invalid = ~(f.id_valid[i[idx]] & f.id_valid[j[idx]])
        typo = np.zeros(len(idx), dtype=bool)
        typo[one_invalid] = _distance(sa[one_invalid], sb[one_invalid], OSA.distance, cutoff=1) <= 1
        out[idx] = np.where(typo, 2, 6)
    passports = (ka == 4) & (kb == 4)
    out[passports] = 6
    # masked against masked or full (18 characters)
    masked = ((ka == 3) & (full_b | (kb == 3))) | ((kb == 3) & full_a)
    idx = np.flatnonzero(masked)
    if len(idx):
        ma, mb = _id_matrix(f.id_str[i[idx]]), _id_matrix(f.id_str[j[idx]])
        star, nul = ord("*"), 0
        vis = (ma != star) & (mb != star) & (ma != nul) & (mb != nul)
        agree = (vis & (ma == mb)).sum(axis=1)
        wrong = (vis & (ma != mb)).sum(axis=1)
        # a full number that fails its check may carry one mistyped digit
        invalid = (ka[idx] == 2) | (kb[idx] == 2)
        conflict = (wrong > 1) | ((wrong == 1) & ~invalid)
        strong = opts.get("masked_strong_digits", 7)
        lvl = np.where(conflict, 5, np.where(agree >= strong, 3, np.where(agree >= 2, 4, 0)))
        out[idx] = lvl
    out[exact] = 1
    return out


# ----------------------------------------------------------------------------- phone
PHONE_LABELS = ("null", "shared number", "one digit off", "different")


def phone_levels(f: RecordFrame, i: np.ndarray, j: np.ndarray, opts: dict) -> np.ndarray:
    a1, a2, b1, b2 = f.phone1[i], f.phone2[i], f.phone1[j], f.phone2[j]
    known = (a1 >= 0) & (b1 >= 0)
    out = np.zeros(len(i), dtype=np.int8)
    out[known] = 3
    shared = (
        (a1 == b1) | ((a1 == b2) & (b2 >= 0)) | ((a2 == b1) & (a2 >= 0)) | ((a2 == b2) & (a2 >= 0))
    )
    shared &= known
    idx = np.flatnonzero(known & ~shared)
    if len(idx):
        best = np.full(len(idx), 99, dtype=np.int64)
        # one digit off: OSA distance (edits plus swaps of neighbours, never above the
        # Levenshtein distance) at most 1; a number's code is -1 where the text is empty
        for sa, sb, ca, cb in (
            (f.phone_str1, f.phone_str1, f.phone1, f.phone1),
            (f.phone_str1, f.phone_str2, f.phone1, f.phone2),
            (f.phone_str2, f.phone_str1, f.phone2, f.phone1),
        ):
            ok = (ca[i[idx]] >= 0) & (cb[j[idx]] >= 0)
            if ok.any():
                sel = idx[ok]
                d = np.full(len(idx), 99, dtype=np.int64)
                d[ok] = _distance(sa[i[sel]], sb[j[sel]], OSA.distance, cutoff=1)
                best = np.minimum(best, d)
        out[idx[best <= 1]] = 2
    out[shared] = 1
    return out


# ----------------------------------------------------------------------------- address
ADDRESS_LABELS = (
    "null",
    "same dwelling",
    "same building",
    "same compound or village",
    "same community or district",
    "different",
    "hukou: same dwelling",
    "hukou: same building",
    "hukou: same compound or village",
    "hukou: same community or district",
    "hukou: different",
)


def address_levels(f: RecordFrame, i: np.ndarray, j: np.ndarray, opts: dict) -> np.ndarray:
    pa = (f.place1[i], f.place2[i], f.place3[i])
    pb = (f.place1[j], f.place2[j], f.place3[j])
    place = np.zeros(len(i), dtype=bool)
    for x in pa:
        for y in pb:
            place |= (x == y) & (x >= 0)
    has_a = (pa[0] >= 0) | (f.district[i] >= 0)
    has_b = (pb[0] >= 0) | (f.district[j] >= 0)
    known = has_a & has_b
    ba, bb, ra, rb = f.building[i], f.building[j], f.room[i], f.room[j]
    ua, ub = f.unit[i], f.unit[j]
    building = place & (ba == bb) & (ba >= 0)
    unit_ok = (ua == ub) | (ua < 0) | (ub < 0)
    dwelling = building & (ra == rb) & (ra >= 0) & unit_ok
    area = ((f.community[i] == f.community[j]) & (f.community[i] >= 0)) | (
        (f.district[i] == f.district[j]) & (f.district[i] >= 0)
    )
    out = np.full(len(i), 5, dtype=np.int8)
    out[area] = 4
    out[place] = 3
    out[building] = 2
    out[dwelling] = 1
    hukou = f.hukou[i] | f.hukou[j]
    out[hukou] += 5
    out[~known] = 0
    return out


# ----------------------------------------------------------------------------- household
# Address and phone are one comparison: family members share both, so their agreements are
# not independent evidence (a random pair shares a flat about as rarely as it shares a flat
# *and* a phone). Level = address level × 4 + phone level.
def household_labels() -> tuple[str, ...]:
    labels = []
    for a, alabel in enumerate(ADDRESS_LABELS):
        for p, plabel in enumerate(PHONE_LABELS):
            if a == 0 and p == 0:
                labels.append("null")
            else:
                labels.append(f"address {alabel}; phone {plabel}")
    return tuple(labels)


HOUSEHOLD_LABELS = household_labels()


def household_levels(f: RecordFrame, i: np.ndarray, j: np.ndarray, opts: dict) -> np.ndarray:
    a = address_levels(f, i, j, opts).astype(np.int16)
    p = phone_levels(f, i, j, opts).astype(np.int16)
    return (a * len(PHONE_LABELS) + p).astype(np.int8)


def household_context_levels() -> np.ndarray:
    """Household levels that put a pair in a household context: the same flat (lived in or
    registered at) or a shared phone (exactly or one digit off)."""
    out = np.zeros(len(HOUSEHOLD_LABELS), dtype=bool)
    for a in range(len(ADDRESS_LABELS)):
        for p in range(len(PHONE_LABELS)):
            if a in (1, 6) or p in (1, 2):
                out[a * len(PHONE_LABELS) + p] = True
    return out


# ----------------------------------------------------------------------------- co-residents
# A household that moved leaves its hukou (and stale rolls) behind: one record of a person
# then carries nothing but the name. What still links it is the family: another member of
# the same police household (or of the same flat) matches, by name, another record of the
# other side's flat. The groups are the police household number, else the flat.
CORESIDENT_LABELS = ("null", "another member of the household matches", "no other member matches")


def household_groups(f: RecordFrame) -> np.ndarray:
    """A group id per record: its registered household, else its flat; -1 if neither."""
    dwelling = np.full(f.n, -1, dtype=np.int64)
    ok = (f.place1 >= 0) & (f.building >= 0) & (f.room >= 0)
    if ok.any():
        keys = np.stack([f.place1[ok], f.building[ok], f.room[ok]], axis=1)
        _, inv = np.unique(keys, axis=0, return_inverse=True)
        dwelling[ok] = inv.ravel()
    offset = int(dwelling.max()) + 1 if ok.any() else 0
    return np.where(f.household >= 0, f.household + offset, dwelling)


def _group_pair_keys(g: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    a, b = g[i], g[j]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    big = np.int64(max(1, int(g.max()) + 1))
    return np.where((a >= 0) & (b >= 0) & (a != b), lo * big + hi, -1)


def coresident_index(f: RecordFrame, i: np.ndarray, j: np.ndarray) -> dict:
    """For every pair of household groups, how many *different names* agree across them
    (exact, former name or same pinyin) among the candidate pairs; computed once."""
    groups = household_groups(f)
    strong = np.isin(name_levels(f, i, j, {}), (1, 2, 3))
    keys = _group_pair_keys(groups, i[strong], j[strong])
    names = f.name_key[i[strong]]
    ok = (keys >= 0) & (names >= 0)
    distinct = np.unique(np.stack([keys[ok], names[ok]], axis=1), axis=0)
    uniq, counts = np.unique(distinct[:, 0], return_counts=True)
    return {"groups": groups, "keys": uniq, "counts": counts}


def coresident_levels(f: RecordFrame, i: np.ndarray, j: np.ndarray, opts: dict) -> np.ndarray:
    """Level 1 when, besides this pair's own name, another name agrees between the two
    records' households; 2 when not; 0 when either has no household group."""
    index = opts.get("index")
    out = np.zeros(len(i), dtype=np.int8)
    if index is None or not len(i):
        return out
    keys = _group_pair_keys(index["groups"], i, j)
    has = keys >= 0
    out[has] = 2
    if not len(index["keys"]):
        return out
    pos = np.clip(np.searchsorted(index["keys"], keys), 0, len(index["keys"]) - 1)
    found = has & (index["keys"][pos] == keys)
    count = np.where(found, index["counts"][pos], 0)
    own = np.isin(name_levels(f, i, j, {}), (1, 2, 3)).astype(np.int64)
    out[has & (count - own >= 1)] = 1
    return out


# ----------------------------------------------------------------------------- source pair
def source_pair_labels(sources: list[str]) -> tuple[str, ...]:
    labels = ["null"]
    for a in range(len(sources)):
        for b in range(a, len(sources)):
            labels.append(f"{sources[a]} ~ {sources[b]}")
    return tuple(labels)


def source_pair_levels(f: RecordFrame, i: np.ndarray, j: np.ndarray, opts: dict) -> np.ndarray:
    s = len(f.sources)
    a = np.minimum(f.src[i], f.src[j]).astype(np.int64)
    b = np.maximum(f.src[i], f.src[j]).astype(np.int64)
    # index of (a, b) in the upper triangle, row by row, plus one for the null level
    return (a * s - a * (a - 1) // 2 + (b - a) + 1).astype(np.int8)


def build_comparisons(frame: RecordFrame, config: dict) -> list[Comparison]:
    """The comparisons the configuration switches on, in a fixed order."""
    opts = config.get("comparisons", {})
    enabled = opts.get("enabled", ["name", "birth", "sex", "id", "household", "sources"])
    available = {
        "name": Comparison(
            "name", NAME_LABELS, name_levels, tf_levels=(1, 3), disagree_levels=(9, 10)
        ),
        "birth": Comparison("birth", BIRTH_LABELS, birth_levels, disagree_levels=(5,)),
        "sex": Comparison("sex", SEX_LABELS, sex_levels),
        "id": Comparison("id", ID_LABELS, id_levels, disagree_levels=(5, 6)),
        "phone": Comparison("phone", PHONE_LABELS, phone_levels, tf_levels=(1,)),
        "address": Comparison("address", ADDRESS_LABELS, address_levels),
        "household": Comparison("household", HOUSEHOLD_LABELS, household_levels),
        "coresident": Comparison("coresident", CORESIDENT_LABELS, coresident_levels),
        "sources": Comparison("sources", source_pair_labels(frame.sources), source_pair_levels),
    }
    out = []
    for name in enabled:
        if name not in available:
            raise ValueError(f"linkage configuration: unknown comparison {name!r}")
        comp = available[name]
        comp.options = dict(opts.get(name, {}))
        out.append(comp)
    return out

"""Evidence that only the whole clustering gives: households, names borne by one person and
surname + title records.

Three passes run after the first clustering (each switchable in ``[clustering]``):

* **Household inference** (``household_inference``). A household that moved leaves its hukou
  address behind: its police records then share nothing with the records at the flat where
  it lives but the names. Once *other* members of that registered household have been linked
  (by ID, birth date …) to records at a flat, the household demonstrably lives there, so a
  hukou record of the same household is compared with the records at that flat as if its
  address were that flat: its household comparison level becomes "same dwelling" and the
  pair's weight is recomputed with the weights EM estimated for that level (no new
  parameters). The pair still needs its own name evidence: a different name stays far below
  the threshold, and inside a household context the name's own weight is the smaller one
  estimated among flat-mates.

* **Surname + title records** (``title_records``: 刘女士, 杜先生). Such a record says only
  "someone of this surname and sex at this flat or phone". It never joins the first
  clustering (one wrong link would chain a family together); afterwards it joins a person
  only when exactly one person qualifies: same surname, sex not contradicting, and either a
  pair weight at or above the threshold or the same dwelling or a shared phone. With two
  candidates (father and son, both 杜) it joins the one whose records share its phone
  number, if exactly one does; else the one its own roll does not already list by name at
  that flat, if exactly one; otherwise it stays on its own, for review.

* **Names borne by one person** (``unique_names``), before the title records: see
  :func:`attach_unique_names`.
"""

from __future__ import annotations

import numpy as np

from .frame import RecordFrame


def flat_groups(f: RecordFrame) -> np.ndarray:
    """A flat id per residence record (compound, building, room), -1 for the others."""
    out = np.full(f.n, -1, dtype=np.int64)
    ok = (f.place1 >= 0) & (f.building >= 0) & (f.room >= 0) & ~f.hukou
    if ok.any():
        keys = np.stack([f.place1[ok], f.building[ok], f.room[ok]], axis=1)
        _, inv = np.unique(keys, axis=0, return_inverse=True)
        out[ok] = inv.ravel()
    return out


def inferred_dwellings(
    f: RecordFrame, i: np.ndarray, j: np.ndarray, roots: np.ndarray
) -> np.ndarray:
    """Candidate pairs (one side a hukou record of a registered household, the other a
    residence record) whose flat is where *another* member of that household was linked."""
    flats = flat_groups(f)
    hh = f.household
    out = np.zeros(len(i), dtype=bool)
    if not (hh >= 0).any() or not (flats >= 0).any():
        return out
    # (household, flat, cluster) for every cluster holding a record of each
    members = np.flatnonzero(hh >= 0)
    residents = np.flatnonzero(flats >= 0)
    by_cluster_hh = np.unique(np.stack([roots[members], hh[members]], axis=1), axis=0)
    by_cluster_flat = np.unique(np.stack([roots[residents], flats[residents]], axis=1), axis=0)
    # join on cluster
    order = np.argsort(by_cluster_flat[:, 0], kind="stable")
    cf = by_cluster_flat[order]
    lo = np.searchsorted(cf[:, 0], by_cluster_hh[:, 0], side="left")
    hi = np.searchsorted(cf[:, 0], by_cluster_hh[:, 0], side="right")
    counts = hi - lo
    if not counts.sum():
        return out
    rep = np.repeat(np.arange(len(by_cluster_hh)), counts)
    pos = np.concatenate([np.arange(a, b) for a, b in zip(lo, hi, strict=True) if b > a])
    triples = np.stack([by_cluster_hh[rep, 1], cf[pos, 1], by_cluster_hh[rep, 0]], axis=1)
    # for each candidate pair: hukou side p (household), residence side q (flat)
    p = np.where(hh[i] >= 0, i, j)
    q = np.where(hh[i] >= 0, j, i)
    sel = np.flatnonzero(f.hukou[p] & (hh[p] >= 0) & (flats[q] >= 0) & ~f.hukou[q])
    if not len(sel):
        return out
    big = np.int64(int(flats.max()) + 1)
    key_t = triples[:, 0] * big + triples[:, 1]
    order = np.argsort(key_t, kind="stable")
    key_t, clusters = key_t[order], triples[order, 2]
    key_p = hh[p[sel]] * big + flats[q[sel]]
    lo = np.searchsorted(key_t, key_p, side="left")
    hi = np.searchsorted(key_t, key_p, side="right")
    rp, rq = roots[p[sel]], roots[q[sel]]
    # Another person (not either side's cluster) links the household to the flat: the
    # (household, flat) holds more clusters than those of the two sides. Each cluster appears
    # once per (household, flat) (the triples are distinct), so count the two sides out.
    first = np.r_[True, key_t[1:] != key_t[:-1]]  # key_t is sorted
    keys = key_t[first]
    n = np.int64(len(roots))
    present = np.cumsum(first, dtype=np.int64) - 1
    del first, key_t
    present *= n
    present += clusters
    present.sort()
    rank_p = np.minimum(np.searchsorted(keys, key_p), len(keys) - 1)

    def listed(c: np.ndarray) -> np.ndarray:
        code = rank_p * n + c
        at = np.minimum(np.searchsorted(present, code), len(present) - 1)
        return (present[at] == code).astype(np.int64)

    others = (hi - lo) - listed(rp) - listed(rq)
    out[sel[(hi > lo) & (rp != rq) & (others > 0)]] = True
    return out


def _listed(f: RecordFrame, roots: np.ndarray) -> dict[int, set[int]]:
    """Per cluster, the (source, flat) places where a record of it is listed: with a full
    name for a person, with a title for a group of title records."""
    flats = flat_groups(f)
    ok = np.flatnonzero((flats >= 0) & (f.name_kind > 0))
    keys = flats[ok] * np.int64(len(f.sources)) + f.src[ok]
    out: dict[int, set[int]] = {}
    for r, key in zip(roots[ok].tolist(), keys.tolist(), strict=True):
        out.setdefault(r, set()).add(key)
    return out


def _tie_break(
    group: int, persons: list[int], phone_pairs: set[tuple[int, int]], listed: dict
) -> int:
    """The one person of several that a title record is, or -1. First the only one whose
    records share the title record's phone number; else the only one the title record's own
    roll does not already list at that flat by name (a roll lists a resident once)."""
    phoned = [p for p in persons if (group, p) in phone_pairs]
    if len(phoned) == 1:
        return phoned[0]
    if phoned:
        return -1
    mine = listed.get(group, set())
    unlisted = [p for p in persons if not (listed.get(p, set()) & mine)]
    return unlisted[0] if len(unlisted) == 1 else -1


def attach_titles(
    f: RecordFrame,
    i: np.ndarray,
    j: np.ndarray,
    weights: np.ndarray,
    threshold: float,
    roots: np.ndarray,
    linked: np.ndarray,
    household_level: np.ndarray,
    sex_level: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Join each surname + title record (or group of them) to the one person that
    qualifies; see the module docstring. ``roots`` come from a clustering without title
    records; returns new roots and the updated linked flags."""
    roots = roots.copy()
    linked = linked.copy()
    title = f.name_kind == 2
    full = f.name_kind == 1
    # the household comparison's level = address level * 4 + phone level
    address, phone = household_level // 4, household_level % 4
    close = np.isin(address, (1, 6)) | (phone == 1)
    same_surname = (f.surname_key[i] == f.surname_key[j]) & (f.surname_key[i] >= 0)
    t_side = np.where(title[i] & full[j], i, np.where(title[j] & full[i], j, -1))
    o_side = np.where(t_side == i, j, i)
    base = same_surname & (sex_level != 2) & (t_side >= 0)
    target: dict[int, int] = {}
    # Persons sharing a phone number with the title record, per title group: the tie-breaker
    # when several persons of the surname qualify (father and son at one flat).
    by_phone = base & (phone == 1)
    phone_pairs = {
        (a, b)
        for a, b in zip(
            roots[t_side[by_phone]].tolist(), roots[o_side[by_phone]].tolist(), strict=True
        )
    }
    listed: dict[int, set[int]] | None = None  # built when first needed
    # first the persons the model links, then those at the same flat or phone
    for ok in (base & (weights >= threshold), base & close):
        sel = np.flatnonzero(ok)
        if not len(sel):
            continue
        groups = roots[t_side[sel]]
        pairs = np.unique(np.stack([groups, roots[o_side[sel]]], axis=1), axis=0)
        g, counts = np.unique(pairs[:, 0], return_counts=True)
        for a, b in pairs[np.isin(pairs[:, 0], g[counts == 1])].tolist():
            target.setdefault(a, b)
        ambiguous: dict[int, list[int]] = {}
        for a, b in pairs[np.isin(pairs[:, 0], g[counts > 1])].tolist():
            ambiguous.setdefault(a, []).append(b)
        if ambiguous and listed is None:
            listed = _listed(f, roots)
        for a, persons in ambiguous.items():
            target.setdefault(a, _tie_break(a, persons, phone_pairs, listed))
    target = {a: b for a, b in target.items() if b >= 0}
    if not target:
        return roots, linked
    unique_groups = np.array(sorted(target), dtype=np.int64)
    members = np.flatnonzero(np.isin(roots, unique_groups))
    # the group may hold only title records (else it was a person already)
    has_full = np.zeros(len(unique_groups), dtype=bool)
    pos = np.searchsorted(unique_groups, roots[members])
    np.logical_or.at(has_full, pos, full[members])
    movable = set(unique_groups[~has_full].tolist())
    for r in members.tolist():
        root = int(roots[r])
        if root in movable:
            roots[r] = target[root]
    sel = np.flatnonzero(base)
    linked[sel[roots[t_side[sel]] == roots[o_side[sel]]]] = True
    return roots, linked


def attach_unique_names(
    f: RecordFrame,
    i: np.ndarray,
    j: np.ndarray,
    weights: np.ndarray,
    floor: float,
    roots: np.ndarray,
    linked: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Join each person known only by a name to the only person who bears that name.

    A cluster none of whose records gives a birth date, an age or a full ID number (a roll
    entry with a name and an address, a landlord listed at a flat he lets out) cannot reach
    the threshold on any single pair: an exact name is worth about as much as the prior is
    against. But when exactly one *identified* person in the whole data (one with a birth date
    or an ID number) has that exact name (or had it, 曾用名), the record is most likely theirs.
    It joins that person when the best pair between them weighs at least ``floor`` (nothing
    contradicts it: a different phone, sex or masked ID number weighs it down below)."""
    roots = roots.copy()
    linked = linked.copy()
    n = f.n
    identified = np.zeros(n, dtype=bool)
    evidence = (f.dob >= 0) | (f.dob_lo >= 0) | np.isin(f.id_kind, (1, 2))
    identified[roots[evidence]] = True
    han = f.name_kind == 1
    # A weak cluster must carry exactly one name (and no title record): its name per cluster,
    # -2 where it has none or several.
    weak = ~identified[roots] & (f.name_kind > 0)
    name_of = np.full(n, -1, dtype=np.int64)
    members = np.flatnonzero(weak)
    if not len(members):
        return roots, linked
    value = np.where(han[members], f.name_text[members], -2)
    order = np.lexsort((value, roots[members]))
    c, v = roots[members][order], value[order]
    first = np.r_[True, c[1:] != c[:-1]]
    starts = np.flatnonzero(first)
    single = np.minimum.reduceat(v, starts) == np.maximum.reduceat(v, starts)
    name_of[c[starts]] = np.where(single, v[starts], -2)
    # identified clusters per name (current and former names): the name's only bearer, or -2
    strong = np.flatnonzero(identified[roots] & han)
    names = np.concatenate([f.name_text[strong], f.former_text[strong]])
    owners = np.concatenate([roots[strong], roots[strong]])
    keep = names >= 0
    pairs = np.unique(np.stack([names[keep], owners[keep]], axis=1), axis=0)
    uniq, start, count = np.unique(pairs[:, 0], return_index=True, return_counts=True)
    bearer = np.full(int(max(f.name_text.max(initial=-1), f.former_text.max(initial=-1))) + 2, -2)
    bearer[uniq[count == 1]] = pairs[start[count == 1], 1]
    target = np.full(n, -1, dtype=np.int64)
    clusters = np.flatnonzero(name_of >= 0)
    target[clusters] = bearer[name_of[clusters]]
    target[target < 0] = -1
    if not (target >= 0).any():
        return roots, linked
    # the best pair between the weak cluster and its person must reach the floor
    ri, rj = roots[i], roots[j]
    best = np.full(n, -np.inf)
    for x, y in ((ri, rj), (rj, ri)):
        hit = (target[x] == y) & (target[x] >= 0)
        np.maximum.at(best, x[hit], weights[hit])
    moved = np.where(best >= floor, target, -1)
    if not (moved >= 0).any():
        return roots, linked
    joins = moved[roots] >= 0
    roots[joins] = moved[roots[joins]]
    linked |= roots[i] == roots[j]
    return roots, linked

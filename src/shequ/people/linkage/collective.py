"""Evidence that only the whole clustering gives: households and surname + title records.

Two passes run after the first clustering (both switchable in ``[clustering]``):

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
  candidates (father and son, both 杜) it stays on its own, for review.
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
    for n, (a, b) in enumerate(zip(lo.tolist(), hi.tolist(), strict=True)):
        if b > a and rp[n] != rq[n]:
            # another person (not either side's cluster) links the household to the flat
            others = clusters[a:b]
            if ((others != rp[n]) & (others != rq[n])).any():
                out[sel[n]] = True
    return out


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
        for a in g[counts > 1].tolist():
            target.setdefault(a, -1)  # ambiguous: stays on its own
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

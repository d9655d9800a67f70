"""Clustering linked pairs into persons.

Plain connected components let one wrong link chain two people (a child's record carrying the
parent's phone) into one. Here links are taken strongest first and two clusters are only
joined when that does not put two different valid citizen ID numbers into one person (twins
have consecutive, both valid numbers; a mistyped number fails its check and does not count).
The one exception is a second registration (重复户口, one person under two numbers): a link
whose two records carry the same name and two valid numbers with the same region and birth
date (the first 14 digits) may join them; see :func:`second_registration`.
"""

from __future__ import annotations

import numpy as np

from .frame import RecordFrame


class _UnionFind:
    def __init__(self, n: int):
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        parent = self.parent
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root


def second_registration(
    frame: RecordFrame, i: np.ndarray, j: np.ndarray, name_levels: np.ndarray
) -> np.ndarray:
    """Pairs that look like one person registered twice: the same name (``name_levels`` 1,
    exact) and two different valid ID numbers that agree on region and birth date."""
    return (
        (name_levels == 1)
        & frame.id_valid[i]
        & frame.id_valid[j]
        & (frame.id_code[i] != frame.id_code[j])
        & (frame.id_head[i] == frame.id_head[j])
        & (frame.id_head[i] >= 0)
    )


def cluster(
    frame: RecordFrame,
    i: np.ndarray,
    j: np.ndarray,
    weights: np.ndarray,
    threshold: float,
    *,
    respect_ids: bool = True,
    exempt: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Cluster index per record, and for each pair whether it was used to join (or was
    already inside the same cluster).

    Pairs at or above ``threshold`` (a match weight) are taken in decreasing weight order.
    ``exempt`` marks pairs that may join two different valid ID numbers (second
    registrations).
    """
    n = frame.n
    uf = _UnionFind(n)
    parent = uf.parent
    ids: list[frozenset[int] | None] = [None] * n
    if respect_ids:
        for r, code in zip(
            np.flatnonzero(frame.id_valid).tolist(),
            frame.id_code[frame.id_valid].tolist(),
            strict=True,
        ):
            ids[r] = frozenset((code,))
    accepted = np.zeros(len(i), dtype=bool)
    order = np.argsort(-weights, kind="stable")
    order = order[weights[order] >= threshold]
    left, right = i[order].tolist(), j[order].tolist()
    free = exempt[order].tolist() if exempt is not None else [False] * len(order)
    taken = []  # positions in ``order`` of the pairs accepted
    for pos, (a, b, ok) in enumerate(zip(left, right, free, strict=True)):
        # find with path halving (the same roots as uf.find; inlined: millions of calls)
        while parent[a] != a:
            parent[a] = a = parent[parent[a]]
        while parent[b] != b:
            parent[b] = b = parent[parent[b]]
        ra, rb = a, b
        if ra == rb:
            taken.append(pos)
            continue
        ia, ib = ids[ra], ids[rb]
        if ia is not None and ib is not None and ia.isdisjoint(ib) and not ok:
            continue
        # union by keeping the smaller root index (deterministic)
        if rb < ra:
            ra, rb = rb, ra
            ia, ib = ib, ia
        parent[rb] = ra
        ids[ra] = ia if ib is None else (ib if ia is None else ia | ib)
        taken.append(pos)
    accepted[order[np.array(taken, dtype=np.int64)]] = True
    return _roots(np.array(parent, dtype=np.int64)), accepted


def _roots(parent: np.ndarray) -> np.ndarray:
    """The root of every element of a union-find forest (pointer jumping, vectorised)."""
    while True:
        up = parent[parent]
        if np.array_equal(up, parent):
            return parent
        parent = up

"""Clustering linked pairs into persons.

Plain connected components let one wrong link chain two people (a child's record carrying the
parent's phone) into one. Here links are taken strongest first and two clusters are only
joined when that does not put two different valid citizen ID numbers into one person (twins
have consecutive, both valid numbers; a mistyped number fails its check and does not count).
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


def cluster(
    frame: RecordFrame,
    i: np.ndarray,
    j: np.ndarray,
    weights: np.ndarray,
    threshold: float,
    *,
    respect_ids: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Cluster index per record, and for each pair whether it was used to join (or was
    already inside the same cluster).

    Pairs at or above ``threshold`` (a match weight) are taken in decreasing weight order.
    """
    n = frame.n
    uf = _UnionFind(n)
    ids: list[frozenset[int] | None] = [None] * n
    if respect_ids:
        for r in np.flatnonzero(frame.id_valid):
            ids[r] = frozenset((int(frame.id_code[r]),))
    accepted = np.zeros(len(i), dtype=bool)
    order = np.argsort(-weights, kind="stable")
    order = order[weights[order] >= threshold]
    left, right = i[order].tolist(), j[order].tolist()
    for k, a, b in zip(order.tolist(), left, right, strict=True):
        ra, rb = uf.find(a), uf.find(b)
        if ra == rb:
            accepted[k] = True
            continue
        ia, ib = ids[ra], ids[rb]
        if ia is not None and ib is not None and ia.isdisjoint(ib):
            continue
        # union by keeping the smaller root index (deterministic)
        if rb < ra:
            ra, rb = rb, ra
            ia, ib = ib, ia
        uf.parent[rb] = ra
        ids[ra] = ia if ib is None else (ib if ia is None else ia | ib)
        accepted[k] = True
    roots = np.fromiter((uf.find(x) for x in range(n)), dtype=np.int64, count=n)
    return roots, accepted

"""The Fellegi–Sunter model with weights estimated by EM, without labels (as Splink does).

For every comparison *c* and level *l* the model holds

* ``m[c][l]`` = P(level *l* | the two records are the same person),
* ``u[c][l]`` = P(level *l* | they are not),

and ``λ`` = P(match) among the candidate pairs. A pair's match weight is
``log2(λ/(1-λ)) + Σ_c log2(m[c][l_c] / u[c][l_c])`` (level 0, "no information", adds 0), and
its match probability is ``2^w / (1 + 2^w)``.

Estimation:

1. ``u`` is first estimated on a large random sample of record pairs, which are almost all
   non-matches (Splink's ``estimate_u_using_random_sampling``).
2. ``m`` by EM in training sessions, each on the pairs of one blocking rule (same birth date;
   same name): the comparisons the rule makes agree are left out of that session, the E step
   computes every pair's match probability from the current parameters, the M step
   re-estimates the other comparisons' ``m`` from those probabilities, until nothing moves
   more than ``em.tolerance``. Each comparison's ``m`` is the mean over the sessions that
   estimated it.
3. ``λ`` from the sessions too: a session on "same birth date" finds ``λ_s · N_s`` matching
   pairs; they are the share ``m[birth=exact] · P(both known)`` of all matches, so the
   number of matching pairs, and ``λ`` over all ``n(n-1)/2`` pairs, follow without labels.

Term-frequency adjustment (for exact names and shared phone numbers): agreeing on a rare name
counts more than agreeing on 王伟; the adjustment is ``log2(mean tf / tf(value))`` for the pair's
value, clipped to ``± em.tf_clip`` bits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .comparisons import Comparison
from .frame import RecordFrame

EPS = 1e-6


def _initial_m(n_levels: int) -> np.ndarray:
    """A neutral start: most mass on the best level, little on 'different'."""
    m = np.zeros(n_levels)
    usable = n_levels - 1
    if usable <= 0:
        return m
    raw = np.array([0.5**k for k in range(usable)])
    raw[-1] = min(raw[-1], 0.02)
    m[1:] = raw / raw.sum()
    return m


def level_frequencies(levels: np.ndarray, n_levels: int, weights: np.ndarray | None = None):
    counts = np.bincount(levels.astype(np.int64), weights=weights, minlength=n_levels)[:n_levels]
    counts = counts.astype(float)
    counts[0] = 0.0
    total = counts.sum()
    if total <= 0:
        return np.full(n_levels, EPS)
    return np.maximum(counts / total, EPS)


@dataclass
class FellegiSunter:
    comparisons: list[Comparison]
    m: list[np.ndarray] = field(default_factory=list)
    u: list[np.ndarray] = field(default_factory=list)
    # u given a household context (same flat or a shared phone) for the comparisons listed in
    # ``conditional``; None for the others.
    u_ctx: list[np.ndarray | None] = field(default_factory=list)
    conditional: frozenset[str] = frozenset()
    # (comparison index, bool per level): a pair is in a household context when any holds
    context: list[tuple[int, np.ndarray]] = field(default_factory=list)
    lam: float = 0.1
    sessions: list[dict] = field(default_factory=list)
    known_share: list[float] = field(default_factory=list)
    n_records: int = 0  # records the parameters were estimated on

    @property
    def prior_weight(self) -> float:
        return float(np.log2(self.lam / (1 - self.lam)))

    def _w(self, k: int, in_context: bool) -> np.ndarray:
        u = self.u_ctx[k] if in_context and self.u_ctx and self.u_ctx[k] is not None else self.u[k]
        w = np.log2(np.maximum(self.m[k], EPS) / np.maximum(u, EPS))
        w[0] = 0.0
        return w

    def weights(self, in_context: bool = False) -> list[np.ndarray]:
        return [self._w(k, in_context) for k in range(len(self.comparisons))]

    def context_mask(self, levels: np.ndarray) -> np.ndarray:
        out = np.zeros(len(levels), dtype=bool)
        for k, mask in self.context:
            out |= mask[levels[:, k]]
        return out

    def partial_weights(
        self,
        levels: np.ndarray,
        k: int,
        m: np.ndarray | None = None,
        u_ctx: np.ndarray | None = None,
        ctx: np.ndarray | None = None,
    ):
        """Weights of comparison ``k`` for every pair (context-aware)."""
        m = self.m[k] if m is None else m
        lv = levels[:, k]
        w = np.log2(np.maximum(m, EPS) / np.maximum(self.u[k], EPS))
        w[0] = 0.0
        out = w[lv]
        uc = u_ctx if u_ctx is not None else (self.u_ctx[k] if self.u_ctx else None)
        if uc is not None:
            ctx = self.context_mask(levels) if ctx is None else ctx
            wc = np.log2(np.maximum(m, EPS) / np.maximum(uc, EPS))
            wc[0] = 0.0
            out = np.where(ctx, wc[lv], out)
        return out

    # -------------------------------------------------------------------- storage
    def to_params(self, n_records: int) -> dict:
        """The fitted parameters as plain JSON (for reuse on a later, smaller input):
        ``n_records`` is the number of records they were estimated on (λ depends on it)."""
        return {
            "version": 1,
            "n_records": int(n_records),
            "lambda": float(self.lam),
            "conditional": sorted(self.conditional),
            "comparisons": [
                {
                    "name": c.name,
                    "levels": len(c.labels),
                    "labels": list(c.labels),
                    "m": [float(x) for x in self.m[k]],
                    "u": [float(x) for x in self.u[k]],
                    "u_household": (
                        [float(x) for x in self.u_ctx[k]]
                        if self.u_ctx and self.u_ctx[k] is not None
                        else None
                    ),
                    "known_share": float(self.known_share[k]) if self.known_share else 0.0,
                }
                for k, c in enumerate(self.comparisons)
            ],
            "sessions": [
                {key: (None if isinstance(v, float) and v != v else v) for key, v in info.items()}
                for info in self.sessions
            ],
        }

    def load_params(self, params: dict, population: int) -> None:
        """Take parameters of :meth:`to_params` for this model's comparisons (same names and
        numbers of levels, else ``ValueError``). λ, a share of all record pairs, is rescaled
        from the records it was estimated on to ``population`` records: the number of
        matching pairs grows with the records, all pairs with their square."""
        stored = {c["name"]: c for c in params.get("comparisons", ())}
        m, u, u_ctx, known = [], [], [], []
        for comp in self.comparisons:
            c = stored.get(comp.name)
            pick = _level_map(c, comp.labels) if c is not None else None
            if pick is None:
                raise ValueError(f"the stored model does not fit comparison {comp.name!r}")
            m.append(np.array(c["m"], dtype=float)[pick])
            u.append(np.array(c["u"], dtype=float)[pick])
            uc = c.get("u_household")
            u_ctx.append(np.array(uc, dtype=float)[pick] if uc is not None else None)
            known.append(float(c.get("known_share", 0.0)))
        self.m, self.u, self.u_ctx, self.known_share = m, u, u_ctx, known
        self.conditional = frozenset(params.get("conditional", ()))
        n_fit = max(2, int(params["n_records"]))
        scale = (n_fit - 1) / max(1, population - 1)
        self.lam = float(np.clip(float(params["lambda"]) * scale, 1e-12, 0.5))
        self.sessions = [dict(s, reused=True) for s in params.get("sessions", ())]
        self.n_records = n_fit

    # -------------------------------------------------------------------- estimation
    def estimate_u_random(
        self, frame: RecordFrame, n_pairs: int, seed: int = 42
    ) -> list[np.ndarray]:
        rng = np.random.default_rng(seed)
        n = frame.n
        n_pairs = int(min(n_pairs, max(1, n * (n - 1) // 2)))
        i = rng.integers(0, n, size=n_pairs)
        j = rng.integers(0, n, size=n_pairs)
        keep = i != j
        i, j = np.minimum(i[keep], j[keep]), np.maximum(i[keep], j[keep])
        self.u = []
        self.known_share = []
        for comp in self.comparisons:
            lv = comp.levels(frame, i, j)
            self.u.append(level_frequencies(lv, len(comp.labels)))
            self.known_share.append(float((lv > 0).mean()) if len(lv) else 0.0)
        self.u_ctx = [
            self.u[k].copy() if c.name in self.conditional else None
            for k, c in enumerate(self.comparisons)
        ]
        return self.u

    def fit_session(
        self,
        levels: np.ndarray,
        fixed: set[str],
        *,
        estimate: str = "m",
        max_iterations: int = 50,
        tolerance: float = 1e-5,
        initial_lambda: float = 0.1,
    ) -> tuple[dict[str, np.ndarray], float, int]:
        """One EM training session on the pairs of one blocking rule (Splink's
        ``estimate_parameters_using_expectation_maximisation``).

        The comparisons in ``fixed`` are those the session's blocking rule already makes
        agree: they are left out of the model (their agreement says nothing inside this
        session) and nothing of theirs is estimated here. With ``estimate="m"`` the other
        comparisons' ``m`` are re-estimated (``u`` stays as on random pairs); with
        ``estimate="u_context"`` (sessions on pairs that share a flat or a phone) ``m`` stays
        and the conditional comparisons' ``u`` given that context is estimated. Returns the
        new values, the session's match share and the number of iterations.
        """
        if not self.u:
            raise ValueError("estimate u first (estimate_u_random)")
        if not self.m:
            self.m = [_initial_m(len(c.labels)) for c in self.comparisons]
        active = [k for k, c in enumerate(self.comparisons) if c.name not in fixed]
        if estimate == "u_context":
            targets = [k for k in active if self.u_ctx[k] is not None]
            values = {k: self.u_ctx[k].copy() for k in targets}
            ctx = np.ones(len(levels), dtype=bool)
        else:
            targets = active
            values = {k: self.m[k].copy() for k in targets}
            ctx = self.context_mask(levels)
        lam = initial_lambda
        iteration = 0
        while iteration < max_iterations:
            iteration += 1
            total = np.full(len(levels), float(np.log2(lam / (1 - lam))))
            for k in active:
                if estimate == "m" and k in values:
                    total += self.partial_weights(levels, k, m=values[k], ctx=ctx)
                elif estimate == "u_context" and k in values:
                    total += self.partial_weights(levels, k, u_ctx=values[k], ctx=ctx)
                else:
                    total += self.partial_weights(levels, k, ctx=ctx)
            p = 1.0 / (1.0 + np.exp2(-np.clip(total, -60, 60)))
            weight = p if estimate == "m" else 1.0 - p
            delta = 0.0
            for k in targets:
                new = level_frequencies(levels[:, k], len(self.comparisons[k].labels), weight)
                delta = max(delta, float(np.abs(new - values[k]).max()))
                values[k] = new
            new_lam = float(np.clip(p.mean(), EPS, 1 - EPS))
            delta = max(delta, abs(new_lam - lam))
            lam = new_lam
            if delta < tolerance:
                break
        return {self.comparisons[k].name: v for k, v in values.items()}, lam, iteration

    def estimate_u_context(self, levels: np.ndarray, fixed: set[str]) -> dict[str, np.ndarray]:
        """u given a household context, measured on context pairs (same flat, shared phone)
        that another identifying comparison says are different people: u of the name among
        flat-mates whose birth dates or ID numbers differ, u of the birth date among
        flat-mates whose names or IDs differ, and so on."""
        out = {}
        for k, comp in enumerate(self.comparisons):
            if comp.name in fixed or self.u_ctx[k] is None:
                continue
            witness = np.zeros(len(levels), dtype=bool)
            for w, other in enumerate(self.comparisons):
                if w != k and other.disagree_levels and other.name not in fixed:
                    witness |= np.isin(levels[:, w], other.disagree_levels)
            if witness.sum() >= 50:
                out[comp.name] = level_frequencies(levels[witness, k], len(comp.labels))
        return out

    # -------------------------------------------------------------------- scoring
    def match_weights(self, levels: np.ndarray, tf_adjust: np.ndarray | None = None) -> np.ndarray:
        total = np.full(len(levels), self.prior_weight)
        ctx = self.context_mask(levels)
        for k in range(len(self.comparisons)):
            total += self.partial_weights(levels, k, ctx=ctx)
        if tf_adjust is not None:
            total += tf_adjust
        return total

    def probabilities(self, levels: np.ndarray, tf_adjust: np.ndarray | None = None) -> np.ndarray:
        w = self.match_weights(levels, tf_adjust)
        return 1.0 / (1.0 + np.exp2(-np.clip(w, -60, 60)))

    def describe(self) -> list[dict]:
        """m, u and weight of every level (and u, weight within a household context), for
        documentation and the bench report."""
        out = []
        for k, comp in enumerate(self.comparisons):
            w, wc = self._w(k, False), self._w(k, True)
            levels = []
            for lvl, label in enumerate(comp.labels):
                item = {
                    "label": label,
                    "m": float(self.m[k][lvl]),
                    "u": float(self.u[k][lvl]),
                    "weight": float(w[lvl]),
                }
                if self.u_ctx and self.u_ctx[k] is not None:
                    item["u_household"] = float(self.u_ctx[k][lvl])
                    item["weight_household"] = float(wc[lvl])
                levels.append(item)
            out.append({"comparison": comp.name, "levels": levels})
        return out


def _level_map(stored: dict, labels: tuple[str, ...]) -> list[int] | None:
    """Positions in a stored comparison of this comparison's levels: the same levels, or (for
    the source pairs, whose levels depend on the sources present) a subset named by label."""
    names = stored.get("labels")
    if names is None or list(names) == list(labels):
        return list(range(len(labels))) if int(stored["levels"]) == len(labels) else None
    position = {label: k for k, label in enumerate(names)}
    if labels[0] != names[0] or any(label not in position for label in labels):
        return None
    return [position[label] for label in labels]


def term_frequency_adjustments(
    frame: RecordFrame,
    i: np.ndarray,
    j: np.ndarray,
    model: FellegiSunter,
    levels: np.ndarray,
    clip: float,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Per-pair weight adjustments (bits) for the levels that use term frequencies: Splink's
    ``log2(u_level / tf(value))``, where ``tf`` is the value's share of the records."""
    total = np.zeros(len(i))
    parts: dict[str, np.ndarray] = {}

    def freq(*cols: np.ndarray) -> np.ndarray:
        values = np.concatenate([c[c >= 0] for c in cols])
        counts = np.bincount(values) if len(values) else np.zeros(1)
        return counts / max(1, len(values))

    for k, comp in enumerate(model.comparisons):
        if not comp.tf_levels:
            continue
        adj = np.zeros(len(i))
        u = model.u[k]
        if comp.name == "name":
            columns = {1: frame.name_text, 3: frame.name_key}
            for lvl in comp.tf_levels:
                col = columns.get(lvl)
                sel = levels[:, k] == lvl
                if col is None or not sel.any():
                    continue
                tf = freq(col)[col[i[sel]]]
                adj[sel] = np.clip(np.log2(u[lvl] / tf), -clip, clip)
        elif comp.name == "phone":
            sel = levels[:, k] == 1
            if sel.any():
                tf_all = freq(frame.phone1, frame.phone2)
                a1, a2 = frame.phone1[i[sel]], frame.phone2[i[sel]]
                b1, b2 = frame.phone1[j[sel]], frame.phone2[j[sel]]
                shared = np.where((a1 == b1) | (a1 == b2), a1, a2)
                adj[sel] = np.clip(np.log2(u[1] / tf_all[shared]), -clip, clip)
        parts[comp.name] = adj
        total += adj
    return total, parts

"""The linkage engine as a library: standard records in, persons (clusters) and explained
pairs out. No database: a later step stores raw records, links incrementally and keeps the
review queue; this module only computes.

    records = standardise_directory(path)            # or build StandardRecords yourself
    result = link_records(records, load_config())
    result.cluster_labels()                          # one person label per record
    result.explain(k)                                # why pair k was (not) linked
"""

from __future__ import annotations

import copy
import datetime as dt
import gc
import multiprocessing as mp
import os
import time
import tomllib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..sourcedefs import SourceDefinition, builtin_definitions, read_rows
from ..standardise.geography import Geography
from ..standardise.records import Standardiser, StandardRecord
from .blocking import _entries, candidate_pairs, pairs_in_groups
from .cluster import cluster, second_registration
from .collective import attach_titles, attach_unique_names, inferred_dwellings
from .comparisons import (
    Comparison,
    build_comparisons,
    coresident_index,
    household_context_levels,
    learn_confusions,
)
from .frame import RecordFrame
from .model import FellegiSunter, term_frequency_adjustments

DEFAULT_CONFIG = Path(__file__).resolve().parent / "linkage.toml"


class LinkageConfigError(ValueError):
    pass


def _merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def load_config(path: str | Path | None = None) -> dict:
    """The shipped configuration, with ``path`` (if given) merged over it."""
    config = tomllib.loads(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    if path:
        try:
            over = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise LinkageConfigError(f"{path}: {exc}") from exc
        config = _merge(config, over)
    p = config["clustering"]["match_probability"]
    if not 0 < p < 1:
        raise LinkageConfigError("clustering.match_probability must be between 0 and 1")
    return config


def probability_to_weight(p: float) -> float:
    return float(np.log2(p / (1 - p)))


# ----------------------------------------------------------------------------- reading
def standardise_directory(
    directory: str | Path,
    *,
    definitions: dict[str, SourceDefinition] | None = None,
    geography: Geography | str | Path | None = None,
    today: dt.date | None = None,
    workers: int | None = None,
) -> list[StandardRecord]:
    """Read every source file present in ``directory`` with its definition and the
    directory's ``geography.csv``.

    ``workers`` processes standardise in parallel (default: the CPU count, at most 4; large
    inputs only: below ``PARALLEL_MIN_BYTES`` of source text one process is faster). The
    records come back in file order either way."""
    directory = Path(directory)
    definitions = definitions if definitions is not None else builtin_definitions()
    if not isinstance(geography, Geography):
        geography = Geography.from_csv(geography or directory / "geography.csv")
    paths = [(d, directory / d.file) for d in definitions.values() if (directory / d.file).exists()]
    if not paths:
        names = ", ".join(d.file for d in definitions.values())
        raise FileNotFoundError(f"{directory}: none of the source files ({names}) is there")
    today = today or dt.date.today()
    if workers is None:
        workers = min(4, os.cpu_count() or 1)
    size = sum(path.stat().st_size for _, path in paths)
    with gc_paused():
        if workers > 1 and size >= PARALLEL_MIN_BYTES and "fork" in mp.get_all_start_methods():
            return _standardise_parallel(paths, geography, today, workers)
        records: list[StandardRecord] = []
        for defn, path in paths:
            std = Standardiser(defn, geography, today=today)
            records.extend(std.standardise(line, row) for line, row in read_rows(defn, path))
        return records


@contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cycle collector off while millions of long-lived objects (records, frame
    columns) are made: each full collection walks all of them again, which cost a third of the
    time of receiving the records from the workers. They hold no reference cycles, so nothing
    is left uncollected; the collector is back on (as it was) afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# Below about this much source text (~100,000 records) starting processes does not pay.
PARALLEL_MIN_BYTES = 12_000_000
PARALLEL_CHUNK = 20_000
_POOL_STATE: dict = {}


def _worker_start() -> None:
    # the objects inherited from the parent are never garbage: the collector leaves them alone
    # (walking them would also copy the shared memory pages into each worker)
    gc.freeze()


def _chunk_worker(job: tuple[str, list]) -> list[StandardRecord]:
    name, rows = job
    std = _POOL_STATE["standardisers"][name]
    return [std.standardise(line, row) for line, row in rows]


def _chunks(paths, size: int):
    for defn, path in paths:
        rows: list = []
        for item in read_rows(defn, path):
            rows.append(item)
            if len(rows) >= size:
                yield defn.name, rows
                rows = []
        if rows:
            yield defn.name, rows


def _standardise_parallel(paths, geography: Geography, today: dt.date, workers: int):
    """Chunks of rows to forked workers (which inherit the parsers and the area tree), in
    order. Equal values parsed in different workers arrive as different objects: they are
    shared again here, which keeps memory near the single-process figure."""
    _POOL_STATE["standardisers"] = {
        defn.name: Standardiser(defn, geography, today=today) for defn, _ in paths
    }
    interned: dict = {}
    records: list[StandardRecord] = []
    try:
        with mp.get_context("fork").Pool(workers, initializer=_worker_start) as pool:
            for chunk in pool.imap(_chunk_worker, _chunks(paths, PARALLEL_CHUNK)):
                for rec in chunk:
                    rec.name = interned.setdefault(rec.name, rec.name)
                    rec.former_name = interned.setdefault(rec.former_name, rec.former_name)
                    rec.address = interned.setdefault(rec.address, rec.address)
                records.extend(chunk)
    finally:
        _POOL_STATE.clear()
    return records


# ----------------------------------------------------------------------------- result
@dataclass
class LinkResult:
    frame: RecordFrame
    records: Sequence[StandardRecord]
    comparisons: list[Comparison]
    model: FellegiSunter
    i: np.ndarray
    j: np.ndarray
    levels: np.ndarray
    tf: dict[str, np.ndarray]
    weights: np.ndarray
    probabilities: np.ndarray
    linked: np.ndarray
    roots: np.ndarray
    threshold: float
    config: dict
    timings: dict[str, float] = field(default_factory=dict)
    blocking: dict[str, int] = field(default_factory=dict)
    # pairs whose household level was inferred from other members of the household
    inferred: np.ndarray | None = None
    # pairs that may join two different valid ID numbers (one person registered twice)
    exempt: np.ndarray | None = None

    def cluster_labels(self, prefix: str = "K") -> list[str]:
        """A label per record; records of one person share it (named after its first
        record, so it is stable for the same input)."""
        return [f"{prefix}{int(r):07d}" for r in self.roots]

    @property
    def n_clusters(self) -> int:
        return len(np.unique(self.roots))

    def explain(self, k: int) -> dict:
        """Why candidate pair ``k`` got its weight: every comparison's level and weight."""
        a, b = int(self.i[k]), int(self.j[k])
        row = self.levels[k : k + 1]
        in_context = bool(self.model.context_mask(row)[0])
        weights = self.model.weights(in_context)
        parts = []
        for c, comp in enumerate(self.comparisons):
            level = int(self.levels[k, c])
            w = float(weights[c][level])
            tf = float(self.tf.get(comp.name, np.zeros(len(self.i)))[k])
            label = comp.labels[level]
            if comp.name == "household" and self.inferred is not None and self.inferred[k]:
                label += " (the household's other members were linked to this flat)"
            parts.append(
                {
                    "comparison": comp.name,
                    "level": label,
                    "weight": round(w + tf, 3),
                    "tf_adjustment": round(tf, 3),
                }
            )
        out = {
            "left": (self.records[a].source, self.records[a].record_id),
            "right": (self.records[b].source, self.records[b].record_id),
            "match_weight": round(float(self.weights[k]), 3),
            "match_probability": round(float(self.probabilities[k]), 5),
            "prior_weight": round(self.model.prior_weight, 3),
            "household_context": in_context,
            "linked": bool(self.linked[k]),
            "comparisons": parts,
        }
        if self.linked[k] and self.weights[k] < self.threshold:
            # one person by the clustering (other links, a title record's only candidate, a
            # name only one identified person bears), not by this pair's weight
            out["joined_by"] = "clustering"
        return out

    def review_pairs(self) -> np.ndarray:
        """Indices of the uncertain pairs a steward is asked about (see
        :func:`review_selection`)."""
        c = self.config["clustering"]
        return review_selection(
            self.i,
            self.j,
            self.probabilities,
            self.linked,
            self.frame.n,
            float(c["review_low"]),
            float(c["review_high"]),
        )

    def linked_pairs(self) -> np.ndarray:
        return np.flatnonzero(self.linked)


def review_selection(
    i: np.ndarray,
    j: np.ndarray,
    probabilities: np.ndarray,
    linked: np.ndarray | None,
    n: int,
    low: float,
    high: float,
) -> np.ndarray:
    """The uncertain pairs (match probability from ``low`` up to ``high``) worth a steward's
    decision, one per question. Records joined by certain links (``high`` and above, and
    kept by the clustering) are one group: a doubtful pair inside a group changes nothing,
    and between two groups the question is the same whichever of their pairs is shown, so
    only the most probable pair between each two groups is returned."""
    p = probabilities
    band = np.flatnonzero((p >= low) & (p < high))
    if not len(band):
        return band
    certain = p >= high
    if linked is not None:
        certain &= linked
    group = _components(n, i[certain], j[certain])
    gi, gj = group[i[band]], group[j[band]]
    band, gi, gj = band[gi != gj], gi[gi != gj], gj[gi != gj]
    key = np.minimum(gi, gj) * np.int64(n) + np.maximum(gi, gj)
    order = np.lexsort((-p[band], key))
    key, band = key[order], band[order]
    first = np.r_[True, key[1:] != key[:-1]]
    return np.sort(band[first])


def _components(n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Connected component (smallest member) of every record under the links (i, j)."""
    parent = np.arange(n)
    # label propagation to a fixed point: each record takes the smallest label it links to
    while True:
        lo = np.minimum(parent[i], parent[j])
        new = parent.copy()
        np.minimum.at(new, i, lo)
        np.minimum.at(new, j, lo)
        new = new[new]
        if np.array_equal(new, parent):
            return parent
        parent = new


# ----------------------------------------------------------------------------- linking
def link_records(
    records: Sequence[StandardRecord],
    config: dict | None = None,
    model: dict | FellegiSunter | None = None,
    *,
    population: int | None = None,
) -> LinkResult:
    """Link ``records`` into persons. The weights are estimated on ``records`` by EM, or, with
    ``model`` (the parameters of an earlier run, :meth:`FellegiSunter.to_params`, or a fitted
    model), taken from it: a small new batch then scores with weights estimated on earlier,
    larger data. ``population``: how many records the whole store holds (the prior match share
    is rescaled to it; default ``len(records)``)."""
    config = config or load_config()
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    with gc_paused():
        frame = RecordFrame.from_records(records)
    timings["frame"] = time.perf_counter() - t0

    t = time.perf_counter()
    block = config["blocking"]
    i, j, counts = candidate_pairs(frame, block["rules"], int(block["max_block_size"]))
    timings["blocking"] = time.perf_counter() - t

    t = time.perf_counter()
    comparisons = build_comparisons(frame, config)
    for comp in comparisons:
        if comp.name == "name" and comp.options.get("learn_confusions", True):
            comp.options["confusions"] = learn_confusions(frame, i, j)
        if comp.name == "coresident":
            comp.options["index"] = coresident_index(frame, i, j)
    levels = _levels(frame, comparisons, i, j)
    timings["comparing"] = time.perf_counter() - t

    t = time.perf_counter()
    if model is None:
        model = train(frame, comparisons, config)
    else:
        params = model.to_params(model.n_records) if isinstance(model, FellegiSunter) else model
        model = FellegiSunter(comparisons)
        _set_context(model, comparisons, config)
        model.load_params(params, population or frame.n)
    tf_total, tf_parts = term_frequency_adjustments(
        frame, i, j, model, levels, float(config["em"]["tf_clip"])
    )
    weights = model.match_weights(levels, tf_total)
    probabilities = 1.0 / (1.0 + np.exp2(-np.clip(weights, -60, 60)))
    timings["estimating"] = time.perf_counter() - t

    t = time.perf_counter()
    cl = config["clustering"]
    threshold = probability_to_weight(float(cl["match_probability"]))
    respect_ids = bool(cl.get("respect_ids", True))
    names = [c.name for c in comparisons]
    titles = bool(cl.get("title_records", True)) and "household" in names and "sex" in names
    # surname + title records join only after the others (see collective.py)
    title_pair = (frame.name_kind[i] == 2) != (frame.name_kind[j] == 2)
    first = np.where(title_pair, -np.inf, weights) if titles else weights
    exempt = None
    if "name" in names and cl.get("second_registrations", True):
        exempt = second_registration(frame, i, j, levels[:, names.index("name")])
    roots, linked = cluster(frame, i, j, first, threshold, respect_ids=respect_ids, exempt=exempt)
    inferred = None
    if cl.get("household_inference", True) and "household" in names:
        h = names.index("household")
        inferred = inferred_dwellings(frame, i, j, roots) & ~title_pair
        if inferred.any():
            levels[inferred, h] = levels[inferred, h] % 4 + 4  # same dwelling, phone kept
            weights[inferred] = model.match_weights(levels[inferred], tf_total[inferred])
            probabilities = 1.0 / (1.0 + np.exp2(-np.clip(weights, -60, 60)))
            first = np.where(title_pair, -np.inf, weights) if titles else weights
            roots, linked = cluster(
                frame, i, j, first, threshold, respect_ids=respect_ids, exempt=exempt
            )
    if cl.get("unique_names", True) and "name" in names:
        floor = probability_to_weight(float(cl.get("unique_name_probability", 0.2)))
        roots, linked = attach_unique_names(frame, i, j, weights, floor, roots, linked)
    if titles:
        roots, linked = attach_titles(
            frame,
            i,
            j,
            weights,
            threshold,
            roots,
            linked,
            levels[:, names.index("household")],
            levels[:, names.index("sex")],
        )
    timings["clustering"] = time.perf_counter() - t
    return LinkResult(
        frame=frame,
        records=records,
        comparisons=comparisons,
        model=model,
        i=i,
        j=j,
        levels=levels,
        tf=tf_parts,
        weights=weights,
        probabilities=probabilities,
        linked=linked,
        roots=roots,
        threshold=threshold,
        config=config,
        timings=timings,
        blocking=counts,
        inferred=inferred,
        exempt=exempt,
    )


# Which comparison a blocking key makes agree (so that a training session on that rule leaves
# the comparison out), and the levels that agreement means.
KEY_COMPARISON = {
    "dob": ("birth", (1,)),
    "birth_year": ("birth", ()),
    "birth_years": ("birth", ()),
    "name_key": ("name", (1, 3)),
    "any_name_key": ("name", (1, 2, 3)),
    "fuzzy_key": ("name", ()),
    "surname_key": ("name", ()),
    "given_key": ("name", ()),
    "id": ("id", (1,)),
    "id_head": ("id", ()),
    "id_p3s4": ("id", ()),
    "phone": ("household", ()),
    "place": ("household", ()),
    "building": ("household", ()),
    "unit": ("household", ()),
    "room": ("household", ()),
    "community": ("household", ()),
    "district": ("household", ()),
    "sex": ("sex", (1,)),
    "source": ("sources", ()),
}


def train(frame: RecordFrame, comparisons: list[Comparison], config: dict) -> FellegiSunter:
    """u on random pairs, then m (and λ) by EM in the configured training sessions."""
    em = config["em"]
    model = FellegiSunter(comparisons)
    names = [c.name for c in comparisons]
    _set_context(model, comparisons, config)
    model.n_records = frame.n
    model.estimate_u_random(frame, int(em["u_sample_pairs"]), int(em["seed"]))
    estimates: dict[str, list[np.ndarray]] = {}
    ctx_estimates: dict[str, list[np.ndarray]] = {}
    match_counts: list[float] = []
    rng = np.random.default_rng(int(em["seed"]))
    total_pairs = frame.n * (frame.n - 1) / 2
    ctx_done = False
    for session in em["sessions"]:
        rule = session["rule"]
        rec, group = _entries(frame, rule)
        si, sj = pairs_in_groups(rec, group, int(session.get("max_block_size", 10**9)))
        cap = int(session.get("max_pairs", em.get("session_max_pairs", 2_000_000)))
        if len(si) > cap:
            keep = np.sort(rng.choice(len(si), size=cap, replace=False))
            scale = len(si) / cap
            si, sj = si[keep], sj[keep]
        else:
            scale = 1.0
        if not len(si):
            continue
        fixed = {KEY_COMPARISON[k][0] for k in rule if k in KEY_COMPARISON}
        lv = _levels(frame, comparisons, si, sj)
        estimate = session.get("estimate", "m")
        if estimate == "u_context" and not model.context:
            continue
        if estimate == "u_context" and not ctx_done:
            _settle_m(model, estimates, names)
            ctx_done = True
        if estimate == "u_context":
            values, lam, iterations = model.estimate_u_context(lv, fixed), float("nan"), 0
        else:
            values, lam, iterations = model.fit_session(
                lv,
                fixed,
                max_iterations=int(em["max_iterations"]),
                tolerance=float(em["tolerance"]),
                initial_lambda=float(em["initial_lambda"]),
            )
        target = estimates if estimate == "m" else ctx_estimates
        for name, value in values.items():
            target.setdefault(name, []).append(value)
        model.sessions.append(
            {
                "rule": list(rule),
                "estimate": estimate,
                "pairs": int(len(si) * scale),
                "lambda": lam,
                "iterations": iterations,
                "fixed": sorted(fixed),
            }
        )
    if not ctx_done:
        _settle_m(model, estimates, names)
    for k, name in enumerate(names):
        if model.u_ctx and model.u_ctx[k] is not None and name in ctx_estimates:
            model.u_ctx[k] = np.mean(ctx_estimates[name], axis=0)
    # λ: each single-comparison session's matches are the share P(rule | match) of all.
    for info in model.sessions:
        rule = info["rule"]
        if (
            info["estimate"] != "m"
            or len(rule) != 1
            or not KEY_COMPARISON.get(rule[0], ("", ()))[1]
        ):
            continue
        comp, agree_levels = KEY_COMPARISON[rule[0]]
        k = names.index(comp)
        known = model.known_share[k]
        p_rule = float(sum(model.m[k][lvl] for lvl in agree_levels)) * known
        if p_rule > 0:
            match_counts.append(info["lambda"] * info["pairs"] / p_rule)
    if not match_counts:
        raise LinkageConfigError(
            "em.sessions: at least one session must block on a single key such as dob or "
            "name_key, so that the share of matching pairs can be estimated"
        )
    model.lam = float(np.clip(np.mean(match_counts) / total_pairs, 1e-12, 0.5))
    return model


def _set_context(model: FellegiSunter, comparisons: list[Comparison], config: dict) -> None:
    names = [c.name for c in comparisons]
    if "household" in names:
        model.context.append((names.index("household"), household_context_levels()))
    if "coresident" in names:  # another member of the two households matches
        model.context.append((names.index("coresident"), np.array([False, True, False])))
    if model.context:
        model.conditional = frozenset(config["comparisons"].get("conditional", ()))


def _settle_m(model: FellegiSunter, estimates: dict, names: list[str]) -> None:
    missing = [n for n in names if n not in estimates]
    if missing:
        raise LinkageConfigError(
            "em.sessions: no training session estimates m of "
            + ", ".join(missing)
            + " (every comparison must be free in at least one session)"
        )
    model.m = [np.mean(estimates[n], axis=0) for n in names]


def _levels(
    frame: RecordFrame, comparisons: Iterable[Comparison], i: np.ndarray, j: np.ndarray
) -> np.ndarray:
    comparisons = list(comparisons)
    out = np.zeros((len(i), len(comparisons)), dtype=np.int8)
    for k, comp in enumerate(comparisons):
        out[:, k] = comp.levels(frame, i, j)
    return out


def link_directory(
    directory: str | Path, config: dict | None = None, **kwargs
) -> tuple[list[StandardRecord], LinkResult]:
    records = standardise_directory(directory, **kwargs)
    return records, link_records(records, config)

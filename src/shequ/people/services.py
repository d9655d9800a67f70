"""Linking raw records into persons, incrementally, with stable person ids.

``link_pending`` takes the records no person holds yet (a new batch) and links them against the
existing persons and against each other, without relinking everything:

1. the context: every existing person that could be the same human (all of them while the
   population is small, else those sharing an ID number, phone, name, birth date or dwelling
   with a new record), each as its records (or, for a person no record gave, as its golden
   record: source ``register``);
2. the engine (:func:`shequ.people.linkage.link_records`) scores the candidate pairs with
   weights estimated on that data and the thresholds of ``linkage.toml``;
3. clustering here, not in the engine: each existing person is one fixed group (its records are
   never moved by a run), new records join groups strongest link first (the pairs at the
   threshold, then those the engine's clustering joined by the evidence of the whole data:
   title records, names borne by one identified person), never across a pair a
   steward rejected or split, never joining two different valid citizen ID numbers (unless
   the engine takes the pair for one person registered twice: same name, same region and
   birth date in both numbers);
4. a group with existing persons keeps the oldest person's id (others are merged into it); a
   group of new records only becomes a new person;
5. every link is stored (``LinkDecision`` kind ``auto``: the match weight and the comparisons
   behind it), uncertain pairs go to the review queue (one pair per question, see
   :func:`shequ.people.linkage.engine.review_selection`), golden records are recomputed, and
   the outcome says which model linked the run (:func:`model_info`, kept on the batch).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import re
from collections import defaultdict
from dataclasses import dataclass, field
from importlib import metadata

import numpy as np
from django.db import connection, transaction
from django.db.models import Q

from shequ.areas.models import Place
from shequ.core import idnumber
from shequ.core.crypto import hash_id, hash_phone

from . import golden
from .bulk import fast_insert
from .ingest import city_code, community_of, std_from_json
from .linkage import LinkageConfigError, link_records, load_config, probability_to_weight
from .linkage.engine import review_selection
from .linkage.frame import RecordFrame
from .models import (
    Batch,
    DecisionKind,
    LinkDecision,
    Person,
    RawRecord,
    ReviewItem,
    ReviewStatus,
    Source,
)
from .standardise.addresses import Address
from .standardise.names import parse_name
from .standardise.records import StandardRecord

# A new batch is linked against the persons that share a key with one of its records (the
# persons its pairs could reach). When the weights are estimated in the run (a batch of at
# least ``SMALL_BATCH`` records, or no fitting stored model), a fixed sample of other persons is
# added so that the estimates also see ordinary non-matching pairs; a smaller batch is scored
# with the model stored by the last run that estimated one.
SMALL_BATCH = 5_000
# A stored model is used only when estimated on at least this many records, of every source
# the run sees (the "sources" comparison has a level per pair of sources).
MIN_MODEL_RECORDS = 1_000
# Below this, EM's weights depend on which few records happen to be in the run: exact IDs only.
MIN_ESTIMATE_RECORDS = 100
BACKGROUND_PERSONS = 20_000
REGISTER_SOURCE = "register"
MODEL_KEY = "linkage_model"
_DWELLING = re.compile(r"^(?P<compound>.+C\d+)B(?P<b>\d+)U(?P<u>\d+)R(?P<f>\d{2})(?P<r>\d{2})$")


@dataclass
class LinkOutcome:
    pending: int = 0
    linked_records: int = 0
    new_persons: int = 0
    merged_persons: int = 0
    review_items: int = 0
    context_records: int = 0
    fallback: bool = False
    model: str = ""  # "estimated" (and stored), "stored" (an earlier run's), "exact_id"
    # which model linked the run (kept on the batch: Batch.linkage_model); see model_info()
    model_info: dict = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


# ----------------------------------------------------------------------------- context
def golden_record(person: Person, dwelling_code: str, dwelling_area: str) -> StandardRecord:
    """A person as one more record (source ``register``) for the engine."""
    address = Address()
    match = _DWELLING.match(dwelling_code or "")
    if match:
        community = community_of(dwelling_area)
        address = Address(
            raw=dwelling_code,
            kind="dwelling",
            district=community[:6],
            street=community[:9],
            community=community,
            compounds=(match["compound"],),
            building=int(match["b"]),
            unit=int(match["u"]),
            room=int(match["f"]) * 100 + int(match["r"]),
        )
    return StandardRecord(
        source=REGISTER_SOURCE,
        record_id=f"P{person.pk}",
        name=parse_name(
            person.name_latin if not person.name and person.name_latin else person.name
        ),
        former_name=parse_name(person.former_name),
        sex=person.sex if person.sex in ("1", "2") else "",
        birth_date=person.birth_date,
        id=idnumber.read(person.id_number),
        phones=(person.phone,) if person.phone else (),
        address=address,
        household_number=person.household.number if person.household_id else "",
        relation=person.relation,
        ethnicity=person.ethnicity,
    )


def _context_person_ids(pending: list[StandardRecord], pending_pks: list[int]) -> list[int]:
    """Persons sharing an ID number, phone, name (or former name), birth date or dwelling
    with a new record: the only ones its candidate pairs can reach."""
    ids = {r.id.number for r in pending if r.id.kind == "resident"}
    phones = {p for r in pending for p in r.phones}
    names = {n.text for r in pending for n in (r.name, r.former_name) if n.kind in ("han", "latin")}
    births = {r.best_birth_date for r in pending if r.best_birth_date}
    found: set[int] = set()

    def chunks(values):
        values = list(values)
        for i in range(0, len(values), 900):
            yield values[i : i + 900]

    # ID numbers and phones are encrypted at rest: they are found by their keyed hashes.
    for key, values in (
        ("id_number_hash", {hash_id(v) for v in ids}),
        ("phone_hash", {hash_phone(v) for v in phones}),
        ("name", names),
    ):
        for chunk in chunks(values):
            found.update(
                Person.objects.filter(**{f"{key}__in": chunk}).values_list("id", flat=True)
            )
            found.update(
                RawRecord.objects.filter(**{f"{key}__in": chunk}, person__isnull=False).values_list(
                    "person_id", flat=True
                )
            )
    for chunk in chunks(births):
        found.update(Person.objects.filter(birth_date__in=chunk).values_list("id", flat=True))
        found.update(
            RawRecord.objects.filter(birth_date__in=chunk, person__isnull=False).values_list(
                "person_id", flat=True
            )
        )
    dwellings = set(
        RawRecord.objects.filter(pk__in=pending_pks, dwelling__isnull=False).values_list(
            "dwelling_id", flat=True
        )
    )
    for chunk in chunks(dwellings):
        found.update(Person.objects.filter(dwelling_id__in=chunk).values_list("id", flat=True))
        found.update(
            RawRecord.objects.filter(dwelling_id__in=chunk, person__isnull=False).values_list(
                "person_id", flat=True
            )
        )
    return sorted(found)


def _background_ids(size: int, seed: int) -> list[int]:
    """A fixed sample of persons, so that the estimates also see non-matching pairs."""
    rng = random.Random(seed)
    max_id = Person.objects.order_by("-id").values_list("id", flat=True).first() or 0
    sample = sorted({rng.randint(1, max_id) for _ in range(size)}) if max_id else []
    found: list[int] = []
    for i in range(0, len(sample), 900):
        found.extend(Person.objects.filter(pk__in=sample[i : i + 900]).values_list("id", flat=True))
    return found


def _population(n_new: int) -> int:
    """Records a full run would see: stored records of persons, a golden record per person
    without any, and the new ones (the prior match share of a stored model scales with it)."""
    held = RawRecord.objects.filter(person__isnull=False)
    with_records = held.values("person_id").distinct().count()
    return held.count() + Person.objects.count() - with_records + n_new


# ----------------------------------------------------------------------------- the model
def stored_model() -> dict | None:
    """The parameters the last run that estimated them stored (see ``store_model``)."""
    rows = (
        LinkDecision.objects.filter(
            kind=DecisionKind.AUTO,
            person_id__isnull=True,
            other_person_id__isnull=True,
            record__isnull=True,
        )
        .order_by("-id")
        .values_list("explanation", flat=True)[:5]
    )
    for explanation in rows:
        if isinstance(explanation, dict) and MODEL_KEY in explanation:
            return explanation[MODEL_KEY]
    return None


def model_fingerprint(params: dict) -> str:
    """A short, stable name for a set of weights: the same m, u and λ estimated on the same
    number of records give the same fingerprint."""
    core = {
        "lambda": params.get("lambda"),
        "n_records": params.get("n_records"),
        "comparisons": [
            {key: c.get(key) for key in ("name", "m", "u", "u_household")}
            for c in params.get("comparisons", ())
        ],
    }
    text = json.dumps(core, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def model_info(mode: str, config: dict, params: dict | None = None) -> dict:
    """What a batch keeps of the model that linked it: how the weights were obtained
    (``estimated`` in this run, ``stored`` from an earlier run, ``exact_id`` when there were
    too few records to estimate any), the weights' fingerprint and the records and batch they
    were estimated on, the engine and configuration versions and the thresholds."""
    clustering = config["clustering"]
    info = {
        "mode": mode,
        "engine": _engine_version(),
        "config_version": config.get("version"),
        "match_probability": clustering["match_probability"],
        "review_low": clustering["review_low"],
        "review_high": clustering["review_high"],
    }
    if params:
        info["fingerprint"] = params.get("fingerprint") or model_fingerprint(params)
        info["estimated_on"] = int(params.get("n_records", 0))
        if params.get("batch"):
            info["estimated_in_batch"] = params["batch"]
    return info


def _engine_version() -> str:
    try:
        return metadata.version("shequ")
    except metadata.PackageNotFoundError:
        return ""


def store_model(params: dict, *, batch=None, user=None) -> None:
    """Keep a run's estimated parameters (m, u, λ and the records they came from) in the
    append-only decision log: a later small batch is scored with them."""
    LinkDecision.objects.create(
        kind=DecisionKind.AUTO,
        explanation={MODEL_KEY: params},
        area_code=batch.area_code if batch is not None else city_code(),
        batch=batch,
        decided_by=user,
        reason="weights estimated by EM in this run",
    )


def _load_context(person_ids: list[int]):
    """Records of the context persons: their raw records, or their golden record."""
    records: list[StandardRecord] = []
    owners: list[int] = []
    pks: list[int | None] = []
    with_records: set[int] = set()
    for i in range(0, len(person_ids), 5000):
        chunk = person_ids[i : i + 5000]
        for pk, pid, std in RawRecord.objects.filter(person_id__in=chunk).values_list(
            "id", "person_id", "std"
        ):
            records.append(std_from_json(std))
            owners.append(pid)
            pks.append(pk)
            with_records.add(pid)
    bare = [pid for pid in person_ids if pid not in with_records]
    for i in range(0, len(bare), 5000):
        persons = list(
            Person.objects.filter(pk__in=bare[i : i + 5000]).select_related("household", "dwelling")
        )
        for person in persons:
            d = person.dwelling
            records.append(golden_record(person, d.code if d else "", d.area_code if d else ""))
            owners.append(person.pk)
            pks.append(None)
    return records, owners, pks


# ----------------------------------------------------------------------------- constraints
def cannot_link_pairs() -> set[tuple[int, int]]:
    """Record pairs a steward said are not one person (reject, split)."""
    out = set()
    for a, b in LinkDecision.objects.filter(
        kind__in=[DecisionKind.REJECT, DecisionKind.SPLIT],
        record__isnull=False,
        other__isnull=False,
    ).values_list("record_id", "other_id"):
        out.add((min(a, b), max(a, b)))
    return out


class _Groups:
    """Union-find; per group its valid ID numbers and, for records a steward constrained, the
    members and the records they may not join (kept only where there are any)."""

    def __init__(self, n: int, pks: list[int | None], id_codes, id_valid, forbidden):
        self.parent = list(range(n))
        self.ids = {i: {int(id_codes[i])} for i in np.flatnonzero(id_valid).tolist()}
        partners: dict[int, set[int]] = defaultdict(set)
        for a, b in forbidden:
            partners[a].add(b)
            partners[b].add(a)
        self.members: dict[int, set[int]] = {}
        self.forbid: dict[int, set[int]] = {}
        if partners:
            for i, pk in enumerate(pks):
                if pk in partners:
                    self.members[i] = {pk}
                    self.forbid[i] = set(partners[pk])

    def find(self, x: int) -> int:
        parent = self.parent
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    def allowed(self, ra: int, rb: int, *, second_registration: bool = False) -> bool:
        ia, ib = self.ids.get(ra), self.ids.get(rb)
        if ia and ib and ia.isdisjoint(ib) and not second_registration:
            return False
        if self.forbid:
            empty: set[int] = set()
            if self.forbid.get(ra, empty) & self.members.get(rb, empty):
                return False
            if self.forbid.get(rb, empty) & self.members.get(ra, empty):
                return False
        return True

    def union(self, ra: int, rb: int) -> None:
        if rb < ra:
            ra, rb = rb, ra
        self.parent[rb] = ra
        for table in (self.ids, self.members, self.forbid):
            if rb in table:
                table.setdefault(ra, set()).update(table.pop(rb))


@dataclass
class ExactIdResult:
    """What the clustering below needs of an engine result, for pairs with the same valid
    citizen ID number only (used when the weights cannot be estimated)."""

    frame: RecordFrame
    i: np.ndarray
    j: np.ndarray
    weights: np.ndarray
    probabilities: np.ndarray
    threshold: float
    config: dict
    records: list

    @classmethod
    def build(cls, records, config) -> ExactIdResult:
        frame = RecordFrame.from_records(records)
        first: dict[int, int] = {}
        left, right = [], []
        for x in np.flatnonzero(frame.id_valid).tolist():
            code = int(frame.id_code[x])
            if code in first:
                left.append(first[code])
                right.append(x)
            else:
                first[code] = x
        n = len(left)
        return cls(
            frame=frame,
            i=np.array(left, dtype=np.int64),
            j=np.array(right, dtype=np.int64),
            weights=np.full(n, 30.0),
            probabilities=np.ones(n),
            threshold=probability_to_weight(float(config["clustering"]["match_probability"])),
            config=config,
            records=records,
        )

    def explain(self, k: int) -> dict:
        a, b = int(self.i[k]), int(self.j[k])
        return {
            "left": (self.records[a].source, self.records[a].record_id),
            "right": (self.records[b].source, self.records[b].record_id),
            "match_weight": 30.0,
            "match_probability": 1.0,
            "rule": "same valid citizen ID number (too few records to estimate weights)",
            "linked": True,
            "comparisons": [{"comparison": "id", "level": "exact", "weight": 30.0}],
        }


# ----------------------------------------------------------------------------- linking
def link_pending(
    *, batch: Batch | None = None, user=None, config: dict | None = None
) -> LinkOutcome:
    """Link every record no person holds yet into persons (see the module docstring)."""
    import time

    outcome = LinkOutcome()
    t0 = time.perf_counter()
    rows = list(
        RawRecord.objects.filter(person__isnull=True).order_by("id").values_list("id", "std")
    )
    outcome.pending = len(rows)
    if not rows:
        return outcome
    pending = [std_from_json(std) for _pk, std in rows]
    pending_pks = [pk for pk, _std in rows]
    n_new = len(pending)
    ctx_ids = _context_person_ids(pending, pending_pks)
    ctx_records, ctx_owner, ctx_pks = _load_context(ctx_ids)
    # The stored model scores a small batch when it was estimated on more records than this
    # run would have; otherwise the weights are estimated here, with a background sample.
    stored = stored_model()
    sources = {r.source for r in pending} | {r.source for r in ctx_records}
    reuse = (
        stored is not None
        and n_new < SMALL_BATCH
        and int(stored.get("n_records", 0)) >= max(MIN_MODEL_RECORDS, n_new + len(ctx_records))
        and sources <= set(stored.get("sources", ()))
    )
    if not reuse:
        extra = sorted(
            set(_background_ids(min(BACKGROUND_PERSONS, 2 * n_new), len(pending_pks)))
            - set(ctx_ids)
        )
        more_records, more_owner, more_pks = _load_context(extra)
        ctx_records += more_records
        ctx_owner += more_owner
        ctx_pks += more_pks
    outcome.context_records = len(ctx_records)
    outcome.seconds["load"] = time.perf_counter() - t0

    records = pending + ctx_records
    owner = [None] * len(pending) + ctx_owner
    pks: list[int | None] = pending_pks + ctx_pks
    config = config or load_config()
    t = time.perf_counter()
    result = None
    if reuse:
        try:
            result = link_records(records, config, stored, population=_population(n_new))
            outcome.model = "stored"
            outcome.model_info = model_info("stored", config, stored)
        except ValueError:  # the stored model does not fit the configured comparisons
            result = None
    if result is None:
        try:
            if len(records) < MIN_ESTIMATE_RECORDS:
                # EM on a few dozen records gives weights that depend on which records happen
                # to be sampled: make only the certain links until there is enough to learn from.
                raise LinkageConfigError(f"{len(records)} records are too few to estimate weights")
            result = link_records(records, config)
            outcome.model = "estimated"
            params = result.model.to_params(result.frame.n)
            params["sources"] = sorted({r.source for r in records})
            params["fingerprint"] = model_fingerprint(params)
            params["batch"] = batch.pk if batch is not None else None
            store_model(params, batch=batch, user=user)
            outcome.model_info = model_info("estimated", config, params)
        except LinkageConfigError:
            # Too few records to estimate the weights without labels and no earlier model
            # (a first small list): only the certain links are made (the same valid citizen
            # ID number); the model takes over once there are enough records.
            result = ExactIdResult.build(records, config)
            outcome.fallback = True
            outcome.model = "exact_id"
            outcome.model_info = model_info("exact_id", config)
    outcome.seconds["engine"] = time.perf_counter() - t

    t = time.perf_counter()
    frame = result.frame
    groups = _Groups(
        len(records),
        pks,
        frame.id_code,
        frame.id_valid
        if config["clustering"].get("respect_ids", True)
        else np.zeros(len(records), bool),
        cannot_link_pairs(),
    )
    first_of_person: dict[int, int] = {}
    for idx in range(n_new, len(records)):
        pid = owner[idx]
        if pid in first_of_person:
            ra, rb = groups.find(first_of_person[pid]), groups.find(idx)
            if ra != rb:
                groups.union(ra, rb)
        else:
            first_of_person[pid] = idx
    threshold = result.threshold
    i, j, w = result.i, result.j, result.weights
    exempt = getattr(result, "exempt", None)  # one person registered under two ID numbers
    touches_new = (i < n_new) | (j < n_new)
    # The links: pairs at the threshold, and the pairs the engine's clustering joined by
    # evidence no single pair has (a title record's only candidate, a name borne by one
    # identified person, a household's flat); those weigh less and come last.
    joined = getattr(result, "linked", None)
    links = w >= threshold if joined is None else (w >= threshold) | joined
    order = np.flatnonzero(touches_new & links)
    order = order[np.argsort(-w[order], kind="stable")]
    best_pair: dict[int, int] = {}  # new record index -> pair index of its strongest link
    for k in order.tolist():
        a, b = int(i[k]), int(j[k])
        ra, rb = groups.find(a), groups.find(b)
        if ra != rb:
            if not groups.allowed(ra, rb, second_registration=exempt is not None and exempt[k]):
                continue
            groups.union(ra, rb)
        for x in (a, b):
            if x < n_new and x not in best_pair:
                best_pair[x] = k
    outcome.seconds["cluster"] = time.perf_counter() - t

    t = time.perf_counter()
    with transaction.atomic():
        _apply(result, records, pks, owner, n_new, groups, best_pair, batch, user, outcome)
        outcome.review_items = _review(result, pks, n_new, groups, batch)
    outcome.seconds["store"] = time.perf_counter() - t
    return outcome


def _apply(result, records, pks, owner, n_new, groups, best_pair, batch, user, outcome) -> None:
    by_root: dict[int, list[int]] = defaultdict(list)
    for x in range(len(records)):
        by_root[groups.find(x)].append(x)
    assign: dict[int, int] = {}  # raw record pk -> person id
    decisions: list[LinkDecision] = []
    merges: list[tuple[int, list[int]]] = []
    new_groups: list[list[int]] = []
    for members in by_root.values():
        news = [x for x in members if x < n_new]
        if not news:
            continue
        persons = sorted({owner[x] for x in members if owner[x] is not None})
        if not persons:
            new_groups.append(members)
            continue
        survivor = persons[0]  # the oldest person keeps its id
        if len(persons) > 1:
            merges.append((survivor, persons[1:]))
        for x in news:
            assign[pks[x]] = survivor
    # New persons: created with their golden record, in bulk.
    trust = {s.code: s for s in Source.objects.all()}
    views = _views_for([pks[x] for g in new_groups for x in g])
    dwelling_ids = {v.dwelling_id for v in views.values() if v.dwelling_id}
    dwelling_areas = dict(Place.objects.filter(pk__in=dwelling_ids).values_list("id", "area_code"))
    city = city_code()
    persons = []
    for members in new_groups:
        recs = [views[pks[x]] for x in members]
        values, sources = golden.survive(recs, trust)
        person = Person(area_code=golden.best_area(recs, city), name="")
        golden.apply(person, values, sources, dwelling_areas)
        persons.append(person)
    Person.objects.bulk_create(persons, batch_size=2000)
    for person, members in zip(persons, new_groups, strict=True):
        for x in members:
            assign[pks[x]] = person.pk
    outcome.new_persons = len(persons)
    # Merges: the others' records and residences move to the oldest; the others go.
    for survivor, others in merges:
        merge_persons(survivor, others, kind=DecisionKind.AUTO, user=user, batch=batch,
                      reason="a new record links them")  # fmt: skip
        outcome.merged_persons += len(others)
    _assign(assign)
    outcome.linked_records = len(assign)
    # One decision per new record that joined by a link: the weight and the comparisons.
    area = dict(RawRecord.objects.filter(pk__in=list(assign)).values_list("id", "area_code"))
    for x, k in best_pair.items():
        explanation = result.explain(k)
        a, b = int(result.i[k]), int(result.j[k])
        other = b if a == x else a
        explanation["other_record"] = pks[other]
        if pks[other] is None:
            explanation["other_person"] = owner[other]
        decisions.append(
            LinkDecision(
                kind=DecisionKind.AUTO,
                person_id=assign[pks[x]],
                record_id=pks[x],
                other_id=pks[other],
                match_weight=float(result.weights[k]),
                explanation=explanation,
                area_code=area.get(pks[x], city),
                batch=batch,
                decided_by=user,
                reason="",
            )
        )
    fast_insert(LinkDecision, decisions)
    touched = set(assign.values()) - {p.pk for p in persons}
    golden.refresh(touched, trust=trust)
    golden.residences(
        golden.record_views([p.pk for p in persons]),
        dict(Place.objects.filter(pk__in=dwelling_ids).values_list("id", "area_code")),
    )


def _views_for(pks) -> dict[int, golden.RecordView]:
    out = {}
    pks = [p for p in pks if p is not None]
    for i in range(0, len(pks), 5000):
        for pk, source, record_id, std, rdate, dwelling, area in RawRecord.objects.filter(
            pk__in=pks[i : i + 5000]
        ).values_list(
            "id", "source__code", "record_id", "std", "record_date", "dwelling_id", "area_code"
        ):
            out[pk] = golden.RecordView(pk, source, record_id, std, rdate, dwelling, area)
    return out


def _assign(assign: dict[int, int]) -> None:
    """Set the person of many records: one statement per chunk."""
    table = RawRecord._meta.db_table
    items = [(person, pk) for pk, person in assign.items()]
    with connection.cursor() as cursor:
        for i in range(0, len(items), 10_000):
            cursor.executemany(
                f"UPDATE {connection.ops.quote_name(table)} SET person_id = %s WHERE id = %s",
                items[i : i + 10_000],
            )


def _review(result, pks, n_new, groups, batch) -> int:
    """Uncertain pairs touching a new record (between two raw records) into the queue."""
    c = result.config["clustering"]
    p = result.probabilities
    ks = review_selection(
        result.i,
        result.j,
        p,
        getattr(result, "linked", None),
        len(result.frame.record_id),
        float(c["review_low"]),
        float(c["review_high"]),
    )
    ks = ks[(result.i[ks] < n_new) | (result.j[ks] < n_new)]
    decided = cannot_link_pairs()
    items = []
    areas = {}
    wanted = {pks[int(x)] for k in ks for x in (result.i[k], result.j[k])} - {None}
    for i in range(0, len(wanted), 5000):
        areas.update(
            RawRecord.objects.filter(pk__in=list(wanted)[i : i + 5000]).values_list(
                "id", "area_code"
            )
        )
    for k in ks.tolist():
        a, b = int(result.i[k]), int(result.j[k])
        pa, pb = pks[a], pks[b]
        if pa is None or pb is None:
            continue
        lo, hi = min(pa, pb), max(pa, pb)
        if (lo, hi) in decided:
            continue
        items.append(
            ReviewItem(
                record_id=lo,
                other_id=hi,
                match_weight=float(result.weights[k]),
                match_probability=float(p[k]),
                explanation=result.explain(k),
                linked=groups.find(a) == groups.find(b),
                area_code=areas.get(lo) or areas.get(hi) or "",
                batch=batch,
            )
        )
    ReviewItem.objects.bulk_create(items, batch_size=2000, ignore_conflicts=True)
    return len(items)


# ----------------------------------------------------------------------------- steward actions
@transaction.atomic
def merge_persons(survivor_id: int, others: list[int], *, kind=DecisionKind.MERGE, user=None,
                  batch=None, reason: str = "") -> Person:  # fmt: skip
    """Merge ``others`` into the oldest of all (the survivor keeps its id)."""
    ids = sorted({survivor_id, *others})
    survivor_id, others = ids[0], ids[1:]
    survivor = Person.objects.select_for_update().get(pk=survivor_id)
    for other in others:
        RawRecord.objects.filter(person_id=other).update(person_id=survivor_id)
        from .models import Residence

        Residence.objects.filter(person_id=other).update(person_id=survivor_id)
        LinkDecision.objects.create(
            kind=kind,
            person_id=survivor_id,
            other_person_id=other,
            area_code=survivor.area_code,
            batch=batch,
            decided_by=user,
            reason=reason,
            explanation={"merged_into": survivor_id, "merged": other},
        )
        Person.objects.filter(pk=other).delete()
    golden.refresh([survivor_id])
    return survivor


@transaction.atomic
def split_person(person: Person, record_pks: list[int], *, user, reason: str) -> Person:
    """Move these records of ``person`` to a new person; they never re-link to the others."""
    moving = list(RawRecord.objects.filter(person=person, pk__in=record_pks))
    staying = list(RawRecord.objects.filter(person=person).exclude(pk__in=record_pks))
    if not moving or not staying:
        raise ValueError("choose some but not all of the person's records to split off")
    new = Person.objects.create(area_code=moving[0].area_code, name=moving[0].name or person.name)
    RawRecord.objects.filter(pk__in=[r.pk for r in moving]).update(person=new)
    decisions = [
        LinkDecision(
            kind=DecisionKind.SPLIT,
            person_id=person.pk,
            other_person_id=new.pk,
            record_id=m.pk,
            other_id=s.pk,
            area_code=person.area_code,
            decided_by=user,
            reason=reason,
            explanation={"split_from": person.pk, "new_person": new.pk},
        )
        for m in moving
        for s in staying
    ]
    LinkDecision.objects.bulk_create(decisions)
    ReviewItem.objects.filter(
        Q(record__in=moving, other__in=staying) | Q(record__in=staying, other__in=moving),
        status=ReviewStatus.OPEN,
    ).update(status=ReviewStatus.REJECTED, decided_by=user, reason=reason)
    golden.refresh([person.pk, new.pk])
    return new


@transaction.atomic
def decide_review(item: ReviewItem, accept: bool, *, user, reason: str) -> None:
    """Accept: the two records' persons become one (the oldest id). Reject: they never link;
    if they are linked now, the newer record leaves for a person of its own."""
    from django.utils import timezone

    item = ReviewItem.objects.select_for_update().get(pk=item.pk)
    a = RawRecord.objects.get(pk=item.record_id)
    b = RawRecord.objects.get(pk=item.other_id)
    LinkDecision.objects.create(
        kind=DecisionKind.ACCEPT if accept else DecisionKind.REJECT,
        person_id=a.person_id,
        other_person_id=b.person_id,
        record=a,
        other=b,
        match_weight=item.match_weight,
        explanation=item.explanation,
        area_code=item.area_code,
        decided_by=user,
        reason=reason,
    )
    if accept and a.person_id and b.person_id and a.person_id != b.person_id:
        merge_persons(a.person_id, [b.person_id], kind=DecisionKind.MERGE, user=user, reason=reason)
    elif not accept and a.person_id and a.person_id == b.person_id:
        person = Person.objects.get(pk=a.person_id)
        split_person(person, [b.pk], user=user, reason=reason)
    item.status = ReviewStatus.ACCEPTED if accept else ReviewStatus.REJECTED
    item.decided_by, item.decided_at, item.reason = user, timezone.now(), reason
    item.save(update_fields=["status", "decided_by", "decided_at", "reason"])


def weight_for(probability: float) -> float:
    return probability_to_weight(probability)


def today() -> dt.date:
    return dt.date.today()

"""The golden record of a person: one value per field out of all the person's records.

Survivorship: per field, the value of the most trusted source (``Source.trust_for(field)``), then
the most recent record (record date, then the latest import). A value a member of staff put on
the person directly (the register: the demo seed, the admin) counts as the source ``register``
with trust :data:`REGISTER_TRUST`, above every list. ``Person.field_sources`` says for each
field which record of which source gave it. Residence history: one ``Residence`` per dwelling
and kind (registered at the hukou address, living at the others), from the records' dates.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Min

from shequ.areas.models import Place

from .bulk import fast_update
from .choices import IdType, ResidenceKind, ResidentType
from .models import Person, RawRecord, Residence, Source

REGISTER = "register"
REGISTER_TRUST = 95
FIELDS = (
    "name",
    "name_latin",
    "former_name",
    "sex",
    "birth_date",
    "id_type",
    "id_number",
    "phone",
    "ethnicity",
    "relation",
    "hukou_region",
    "dwelling",
    "resident_type",
)
EMPTY = (None, "", "0")


@dataclass
class RecordView:
    """What survivorship needs of one raw record."""

    pk: int
    source: str
    record_id: str
    std: dict
    record_date: dt.date | None
    dwelling_id: int | None
    area_code: str


def candidates(rec: RecordView) -> dict[str, object]:
    """The golden-field values one record offers (empty ones left out)."""
    std = rec.std
    out: dict[str, object] = {}
    name = std.get("name") or {}
    if name.get("kind") in ("han", "latin"):
        out["name"] = name["text"]
        if name["kind"] == "latin":
            out["name_latin"] = name["text"]
    former = std.get("former_name") or {}
    if former.get("kind") == "han":
        out["former_name"] = former["text"]
    idr = std.get("id") or {}
    conflict = bool(std.get("id_conflict"))
    sex = std.get("sex") or (idr.get("sex") if not conflict else "") or name.get("sex_hint", "")
    if sex in ("1", "2"):
        out["sex"] = sex
    birth = std.get("birth_date") or (
        idr.get("birth_date") if idr.get("kind") == "resident" and not conflict else None
    )
    if birth:
        out["birth_date"] = dt.date.fromisoformat(birth)
    if idr.get("kind") == "resident" and not conflict:
        out["id_number"] = idr["number"]
        out["id_type"] = (
            IdType.FOREIGN_PERMANENT if idr["number"].startswith("9") else IdType.RESIDENT_ID
        )
    elif idr.get("kind") == "passport":
        out["id_number"], out["id_type"] = idr["number"], IdType.PASSPORT
    phones = std.get("phones") or []
    mobiles = [p for p in phones if len(p) == 11 and p.startswith("1")]
    if mobiles or phones:
        out["phone"] = (mobiles or phones)[0]
    if len(std.get("ethnicity") or "") == 2:
        out["ethnicity"] = std["ethnicity"]
    if std.get("relation"):
        out["relation"] = std["relation"]
    address = std.get("address") or {}
    hukou = std.get("address_role") == "hukou"
    if hukou:
        if address.get("district"):
            out["hukou_region"] = address["district"]
        out["resident_type"] = ResidentType.REGISTERED
    elif rec.dwelling_id:
        out["dwelling"] = rec.dwelling_id
    if "resident_type" not in out and (
        idr.get("kind") == "passport"
        or name.get("kind") == "latin"
        or "foreign" in (std.get("flags") or ())
    ):
        out["resident_type"] = ResidentType.FOREIGN
    return out


def survive(
    records: list[RecordView],
    trust: dict[str, Source],
    register: dict[str, object] | None = None,
) -> tuple[dict[str, object], dict[str, dict]]:
    """(values, field sources) of the golden record. ``register``: values staff set directly."""
    best: dict[str, tuple] = {}
    sources: dict[str, dict] = {}
    for rec in records:
        source = trust.get(rec.source)
        for field, value in candidates(rec).items():
            rank = (
                source.trust_for(field) if source else 0,
                rec.record_date or dt.date.min,
                rec.pk,
            )
            if field not in best or rank > best[field][0]:
                best[field] = (rank, value, rec)
    values = {}
    for field, (_rank, value, rec) in best.items():
        values[field] = value
        sources[field] = {
            "source": rec.source,
            "record": rec.pk,
            "record_id": rec.record_id,
            "date": rec.record_date.isoformat() if rec.record_date else "",
        }
    for field, value in (register or {}).items():
        if value in EMPTY:
            continue
        if field not in best or best[field][0][0] <= REGISTER_TRUST:
            values[field] = value
            sources[field] = {"source": REGISTER}
    if "resident_type" not in values:
        values["resident_type"] = ResidentType.FLOATING
        sources["resident_type"] = {"source": "", "rule": "no hukou record"}
    return values, sources


def register_values(person: Person) -> dict[str, object]:
    """The values on a person that no record gave (staff's own): they keep precedence."""
    fs = person.field_sources or {}
    out = {}
    for field in FIELDS:
        origin = (fs.get(field) or {}).get("source")
        if origin not in (None, REGISTER):
            continue
        value = person.dwelling_id if field == "dwelling" else getattr(person, field)
        if field == "id_type" and not person.id_number:
            continue
        if value not in EMPTY:
            out[field] = value
    return out


def record_views(person_ids) -> dict[int, list[RecordView]]:
    out: dict[int, list[RecordView]] = defaultdict(list)
    rows = RawRecord.objects.filter(person_id__in=list(person_ids)).values_list(
        "person_id", "id", "source__code", "record_id", "std", "record_date", "dwelling_id",
        "area_code",
    )  # fmt: skip
    for pid, pk, source, record_id, std, rdate, dwelling, area in rows:
        out[pid].append(RecordView(pk, source, record_id, std, rdate, dwelling, area))
    return out


RESET = {"dwelling": None, "birth_date": None, "sex": "0", "id_type": IdType.RESIDENT_ID}


def apply(person: Person, values: dict, sources: dict, dwelling_areas: dict[int, str]) -> None:
    """Set the golden values; a field a record gave before and none gives now is emptied."""
    before = person.field_sources or {}
    for field in FIELDS:
        if field not in values:
            origin = (before.get(field) or {}).get("source")
            if origin in (None, REGISTER):
                continue
            values = {**values, field: RESET.get(field, "")}
        if field == "dwelling":
            person.dwelling_id = values[field]
        else:
            setattr(person, field, values[field])
    person.field_sources = sources
    if person.dwelling_id and person.dwelling_id in dwelling_areas:
        person.area_code = dwelling_areas[person.dwelling_id]


def best_area(records: list[RecordView], fallback: str) -> str:
    """The deepest area the person's residence records name (hukou-only: the hukou area)."""
    living = [r.area_code for r in records if r.std.get("address_role") != "hukou"]
    pool = living or [r.area_code for r in records]
    return max(pool, key=len) if pool else fallback


def refresh(person_ids, *, trust: dict[str, Source] | None = None) -> int:
    """Recompute the golden record and residence history of these persons."""
    person_ids = list(set(person_ids))
    if not person_ids:
        return 0
    trust = trust or {s.code: s for s in Source.objects.all()}
    views = record_views(person_ids)
    dwelling_ids = {r.dwelling_id for rs in views.values() for r in rs if r.dwelling_id}
    persons = list(Person.objects.filter(pk__in=person_ids))
    dwelling_ids |= {p.dwelling_id for p in persons if p.dwelling_id}
    dwelling_areas = dict(Place.objects.filter(pk__in=dwelling_ids).values_list("id", "area_code"))
    changed = []
    for person in persons:
        records = views.get(person.pk, [])
        if not records:
            continue
        values, sources = survive(records, trust, register_values(person))
        if not person.dwelling_id and "dwelling" not in values:
            person.area_code = best_area(records, person.area_code)
        apply(person, values, sources, dwelling_areas)
        changed.append(person)
    fast_update(
        Person,
        changed,
        [f if f != "dwelling" else "dwelling_id" for f in FIELDS] + ["field_sources", "area_code"],
    )
    residences(views, dwelling_areas)
    return len(changed)


def residences(views: dict[int, list[RecordView]], dwelling_areas: dict[int, str]) -> int:
    """Add the residences the records show (per dwelling and kind: from the first record date;
    a living residence ends where the next dwelling's begins)."""
    existing = defaultdict(dict)
    for res in Residence.objects.filter(person_id__in=list(views)):
        existing[res.person_id][(res.dwelling_id, res.kind)] = res
    new, changed = [], []
    for pid, records in views.items():
        spans: dict[tuple[int, str], dt.date | None] = {}
        for r in records:
            if not r.dwelling_id:
                continue
            kind = (
                ResidenceKind.REGISTERED
                if r.std.get("address_role") == "hukou"
                else ResidenceKind.LIVING
            )
            key = (r.dwelling_id, kind)
            start = spans.get(key, r.record_date)
            if r.record_date and (start is None or r.record_date < start):
                start = r.record_date
            spans[key] = start
        living = sorted(
            (start or dt.date.min, dwelling)
            for (dwelling, kind), start in spans.items()
            if kind == ResidenceKind.LIVING
        )
        ends = {}
        for (s1, d1), (s2, _d2) in itertools.pairwise(living):
            if s2 > s1:
                ends[d1] = s2
        for (dwelling, kind), start in spans.items():
            end = ends.get(dwelling) if kind == ResidenceKind.LIVING else None
            have = existing[pid].get((dwelling, kind))
            if have is None:
                new.append(
                    Residence(
                        person_id=pid,
                        dwelling_id=dwelling,
                        kind=kind,
                        start=start,
                        end=end,
                        area_code=dwelling_areas.get(dwelling, ""),
                    )
                )
            elif (start and (have.start is None or start < have.start)) or end != have.end:
                if start and (have.start is None or start < have.start):
                    have.start = start
                have.end = end if kind == ResidenceKind.LIVING else have.end
                changed.append(have)
    Residence.objects.bulk_create(new, batch_size=2000)
    fast_update(Residence, changed, ["start", "end"])
    return len(new)


def first_seen(person_ids) -> dict[int, dt.datetime]:
    return dict(
        RawRecord.objects.filter(person_id__in=person_ids)
        .values("person_id")
        .annotate(first=Min("created_at"))
        .values_list("person_id", "first")
    )

"""Feedback to sources (反馈): the records of one source that disagree with the golden record.

Per record linked to a person: a different citizen ID number, an ID that fails its check where
the person's is valid, a different phone, a different dwelling, a different name, and records
of the same source held by the same person (likely duplicates in the source's own list). The
file is meant for the list's owner to correct their list: one row per finding, with the
source's own record id and row. ID numbers and phones are masked unless the requester may
reveal them where the person lives; then the export is recorded as one personal-data access.
"""

from __future__ import annotations

import csv
from collections import defaultdict

from django.utils.translation import gettext as _

from shequ.core.masking import mask_id_number, mask_phone
from shequ.core.models import PersonalDataAccess
from shequ.core.scoping import code_in_scope

from .ingest import safe_cell
from .models import Person, RawRecord, Source

HEADER = [
    "record_id",
    "row",
    "file",
    "finding",
    "field",
    "source_value",
    "golden_value",
    "golden_source",
    "person_id",
]
MASKS = {"id_number": mask_id_number, "phone": mask_phone}


class FeedbackRefused(ValueError):
    pass


def findings(source: Source, records=None):
    """Yield (record, person, finding, field, source value, golden value) for the source."""
    records = records if records is not None else RawRecord.objects.all()
    records = (
        records.filter(source=source, person__isnull=False)
        .select_related("batch", "dwelling")
        .order_by("person_id", "record_date", "id")
    )
    persons: dict[int, Person] = {}
    by_person = defaultdict(list)
    for rec in records.iterator(chunk_size=2000):
        by_person[rec.person_id].append(rec)
    ids = list(by_person)
    for i in range(0, len(ids), 2000):
        for p in Person.objects.filter(pk__in=ids[i : i + 2000]).select_related("dwelling"):
            persons[p.pk] = p
    for pid, recs in by_person.items():
        person = persons.get(pid)
        if person is None:
            continue
        for n, rec in enumerate(recs):
            std = rec.std or {}
            idr = std.get("id") or {}
            if idr.get("kind") == "resident" and person.id_number and not std.get("id_conflict"):
                if idr["number"] != person.id_number:
                    yield (
                        rec,
                        person,
                        _("different ID number"),
                        "id_number",
                        idr["number"],
                        (person.id_number),
                    )
            elif idr.get("kind") == "invalid" and person.id_number:
                yield (
                    rec,
                    person,
                    _("ID number fails its check"),
                    "id_number",
                    idr.get("number", ""),
                    person.id_number,
                )
            phones = std.get("phones") or []
            if phones and person.phone and person.phone not in phones:
                yield rec, person, _("different phone"), "phone", "/".join(phones), person.phone
            if (
                rec.dwelling_id
                and person.dwelling_id
                and rec.dwelling_id != person.dwelling_id
                and std.get("address_role") != "hukou"
            ):
                yield (
                    rec,
                    person,
                    _("different address"),
                    "address",
                    rec.dwelling.address or (rec.dwelling.code),
                    person.dwelling.address or person.dwelling.code,
                )
            name = (std.get("name") or {}).get("text", "")
            if (
                name
                and (std.get("name") or {}).get("kind") == "han"
                and person.name
                and name != person.name
                and name != person.former_name
            ):
                yield rec, person, _("different name"), "name", name, person.name
            if n > 0:
                yield (
                    rec,
                    person,
                    _("likely duplicate in this list"),
                    "record_id",
                    rec.record_id,
                    (recs[0].record_id),
                )


def write_feedback(
    fh,
    source: Source,
    *,
    reveal_user=None,
    reason: str = "",
    channel: str = "web",
    records=None,
    ip=None,
) -> int:
    """Write the feedback CSV; returns the number of rows. ``reveal_user``: show plain ID
    numbers and phones of persons where that user may reveal them (recorded once)."""
    reveal_codes = None
    if reveal_user is not None:
        if not Person.user_may(reveal_user, "reveal"):
            raise FeedbackRefused(_("Your role may not reveal personal data."))
        if len((reason or "").strip()) < 4:
            raise FeedbackRefused(_("A reveal needs a reason (at least 4 characters)."))
        reveal_codes = Person.perm("reveal")
    writer = csv.writer(fh)
    writer.writerow(HEADER)
    n = 0
    revealed = False
    for rec, person, finding, field, value, gold in findings(source, records):
        plain = reveal_codes is not None and code_in_scope(
            reveal_user, reveal_codes, person.area_code
        )
        if field in MASKS and not plain:
            value, gold = (
                MASKS[field](value)
                if "/" not in value
                else "/".join(MASKS[field](v) for v in value.split("/")),
                MASKS[field](gold),
            )
        revealed = revealed or (plain and field in MASKS)
        origin = (person.field_sources or {}).get(field if field != "address" else "dwelling", {})
        writer.writerow(
            [
                safe_cell(v)
                for v in (
                    rec.record_id,
                    rec.row,
                    rec.batch.file_name,
                    finding,
                    field,
                    value,
                    gold,
                    origin.get("source", ""),
                    person.pk,
                )
            ]
        )
        n += 1
    if revealed:
        PersonalDataAccess.objects.create(
            user=reveal_user,
            model="people.source",
            object_id=source.code,
            area_code="",
            fields="id_number,phone",
            reason=f"feedback export: {reason.strip()}",
            channel=channel,
            ip_address=ip,
        )
    return n

"""Ingest: a source file (CSV, XLSX, JSON Lines) into raw records, with provenance and flags.

Every row is kept exactly as read (``RawRecord.raw``) with its source, file, row, batch, time and
importer; its standard form (``RawRecord.std``) and the problems found (``RawRecord.flags``,
``[field, reason]``) sit beside it. A row with a bad value is kept and flagged, never dropped. A
file that cannot be read at all is refused whole (:class:`IngestRefused`, naming the file, line
and column where it can) before anything is written. The same content of the same source
imported again changes nothing: the batch is found by the SHA-256 of the content.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shequ.areas import codes as area_codes
from shequ.areas.models import Area, Level, Place, PlaceKind
from shequ.core import idnumber

from .bulk import fast_insert
from .models import Batch, BatchStatus, RawRecord, Source
from .sourcedefs import (
    SourceDefinition,
    SourceDefinitionError,
    SourceFileError,
    builtin_definitions,
    read_rows,
)
from .standardise.addresses import Address
from .standardise.geography import Compound, Geography
from .standardise.names import Name
from .standardise.records import Standardiser, StandardRecord

CITY_CODE = "5101"
FORMATS = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".jsonl": "jsonl", ".ndjson": "jsonl"}
CHUNK = 2000

Progress = Callable[[int, str], None]


class IngestRefused(ValueError):
    """The file cannot be imported at all; nothing was written."""


@dataclass
class IngestResult:
    batch: Batch
    created: bool  # False: the same content was imported before (nothing changed)


# ----------------------------------------------------------------------------- definitions
def definitions_dir() -> Path | None:
    value = getattr(settings, "SHEQU_SOURCES_DIR", "") or ""
    return Path(value) if value else None


def definitions() -> dict[str, SourceDefinition]:
    defs = builtin_definitions()
    extra = definitions_dir()
    if extra and extra.is_dir():
        defs.update(builtin_definitions(extra))
    return defs


def definition(code: str) -> SourceDefinition:
    defs = definitions()
    if code not in defs:
        raise IngestRefused(
            _("No source definition named %(code)s (known: %(known)s).")
            % {"code": code, "known": ", ".join(sorted(defs))}
        )
    return defs[code]


def ensure_source(defn: SourceDefinition) -> Source:
    """The Source row of a definition, its version and hash kept up to date."""
    digest = hashlib.sha256(Path(defn.path).read_bytes()).hexdigest() if defn.path else ""
    source, created = Source.objects.get_or_create(
        code=defn.name,
        defaults={
            "title": defn.title,
            "version": defn.version,
            "definition_hash": digest,
            "definition_path": defn.path,
            "trust": defn.trust,
        },
    )
    if not created and (source.version, source.definition_hash) != (defn.version, digest):
        source.version, source.definition_hash = defn.version, digest
        source.title, source.definition_path = defn.title, defn.path
        source.save(update_fields=["version", "definition_hash", "title", "definition_path"])
    return source


# ----------------------------------------------------------------------------- geography
def city_code() -> str:
    code = Area.objects.filter(level=Level.CITY).order_by("code").values_list("code", flat=True)
    return code.first() or CITY_CODE


def community_of(area_code: str) -> str:
    return area_code.split("G", 1)[0]


def geography_from_db() -> Geography:
    """The area tree as the standardiser needs it, read from the areas and compounds."""
    geo = Geography()
    for code, level, name, parent in Area.objects.filter(
        level__in=[Level.DISTRICT, Level.STREET, Level.COMMUNITY]
    ).values_list("code", "level", "name", "parent__code"):
        if level == Level.DISTRICT:
            geo.add_district(code, name)
        elif level == Level.STREET:
            geo.streets[code] = (name, parent or code[:6])
            geo.street_by_name.setdefault(name, []).append(code)
        else:
            geo.communities[code] = (name, parent or code[:9])
            geo.community_by_name.setdefault(name, []).append(code)
    for code, name, area_code, ctype, address, managed in Place.objects.filter(
        kind=PlaceKind.COMPOUND
    ).values_list("code", "name", "area_code", "compound_type", "address", "managed"):
        community = community_of(area_code)
        street = geo.communities.get(community, ("", community[:9]))[1]
        geo.add_compound(
            Compound(
                code=code,
                name=name,
                community=community,
                street=street,
                district=street[:6],
                kind=ctype or "",
                road_address=address or "",
                managed=bool(managed),
            )
        )
    return geo


def dwelling_code(address: Address) -> str:
    """The code of the dwelling an address names (``…C012B03U2R0501``), or ''."""
    if address.kind != "dwelling" or len(address.compounds) != 1:
        return ""
    if address.building is None or address.unit is None or address.room is None:
        return ""
    floor, room = divmod(address.room, 100)
    if floor < 1 or room < 1 or floor > 99:
        return ""
    unit = area_codes.unit_code(
        area_codes.building_code(address.compounds[0], address.building), address.unit
    )
    return area_codes.dwelling_code(unit, floor, room)


# ----------------------------------------------------------------------------- reading
def file_format(name: str) -> str:
    fmt = FORMATS.get(Path(name).suffix.lower())
    if fmt is None:
        raise IngestRefused(
            _("%(file)s: cannot read %(suffix)s files (CSV, XLSX or JSON Lines).")
            % {"file": name, "suffix": Path(name).suffix or "these"}
        )
    return fmt


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return value.strftime("%Y%m%d")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_xlsx(defn: SourceDefinition, path: Path, name: str) -> list[tuple[int, dict[str, str]]]:
    """Rows of the first sheet: the header on row 1, values as text."""
    from openpyxl import load_workbook

    # A damaged workbook fails inside openpyxl, zipfile, zlib or the XML parser with many kinds
    # of error, on opening or later while its rows stream: any of them refuses the file.
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise IngestRefused(
            _("%(file)s: not an Excel .xlsx workbook (%(error)s).")
            % {"file": name, "error": exc.__class__.__name__}
        ) from exc
    try:
        return _xlsx_rows(defn, workbook, name)
    except IngestRefused:
        raise
    except Exception as exc:  # a damaged sheet, found while reading it
        raise IngestRefused(
            _("%(file)s: the workbook is damaged and cannot be read (%(error)s).")
            % {"file": name, "error": exc.__class__.__name__}
        ) from exc
    finally:
        workbook.close()


def _xlsx_rows(defn: SourceDefinition, workbook, name: str) -> list[tuple[int, dict[str, str]]]:
    """The rows of the workbook's first sheet (see ``read_xlsx``)."""
    sheet = workbook.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None)
    if not header:
        raise IngestRefused(_("%(file)s: the first sheet is empty.") % {"file": name})
    header = [_cell(h).strip() for h in header]
    missing = [c for c in defn.columns if c not in header]
    if missing:
        raise IngestRefused(
            _(
                "%(file)s: row 1: the columns %(columns)s that the definition %(source)s "
                "needs are missing."
            )
            % {"file": name, "columns": ", ".join(missing), "source": defn.name}
        )
    index = {c: header.index(c) for c in defn.columns}
    out = []
    for rowno, values in enumerate(rows, start=2):
        if values is None or all(v is None or str(v).strip() == "" for v in values):
            continue
        out.append(
            (rowno, {c: _cell(values[i]) if i < len(values) else "" for c, i in index.items()})
        )
    return out


def read_file(defn: SourceDefinition, path: Path, name: str) -> list[tuple[int, dict[str, str]]]:
    """Every row of the file, or IngestRefused: the whole file is read before anything is
    written."""
    fmt = file_format(name)
    if fmt == "xlsx":
        return read_xlsx(defn, path, name)
    try:
        rows = list(read_rows(defn, path))
    except SourceFileError as exc:
        raise IngestRefused(str(exc).replace(str(path), name)) from exc
    except csv.Error as exc:
        raise IngestRefused(f"{name}: {exc}") from exc
    return rows


# ----------------------------------------------------------------------------- standard form
def _json_value(value):
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in value.items()}
    return value


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _names(cls) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


def std_to_json(rec: StandardRecord) -> dict:
    """A StandardRecord as JSON (everything linkage needs to rebuild it)."""
    out = {}
    for name in _names(StandardRecord):
        value = getattr(rec, name)
        if dataclasses.is_dataclass(value):
            value = {k: _json_value(getattr(value, k)) for k in _names(type(value))}
        else:
            value = _json_value(value)
        out[name] = value
    return out


def _date(value):
    return dt.date.fromisoformat(value) if value else None


def std_from_json(data: dict) -> StandardRecord:
    idd = dict(data.get("id") or {"kind": "blank"})
    idd["birth_date"] = _date(idd.get("birth_date"))
    addr = dict(data.get("address") or {})
    addr["compounds"] = tuple(addr.get("compounds") or ())
    return StandardRecord(
        source=data["source"],
        record_id=data.get("record_id", ""),
        line=data.get("line", 0),
        name=Name(**data["name"]) if data.get("name") else Name(),
        former_name=Name(**data["former_name"]) if data.get("former_name") else Name(),
        sex=data.get("sex", ""),
        birth_date=_date(data.get("birth_date")),
        age=data.get("age"),
        age_on=_date(data.get("age_on")),
        id=idnumber.IdReading(**idd),
        id_conflict=bool(data.get("id_conflict")),
        phones=tuple(data.get("phones") or ()),
        address=Address(**addr) if addr else Address(),
        address_role=data.get("address_role", "residence"),
        household_number=data.get("household_number", ""),
        relation=data.get("relation", ""),
        occupancy=data.get("occupancy", ""),
        record_date=_date(data.get("record_date")),
        ethnicity=data.get("ethnicity", ""),
        insurance=data.get("insurance", ""),
        flags=tuple(data.get("flags") or ()),
        issues=[tuple(i) for i in data.get("issues") or ()],
    )


# ----------------------------------------------------------------------------- ingest
def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def existing_batch(source: Source, sha: str) -> Batch | None:
    return (
        Batch.objects.filter(source=source, sha256=sha)
        .exclude(status__in=[BatchStatus.REFUSED, BatchStatus.FAILED])
        .first()
    )


def _flags_of(rec: StandardRecord, seen: dict[str, int], line: int) -> list[list[str]]:
    flags = [[f, r] for f, r in rec.issues]
    if rec.record_id:
        if rec.record_id in seen:
            flags.append(
                [
                    "record_id",
                    _("the record id repeats line %(line)s of the file")
                    % {"line": seen[rec.record_id]},
                ]
            )
        else:
            seen[rec.record_id] = line
    if rec.name.kind == "blank" and rec.id.kind == "blank":
        flags.append(["name", _("neither a name nor an ID number: the record cannot be linked")])
    return flags


def _noop(_pct: int, _status: str) -> None:
    pass


def ingest_file(
    source_code: str,
    path: str | Path,
    *,
    user=None,
    file_name: str | None = None,
    area_code: str | None = None,
    batch: Batch | None = None,
    link: bool = True,
    progress: Progress | None = None,
) -> IngestResult:
    """Import one file of one source. Raises IngestRefused (nothing written) when the file
    cannot be read; returns the earlier batch unchanged when the content was imported before.

    ``batch``: a batch created beforehand (the upload page's job); it is filled in, or marked
    refused with the message."""
    path = Path(path)
    name = file_name or path.name
    progress = progress or _noop
    try:
        defn = definition(source_code)
        fmt = file_format(name)
    except (IngestRefused, SourceDefinitionError) as exc:
        if batch is not None:
            _refuse(batch, str(exc))
        raise IngestRefused(str(exc)) from exc
    source = ensure_source(defn)
    sha = sha256_of(path)
    earlier = existing_batch(source, sha)
    if earlier is not None and earlier != batch:
        if batch is not None:
            _refuse(
                batch, _("The same file was imported before as batch %(id)s.") % {"id": earlier.pk}
            )
        return IngestResult(earlier, False)

    progress(2, BatchStatus.READING)
    try:
        rows = read_file(defn, path, name)
    except IngestRefused as exc:
        if batch is not None:
            _refuse(batch, str(exc))
        raise
    if not rows:
        message = _("%(file)s: the file holds no records.") % {"file": name}
        if batch is not None:
            _refuse(batch, message)
        raise IngestRefused(message)

    geo = geography_from_db()
    standardiser = Standardiser(defn, geo)
    compound_area = dict(
        Place.objects.filter(kind=PlaceKind.COMPOUND).values_list("code", "area_code")
    )
    city = city_code()
    total = len(rows)
    prepared = []
    seen: dict[str, int] = {}
    for n, (line, row) in enumerate(rows, start=1):
        rec = standardiser.standardise(line, row)
        prepared.append((line, row, rec, _flags_of(rec, seen, line)))
        if n % 5000 == 0:
            progress(2 + int(38 * n / total), BatchStatus.READING)

    with transaction.atomic():
        if batch is None:
            batch = Batch(created_by=user)
        batch.source = source
        batch.file_name = name[:255]
        batch.sha256 = sha
        batch.file_format = fmt
        batch.area_code = area_code or batch.area_code or city
        batch.status = BatchStatus.STORING
        batch.rows = total
        batch.flagged_rows = sum(1 for p in prepared if p[3])
        batch.message = ""
        batch.save()
        stored = 0
        for start in range(0, total, CHUNK):
            chunk = prepared[start : start + CHUNK]
            wanted = {dwelling_code(p[2].address) for p in chunk} - {""}
            dwellings = {
                code: (pk, area)
                for code, pk, area in Place.objects.filter(code__in=wanted).values_list(
                    "code", "id", "area_code"
                )
            }
            objs = []
            for line, row, rec, flags in chunk:
                dwelling = dwellings.get(dwelling_code(rec.address))
                objs.append(
                    RawRecord(
                        batch=batch,
                        source=source,
                        row=line,
                        record_id=rec.record_id[:64],
                        raw=row,
                        std=std_to_json(rec),
                        flags=flags,
                        flagged=bool(flags),
                        area_code=_area_of(rec.address, dwelling, compound_area, city),
                        name=rec.name.text[:100],
                        id_number=rec.id.number[:32],
                        phone=(rec.phones[0] if rec.phones else "")[:20],
                        birth_date=rec.best_birth_date,
                        record_date=rec.record_date,
                        dwelling_id=dwelling[0] if dwelling else None,
                    )
                )
            fast_insert(RawRecord, objs)
            stored += len(chunk)
            progress(40 + int(40 * stored / total), BatchStatus.STORING)
        batch.status = BatchStatus.LINKING if link else BatchStatus.DONE
        if not link:
            batch.progress, batch.finished_at = 100, timezone.now()
        batch.save(update_fields=["status", "progress", "finished_at"])

    if link:
        from .services import link_pending

        progress(85, BatchStatus.LINKING)
        outcome = link_pending(batch=batch)
        batch.linked_records = outcome.linked_records
        batch.new_persons = outcome.new_persons
        batch.linkage_model = outcome.model_info
        batch.status, batch.progress, batch.finished_at = BatchStatus.DONE, 100, timezone.now()
        batch.save(
            update_fields=[
                *("linked_records", "new_persons", "linkage_model"),
                *("status", "progress", "finished_at"),
            ]
        )
    return IngestResult(batch, True)


def _area_of(address: Address, dwelling, compound_area: dict[str, str], city: str) -> str:
    if dwelling:
        return dwelling[1]
    if len(address.compounds) == 1 and address.compounds[0] in compound_area:
        return compound_area[address.compounds[0]]
    return address.community or address.street or address.district or city


def _refuse(batch: Batch, message: str) -> None:
    batch.status, batch.message = BatchStatus.REFUSED, message
    batch.progress, batch.finished_at = 100, timezone.now()
    batch.save(update_fields=["status", "message", "progress", "finished_at"])


# ----------------------------------------------------------------------------- flagged report
FLAG_COLUMNS = ["row", "record_id", "field", "reason"]
_SAFE = re.compile(r"^[=+\-@\t\r]")


def flagged_rows(batch: Batch):
    """(row, record id, field, reason) for every flag of the batch's records, in file order."""
    for row, record_id, flags in (
        RawRecord.objects.filter(batch=batch, flagged=True)
        .order_by("row")
        .values_list("row", "record_id", "flags")
        .iterator(chunk_size=CHUNK)
    ):
        for field, reason in flags:
            yield row, record_id, field, reason


def safe_cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if _SAFE.match(text) else text

"""Source definitions: how one office's file maps to the standard person fields.

A source is configured, not coded. Each definition is a versioned TOML file (shipped ones live
in ``shequ/people/sources/``; a data steward can write another anywhere) that names the file's
record-id column and, per standard field, the column(s) it comes from and how to parse them:
date formats, code tables (sex 1/2, 男/女, M/F; GB/T 4761 relation codes), remark keywords that
set flags, whether the address is where the person lives or the hukou address. Adding a fifth
source is a new definition file and nothing else. ``docs/linkage.md`` documents the format.

:func:`load_definition` validates a file and refuses a bad one with a
:class:`SourceDefinitionError` naming the file and the field at fault.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

BUILTIN_DIR = Path(__file__).resolve().parent / "sources"
SCHEMA_VERSION = 1

SEX_CODES = {"0", "1", "2", "9"}  # GB/T 2261.1
RELATION_CODES = {"02", "10", "20", "30", "40", "51", "52", "60", "70", "80", "99"}  # GB/T 4761
OCCUPANCY_CODES = {"owner", "tenant", "family", "other"}

# Standard field -> the parsers it accepts.
STANDARD_FIELDS: dict[str, tuple[str, ...]] = {
    "name": ("name",),
    "former_name": ("name",),
    "sex": ("code",),
    "birth_date": ("date",),
    "age": ("age",),
    "id_number": ("id_number",),
    "phone": ("phone",),
    "address": ("address",),
    "district": ("area",),
    "street": ("area",),
    "community": ("area",),
    "household_number": ("text",),
    "relation": ("code",),
    "occupancy": ("code",),
    "record_date": ("date",),
    "ethnicity": ("text", "code"),
    "insurance": ("text",),
    "flags": ("flags",),
}
CODE_VALUES = {"sex": SEX_CODES, "relation": RELATION_CODES, "occupancy": OCCUPANCY_CODES}
PARSER_OPTIONS = {
    "name": set(),
    "code": {"table"},
    "date": {"formats"},
    "age": {"on"},
    "id_number": set(),
    "phone": {"area_code"},
    "address": {"join"},
    "area": set(),
    "text": set(),
    "flags": set(),
}
TOP_KEYS = {
    "schema",
    "name",
    "version",
    "title",
    "file",
    "record_id",
    "address_role",
    "trust",
    "encoding",
    "delimiter",
    "fields",
    "codes",
    "flags",
}


class SourceDefinitionError(ValueError):
    """A definition file that cannot be used; the message names the file and the field."""


class SourceFileError(ValueError):
    """A source file that cannot be read at all with its definition."""


@dataclass(frozen=True)
class FieldSpec:
    field: str
    parse: str
    columns: tuple[str, ...]
    formats: tuple[str, ...] = ()
    table: str = ""
    on: str = ""
    area_code: str = "028"
    join: str = ""


@dataclass(frozen=True)
class SourceDefinition:
    name: str
    version: str
    title: str
    file: str
    record_id: str
    address_role: str
    trust: int
    fields: dict[str, FieldSpec]
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    flags: dict[str, str] = field(default_factory=dict)
    encoding: str = "utf-8-sig"
    delimiter: str = ","
    path: str = ""

    @property
    def columns(self) -> list[str]:
        out = [self.record_id]
        for spec in self.fields.values():
            out.extend(c for c in spec.columns if c not in out)
        return out

    def code(self, spec: FieldSpec, raw: str) -> str | None:
        """The standard code for ``raw`` in the field's table, '' for blank, None if unknown."""
        raw = (raw or "").strip()
        if not raw:
            return ""
        return self.codes[spec.table].get(raw)


def _fail(path: str | Path, where: str, message: str) -> SourceDefinitionError:
    return SourceDefinitionError(f"{path}: {where}: {message}")


def _str(value, path, where, *, required=True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise _fail(path, where, "must be a non-empty text")
    return value


def parse_definition(data: dict, path: str | Path = "<definition>") -> SourceDefinition:
    """Validate an already-read TOML document; raise SourceDefinitionError on the first fault."""
    unknown = set(data) - TOP_KEYS
    if unknown:
        raise _fail(
            path, sorted(unknown)[0], "unknown key (allowed: " + ", ".join(sorted(TOP_KEYS)) + ")"
        )
    if data.get("schema") != SCHEMA_VERSION:
        raise _fail(path, "schema", f"must be {SCHEMA_VERSION} (the definition format version)")
    name = _str(data.get("name"), path, "name")
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise _fail(path, "name", "use lower-case letters, digits and _ (e.g. police_hukou)")
    version = data.get("version")
    if not isinstance(version, str | int) or not str(version).strip():
        raise _fail(path, "version", 'must be given (e.g. "2024.1")')
    record_id = _str(data.get("record_id"), path, "record_id")
    address_role = data.get("address_role", "residence")
    if address_role not in ("residence", "hukou"):
        raise _fail(path, "address_role", "must be 'residence' or 'hukou'")
    trust = data.get("trust", 50)
    if not isinstance(trust, int) or not 0 <= trust <= 100:
        raise _fail(path, "trust", "must be a whole number from 0 to 100")

    codes_raw = data.get("codes", {})
    if not isinstance(codes_raw, dict):
        raise _fail(path, "codes", "must be a table of code tables")
    codes: dict[str, dict[str, str]] = {}
    for table, mapping in codes_raw.items():
        if not isinstance(mapping, dict) or not mapping:
            raise _fail(path, f"codes.{table}", "must map source values to standard codes")
        for key, value in mapping.items():
            if not isinstance(value, str):
                raise _fail(path, f"codes.{table}.{key}", "the standard code must be a text")
        codes[table] = {str(k): v for k, v in mapping.items()}

    flags = data.get("flags", {})
    if not isinstance(flags, dict) or not all(isinstance(v, str) for v in flags.values()):
        raise _fail(path, "flags", "must map remark keywords to flag names")

    fields_raw = data.get("fields")
    if not isinstance(fields_raw, dict) or not fields_raw:
        raise _fail(path, "fields", "must list at least one standard field")
    fields: dict[str, FieldSpec] = {}
    for fname, spec in fields_raw.items():
        where = f"fields.{fname}"
        if fname not in STANDARD_FIELDS:
            raise _fail(
                path,
                where,
                "not a standard field (known: " + ", ".join(sorted(STANDARD_FIELDS)) + ")",
            )
        if not isinstance(spec, dict):
            raise _fail(path, where, "must be a table with 'column' and 'parse'")
        parse = spec.get("parse")
        if parse not in STANDARD_FIELDS[fname]:
            raise _fail(
                path, f"{where}.parse", f"must be one of {', '.join(STANDARD_FIELDS[fname])}"
            )
        allowed = {"column", "columns", "parse"} | PARSER_OPTIONS[parse]
        extra = set(spec) - allowed
        if extra:
            raise _fail(path, f"{where}.{sorted(extra)[0]}", f"not an option of parse = '{parse}'")
        if "column" in spec and "columns" in spec:
            raise _fail(path, where, "give either 'column' or 'columns', not both")
        if "column" in spec:
            columns = (_str(spec["column"], path, f"{where}.column"),)
        elif "columns" in spec:
            cols = spec["columns"]
            if (
                not isinstance(cols, list)
                or not cols
                or not all(isinstance(c, str) and c for c in cols)
            ):
                raise _fail(path, f"{where}.columns", "must be a non-empty list of column names")
            columns = tuple(cols)
        else:
            raise _fail(path, f"{where}.column", "missing: which column holds this field?")
        formats: tuple[str, ...] = ()
        if parse == "date":
            formats_raw = spec.get("formats")
            if not isinstance(formats_raw, list) or not formats_raw:
                raise _fail(path, f"{where}.formats", 'list the date formats, e.g. ["%Y%m%d"]')
            for fmt in formats_raw:
                if not isinstance(fmt, str) or not all(t in fmt for t in ("%Y", "%m", "%d")):
                    raise _fail(path, f"{where}.formats", f"{fmt!r} needs %Y, %m and %d")
            formats = tuple(formats_raw)
        table = ""
        if parse == "code":
            table = spec.get("table", "")
            if table not in codes:
                raise _fail(
                    path, f"{where}.table", f"no code table [codes.{table or '?'}] in the file"
                )
            allowed_values = CODE_VALUES.get(fname)
            if allowed_values:
                bad = sorted(set(codes[table].values()) - allowed_values)
                if bad:
                    raise _fail(
                        path,
                        f"codes.{table}",
                        f"{bad[0]!r} is not a standard {fname} code "
                        f"({', '.join(sorted(allowed_values))})",
                    )
        on = ""
        if parse == "age":
            on = spec.get("on", "")
            if not on:
                raise _fail(
                    path,
                    f"{where}.on",
                    "an age needs the date it was given: a date field or YYYY-MM-DD",
                )
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", on) and on not in fields_raw:
                raise _fail(
                    path, f"{where}.on", f"{on!r} is neither a field of this definition nor a date"
                )
        area_code = str(spec.get("area_code", "028"))
        if not area_code.isdigit():
            raise _fail(path, f"{where}.area_code", 'must be digits, e.g. "028"')
        join = spec.get("join", "")
        if not isinstance(join, str):
            raise _fail(path, f"{where}.join", "must be a text")
        fields[fname] = FieldSpec(
            field=fname,
            parse=parse,
            columns=columns,
            formats=formats,
            table=table,
            on=on,
            area_code=area_code,
            join=join,
        )
    if "flags" in fields and not flags:
        raise _fail(path, "flags", "fields.flags needs a [flags] table of keywords")
    if not any(f in fields for f in ("name", "id_number")):
        raise _fail(path, "fields", "a source needs at least a name or an id_number field")
    return SourceDefinition(
        name=name,
        version=str(version),
        title=str(data.get("title", name)),
        file=str(data.get("file") or f"{name}.csv"),
        record_id=record_id,
        address_role=address_role,
        trust=trust,
        fields=fields,
        codes=codes,
        flags=dict(flags),
        encoding=str(data.get("encoding", "utf-8-sig")),
        delimiter=str(data.get("delimiter", ",")),
        path=str(path),
    )


def load_definition(path: str | Path) -> SourceDefinition:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SourceDefinitionError(f"{path}: not valid TOML: {exc}") from exc
    except OSError as exc:
        raise SourceDefinitionError(f"{path}: cannot be read: {exc.strerror}") from exc
    defn = parse_definition(data, path)
    if defn.name != path.stem:
        raise _fail(path, "name", f"{defn.name!r} must match the file name ({path.stem!r})")
    return defn


def builtin_definitions(directory: str | Path | None = None) -> dict[str, SourceDefinition]:
    """Every definition in ``directory`` (the shipped ones by default), by name."""
    directory = Path(directory) if directory else BUILTIN_DIR
    out = {}
    for path in sorted(directory.glob("*.toml")):
        defn = load_definition(path)
        out[defn.name] = defn
    return out


# ----------------------------------------------------------------------------- reading files
def read_rows(defn: SourceDefinition, path: str | Path) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line or row number, {column: text}) for every record of a CSV or JSON Lines
    file. Refuses the whole file (SourceFileError) when it cannot be read or lacks a column
    the definition needs."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        yield from _read_jsonl(defn, path)
        return
    if suffix not in (".csv", ".txt", ".tsv"):
        raise SourceFileError(
            f"{path}: cannot read {suffix or 'this'} files here (CSV or JSON Lines)"
        )
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SourceFileError(f"{path}: cannot be read: {exc.strerror}") from exc
    try:
        text = raw.decode(defn.encoding)
    except UnicodeDecodeError as exc:
        raise SourceFileError(
            f"{path}: not {defn.encoding} text (byte {exc.start}); save it as UTF-8 or set "
            "'encoding' in the definition"
        ) from exc
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=defn.delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise SourceFileError(f"{path}: the file is empty") from None
    header = [h.strip() for h in header]
    missing = [c for c in defn.columns if c not in header]
    if missing:
        raise SourceFileError(
            f"{path}: line 1: the columns {', '.join(missing)} that the definition "
            f"{defn.name} {defn.version} needs are missing"
        )
    index = {c: header.index(c) for c in defn.columns}
    width = len(header)
    for lineno, row in enumerate(reader, start=2):
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if len(row) < width:
            row = row + [""] * (width - len(row))
        yield lineno, {c: row[i] for c, i in index.items()}


def _read_jsonl(defn: SourceDefinition, path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    try:
        lines = path.read_text(encoding=defn.encoding).splitlines()
    except OSError as exc:
        raise SourceFileError(f"{path}: cannot be read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise SourceFileError(f"{path}: not {defn.encoding} text (byte {exc.start})") from exc
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SourceFileError(f"{path}: line {lineno}: not JSON ({exc.msg})") from exc
        if not isinstance(obj, dict):
            raise SourceFileError(f"{path}: line {lineno}: each line must be a JSON object")
        yield lineno, {c: "" if obj.get(c) is None else str(obj.get(c)) for c in defn.columns}


def reference_date(value: str) -> dt.date:
    return dt.date.fromisoformat(value)

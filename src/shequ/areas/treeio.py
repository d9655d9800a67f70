"""Import and export of the governance tree: CSV and GeoJSON (see docs/tree-format.md).

The CSV format is the one of the linkage data sets' ``geography.csv``
(``level,code,name,parent_code,kind,road_address,managed``), extended with optional columns
``name_en,ext_code,lat,lng,floor,boundary`` and the levels ``city``, ``grid``, ``building``,
``unit`` and ``dwelling``, so that an export imports again unchanged. GeoJSON carries the same
fields as feature properties; the geometry is the boundary (or a Point at lat/lng).

An import validates every row first and writes nothing if any row is bad: the
``TreeImportError`` lists each problem with file, line and field. Rows update by code, so
importing the same file twice changes nothing the second time.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from shequ.core.scoping import code_in_scope

from . import codes
from .models import Area, CompoundType, Place

AREA_LEVELS = ("city", "district", "street", "community", "grid")
PLACE_LEVELS = ("compound", "building", "unit", "dwelling")
LEVELS = AREA_LEVELS + PLACE_LEVELS

# Which levels a row of each level may hang under.
PARENT_LEVELS = {
    "city": (),
    "district": ("city",),
    "street": ("district",),
    "community": ("street",),
    "grid": ("community",),
    "compound": ("community", "grid"),
    "building": ("compound",),
    "unit": ("building",),
    "dwelling": ("unit", "building"),
}
# National (GB/T 2260 and statistical division) codes: fixed length, digits, extend the parent.
NATIONAL_DIGITS = {"district": 6, "street": 9, "community": 12}

COLUMNS = (
    "level",
    "code",
    "name",
    "parent_code",
    "kind",
    "road_address",
    "managed",
    "name_en",
    "ext_code",
    "lat",
    "lng",
    "floor",
    "boundary",
)
REQUIRED = ("level", "code", "name", "parent_code")
PROPERTIES = tuple(c for c in COLUMNS if c != "boundary")  # GeoJSON: boundary is the geometry

COMPOUND_KINDS = {
    "商品房": CompoundType.COMMERCIAL,
    "老旧院落": CompoundType.OLD,
    "安置房": CompoundType.RESETTLEMENT,
    "村组": CompoundType.VILLAGE,
}
COMPOUND_LABELS = {value: label for label, value in COMPOUND_KINDS.items()}
for _value in CompoundType.values:
    COMPOUND_KINDS[_value] = _value

MANAGED = {
    "1": True,
    "0": False,
    "true": True,
    "false": False,
    "yes": True,
    "no": False,
    "是": True,
    "否": False,
}

# Prefecture-level cities a district's parent code may name before the city node exists.
CITY_NAMES = {"510100": ("成都市", "Chengdu")}

PLACE_DEPTHS = {
    "none": (),
    "compounds": ("compound",),
    "all": PLACE_LEVELS,
}

MAX_ERRORS = 200  # errors kept for the report; the total is always counted
CHUNK = 900  # codes per IN (...) query: under SQLite's oldest parameter limit
MAX_LENGTH = {
    "name": 100,
    "name_en": 150,
    "kind": 32,
    "road_address": 200,
    "area_code": Area._meta.get_field("code").max_length,
    "place_code": Place._meta.get_field("code").max_length,
}
_CODE = re.compile(r"^[A-Za-z0-9]+$")
_CITY_CODE = re.compile(r"^\d{4}(00)?$")
_WS = re.compile(r"[ \t\n\r]*")


# --- results and errors ---------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    file: str
    line: int
    field: str
    message: str
    code: str  # machine-readable kind of problem, e.g. "unknown_level"

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.message}"


class TreeImportError(Exception):
    """The file was refused; nothing was written. ``errors`` lists the problems found."""

    def __init__(self, errors: list[RowError], total: int | None = None):
        self.errors = sorted(errors, key=lambda e: (e.line, e.field))
        self.total = total if total is not None else len(errors)
        super().__init__(str(self))

    def __str__(self) -> str:
        lines = [str(e) for e in self.errors]
        if self.total > len(self.errors):
            lines.append(_("… and %(n)d more errors") % {"n": self.total - len(self.errors)})
        return "\n".join(lines)


@dataclass
class ImportResult:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False

    @property
    def totals(self) -> dict[str, int]:
        return {
            "created": sum(self.created.values()),
            "updated": sum(self.updated.values()),
            "unchanged": sum(self.unchanged.values()),
        }

    def by_level(self) -> list[tuple[str, int, int, int]]:
        return [
            (lv, self.created.get(lv, 0), self.updated.get(lv, 0), self.unchanged.get(lv, 0))
            for lv in LEVELS
            if self.created.get(lv) or self.updated.get(lv) or self.unchanged.get(lv)
        ]


class _Errors:
    def __init__(self, filename: str):
        self.filename = filename
        self.kept: list[RowError] = []
        self.total = 0

    def add(self, line: int, field_: str, message: str, code: str) -> None:
        self.total += 1
        if len(self.kept) < MAX_ERRORS:
            self.kept.append(RowError(self.filename, line, field_, message, code))

    def __bool__(self) -> bool:
        return self.total > 0

    def raise_if_any(self) -> None:
        if self.total:
            raise TreeImportError(self.kept, self.total)


# --- reading --------------------------------------------------------------------------------


@dataclass
class _Row:
    line: int
    values: dict
    present: frozenset
    geometry_field: str = "boundary"  # what to call the boundary in messages


def _decode(data: bytes, errors: _Errors) -> str | None:
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        errors.add(1, "-", _("The file is UTF-16 text; save it as UTF-8."), "encoding")
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        try:
            data.decode("gb18030")
        except UnicodeDecodeError:
            message = _("The file is not UTF-8 text (is it a spreadsheet or binary file?).")
        else:
            message = _("The file is not UTF-8 text (it looks like GBK/GB18030); save it as UTF-8.")
        errors.add(line, "-", message, "encoding")
        return None


def _csv_problem(exc: csv.Error) -> str:
    if "new-line character" in str(exc):
        return _("A carriage return (CR) stands alone inside a line; save the file again.")
    return _("This is not valid CSV: %(e)s") % {"e": exc}


def read_csv(data: bytes, errors: _Errors) -> list[_Row]:
    text = _decode(data, errors)
    if text is None:
        return []
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        errors.add(line, "-", _("This is not a CSV text file (it contains NUL bytes)."), "not_csv")
        return []
    if "\r" in text and "\n" not in text:
        text = text.replace("\r", "\n")  # old Mac line endings
    csv.field_size_limit(max(csv.field_size_limit(), 64 * 1024 * 1024))
    # Lines end at LF (CRLF too): the same physical lines an editor shows and JSON counts.
    reader = csv.reader(io.StringIO(text, newline="\n"))
    try:
        header = next(reader)
    except StopIteration:
        errors.add(1, "-", _("The file is empty."), "empty")
        return []
    except csv.Error as exc:
        errors.add(1, "-", _csv_problem(exc), "not_csv")
        return []
    header = [h.strip() for h in header]
    seen = set()
    for name in header:
        if name not in COLUMNS:
            errors.add(
                1,
                name or "-",
                _("Unknown column %(name)r; the columns are: %(columns)s")
                % {"name": name, "columns": ", ".join(COLUMNS)},
                "unknown_column",
            )
        elif name in seen:
            errors.add(1, name, _("The column appears twice."), "duplicate_column")
        seen.add(name)
    for name in REQUIRED:
        if name not in seen:
            errors.add(1, name, _("The required column is missing."), "missing_column")
    if errors:
        return []
    present = frozenset(header)
    rows: list[_Row] = []
    previous = reader.line_num
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.add(reader.line_num or previous + 1, "-", _csv_problem(exc), "not_csv")
            break
        start, previous = previous + 1, reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        if len(record) != len(header):
            errors.add(
                start,
                "-",
                _("The row has %(n)d fields, the header has %(m)d.")
                % {"n": len(record), "m": len(header)},
                "field_count",
            )
            continue
        rows.append(
            _Row(start, dict(zip(header, (c.strip() for c in record), strict=True)), present)
        )
    return rows


def _feature_offsets(text: str) -> list[int] | None:
    """Character offsets where each element of the top-level ``features`` array starts."""
    decoder = json.JSONDecoder()
    try:
        pos = _WS.match(text, 0).end()
        if text[pos] != "{":
            return None
        pos += 1
        while True:
            pos = _WS.match(text, pos).end()
            if text[pos] == "}":
                return None
            key, pos = decoder.raw_decode(text, pos)
            pos = _WS.match(text, pos).end() + 1  # the ':'
            pos = _WS.match(text, pos).end()
            if key == "features":
                offsets: list[int] = []
                pos = _WS.match(text, pos + 1).end()
                while text[pos] != "]":
                    offsets.append(pos)
                    _value, pos = decoder.raw_decode(text, pos)
                    pos = _WS.match(text, pos).end()
                    if text[pos] == ",":
                        pos = _WS.match(text, pos + 1).end()
                return offsets
            _value, pos = decoder.raw_decode(text, pos)
            pos = _WS.match(text, pos).end()
            if text[pos] == ",":
                pos += 1
    except (ValueError, IndexError):
        return None


def _scalar(value):
    """A property value as the CSV reader would give it (numbers kept for lat/lng)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value.strip()
    return value  # floats (lat, lng) and anything odd: validated per field


def read_geojson(data: bytes, errors: _Errors) -> list[_Row]:
    text = _decode(data, errors)
    if text is None:
        return []
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        errors.add(exc.lineno, "-", _("This is not valid JSON: %(e)s") % {"e": exc.msg}, "json")
        return []
    if (
        not isinstance(doc, dict)
        or doc.get("type") != "FeatureCollection"
        or not isinstance(doc.get("features"), list)
    ):
        errors.add(
            1, "type", _("This is not a GeoJSON FeatureCollection."), "not_feature_collection"
        )
        return []
    features = doc["features"]
    offsets = _feature_offsets(text)
    if offsets is None or len(offsets) != len(features):
        offsets = None
    lines = [1] * len(features)
    if offsets:
        line, previous = 1, 0
        for index, offset in enumerate(offsets):
            line += text.count("\n", previous, offset)
            lines[index], previous = line, offset
    rows: list[_Row] = []
    for index, feature in enumerate(features):
        line = lines[index]
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            errors.add(
                line,
                "type",
                _("Feature %(n)d is not a GeoJSON Feature.") % {"n": index + 1},
                "not_feature",
            )
            continue
        props = feature.get("properties") or {}
        if not isinstance(props, dict):
            errors.add(line, "properties", _("The properties are not an object."), "properties")
            continue
        bad = False
        for key in props:
            if key not in PROPERTIES:
                errors.add(
                    line,
                    str(key),
                    _("Unknown property %(name)r; the properties are: %(columns)s")
                    % {"name": key, "columns": ", ".join(PROPERTIES)},
                    "unknown_column",
                )
                bad = True
        for name in REQUIRED:
            if name not in props:
                errors.add(line, name, _("The required property is missing."), "missing_column")
                bad = True
        if bad:
            continue
        values = {key: _scalar(value) for key, value in props.items()}
        present = set(values)
        if "geometry" in feature:
            geometry = feature["geometry"]
            present.add("boundary")
            values["boundary"] = None
            if isinstance(geometry, dict) and geometry.get("type") == "Point":
                coords = geometry.get("coordinates")
                if not _position_ok(coords):
                    errors.add(line, "geometry", _("The Point has no valid position."), "geometry")
                    continue
                if values.get("lat") in ("", None) and values.get("lng") in ("", None):
                    values["lng"], values["lat"] = coords[0], coords[1]
                    present |= {"lat", "lng"}
            elif geometry is not None:
                values["boundary"] = geometry
        rows.append(_Row(line, values, frozenset(present), geometry_field="geometry"))
    return rows


def _position_ok(pos) -> bool:
    if not isinstance(pos, list | tuple) or len(pos) not in (2, 3):
        return False
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in pos):
        return False
    lng, lat = pos[0], pos[1]
    return math.isfinite(lng) and math.isfinite(lat) and -180 <= lng <= 180 and -90 <= lat <= 90


def _ring_problem(ring) -> str | None:
    if not isinstance(ring, list) or len(ring) < 4:
        return _("a ring needs at least 4 positions")
    if not all(_position_ok(p) for p in ring):
        return _("a position is not [longitude, latitude] in WGS84 degrees")
    if list(ring[0]) != list(ring[-1]):
        return _("a ring must end where it starts")
    return None


def geometry_problem(geometry) -> str | None:
    """What is wrong with a boundary geometry (Polygon or MultiPolygon), or None."""
    if not isinstance(geometry, dict):
        return _("not a GeoJSON geometry object")
    kind, coords = geometry.get("type"), geometry.get("coordinates")
    if kind == "Polygon":
        polygons = [coords]
    elif kind == "MultiPolygon":
        if not isinstance(coords, list) or not coords:
            return _("a MultiPolygon needs at least one polygon")
        polygons = coords
    else:
        return _("a boundary is a Polygon or MultiPolygon, not %(type)s") % {"type": kind}
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon:
            return _("a polygon needs at least one ring")
        for ring in polygon:
            problem = _ring_problem(ring)
            if problem:
                return problem
    return None


# --- validating one row ---------------------------------------------------------------------


@dataclass
class _Node:
    """One row (or the city created for the districts' parent), resolved into the tree."""

    line: int
    level: str
    raw_code: str
    parent_ref: str
    values: dict  # model field -> value, only for the fields the file sets
    derived_ext: bool = True  # the file has no ext_code of its own for the row
    code: str = ""
    parent_code: str = ""
    area_code: str = ""  # places: the area the place lies in
    ok: bool = True
    synthetic: bool = False

    @property
    def is_area(self) -> bool:
        return self.level in AREA_LEVELS


def _as_float(value, name: str, low: float, high: float, err) -> float | None:
    if value in ("", None):
        return None
    if isinstance(value, bool):
        err(name, _("%(v)r is not a number") % {"v": value}, "bad_coordinate")
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        err(name, _("%(v)r is not a number") % {"v": value}, "bad_coordinate")
        return None
    if not math.isfinite(number) or not low <= number <= high:
        err(
            name,
            _("%(v)s is outside %(low)s…%(high)s (WGS84 degrees)")
            % {"v": value, "low": low, "high": high},
            "bad_coordinate",
        )
        return None
    return number


def _validate(row: _Row, errors: _Errors) -> _Node | None:
    v, present = row.values, row.present
    problems = []

    def err(name, message, code):
        if name == "boundary":
            name = row.geometry_field
        problems.append((name, message, code))

    def text(name: str) -> str:
        value = v.get(name, "")
        if not isinstance(value, str):
            err(name, _("expected text, found %(v)r") % {"v": value}, "bad_value")
            return ""
        return value

    level = text("level").lower()
    if level not in LEVELS:
        err(
            "level",
            _("Unknown level %(level)r; the levels are: %(levels)s")
            % {"level": v.get("level"), "levels": ", ".join(LEVELS)},
            "unknown_level",
        )
    raw_code = text("code")
    if not raw_code:
        err("code", _("The code is empty."), "empty_code")
    elif not _CODE.match(raw_code):
        err("code", _("A code is ASCII letters and digits only."), "bad_code")
    name = text("name")
    if not name:
        err("name", _("The name is empty."), "empty_name")
    parent_ref = text("parent_code")
    if parent_ref and not _CODE.match(parent_ref):
        err("parent_code", _("A code is ASCII letters and digits only."), "bad_code")
    elif not parent_ref and level and level != "city" and level in LEVELS:
        err("parent_code", _("The parent code is empty."), "empty_parent")
    for name_ in ("name", "name_en", "road_address", "kind"):
        value = v.get(name_, "")
        if isinstance(value, str) and len(value) > MAX_LENGTH[name_]:
            err(
                name_,
                _("Too long: at most %(n)d characters.") % {"n": MAX_LENGTH[name_]},
                "too_long",
            )

    values: dict = {}
    is_area = level in AREA_LEVELS
    code_limit = MAX_LENGTH["area_code" if is_area else "place_code"]
    for name_ in ("code", "ext_code"):
        value = v.get(name_, "")
        if isinstance(value, str) and len(value) > code_limit:
            err(name_, _("Too long: at most %(n)d characters.") % {"n": code_limit}, "too_long")
    if "name" in present:
        values["name"] = name
    if "name_en" in present:
        values["name_en"] = text("name_en")
    kind = text("kind") if "kind" in present else ""
    if "kind" in present:
        if is_area:
            values["kind"] = kind
        elif level == "compound":
            if kind and kind not in COMPOUND_KINDS:
                err(
                    "kind",
                    _("Unknown compound kind %(kind)r; the kinds are: %(kinds)s")
                    % {"kind": kind, "kinds": ", ".join(COMPOUND_KINDS)},
                    "unknown_kind",
                )
            values["compound_type"] = COMPOUND_KINDS.get(kind, "")
        elif kind:
            err("kind", _("Only areas and compounds have a kind."), "unexpected_value")
    for column, model_field in (("road_address", "address"), ("managed", "managed")):
        if column not in present:
            continue
        value = text(column)
        if is_area:
            if value:
                err(column, _("Only places have this field."), "unexpected_value")
            continue
        if column == "managed":
            if value and value.lower() not in MANAGED:
                err(
                    "managed",
                    _("%(v)r is not a yes/no flag (1 or 0).") % {"v": value},
                    "bad_managed",
                )
            value = MANAGED.get(value.lower()) if value else None
        values[model_field] = value
    derived_ext = True
    if "ext_code" in present:
        ext = text("ext_code")
        if ext and not _CODE.match(ext):
            err("ext_code", _("A code is ASCII letters and digits only."), "bad_code")
        values["ext_code"] = ext
        derived_ext = not ext
    if "lat" in present or "lng" in present:
        lat = _as_float(v.get("lat", ""), "lat", -90, 90, err)
        lng = _as_float(v.get("lng", ""), "lng", -180, 180, err)
        raw_lat, raw_lng = v.get("lat", ""), v.get("lng", "")
        if (raw_lat in ("", None)) != (raw_lng in ("", None)):
            missing = "lat" if raw_lat in ("", None) else "lng"
            err(missing, _("Give both latitude and longitude, or neither."), "bad_coordinate")
        values["lat"], values["lng"] = lat, lng
    if "floor" in present:
        floor = v.get("floor", "")
        if is_area:
            if floor not in ("", None):
                err("floor", _("Only places have this field."), "unexpected_value")
        elif floor in ("", None):
            values["floor"] = None
        else:
            try:
                values["floor"] = int(str(floor))
                if not -20 <= values["floor"] <= 300:
                    raise ValueError
            except ValueError:
                err("floor", _("%(v)r is not a floor number.") % {"v": floor}, "bad_floor")
    if "boundary" in present:
        boundary = v.get("boundary")
        if isinstance(boundary, str):
            if boundary:
                try:
                    boundary = json.loads(boundary)
                except ValueError:
                    err("boundary", _("The boundary is not valid JSON."), "bad_geometry")
                    boundary = None
            else:
                boundary = None
        if boundary is not None:
            problem = geometry_problem(boundary)
            if problem:
                err(
                    "boundary",
                    _("Invalid GeoJSON geometry: %(p)s") % {"p": problem},
                    "bad_geometry",
                )
        values["boundary"] = boundary
    for name_, message, code in problems:
        errors.add(row.line, name_, message, code)
    if problems:
        return None
    return _Node(row.line, level, raw_code, parent_ref, values, derived_ext)


# --- resolving the tree ---------------------------------------------------------------------


@dataclass
class _Known:
    """A row already in the database, as far as resolution needs it."""

    code: str
    level: str
    area_code: str
    parent_code: str
    pk: int


def _chunks(items: list, size: int = CHUNK) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _fetch_known(model, lookup: str, refs: Iterable[str]) -> dict[str, list[_Known]]:
    refs = sorted({r for r in refs if r})
    found: dict[str, list[_Known]] = defaultdict(list)
    is_area = model is Area
    columns = ("code", "level" if is_area else "kind", "pk", "parent__code")
    columns += () if is_area else ("area_code",)
    for chunk in _chunks(refs):
        rows = model.objects.filter(**{f"{lookup}__in": chunk}).values_list(lookup, *columns)
        for key, code, level, pk, parent_code, *area_code in rows:
            area = area_code[0] if area_code else code
            found[key].append(_Known(code, level, area, parent_code or "", pk))
    return found


class _Tree:
    def __init__(self, nodes: list[_Node], errors: _Errors, user=None, refused=None):
        self.errors = errors
        self.user = user
        self.refused: dict[str, int] = refused or {}  # codes of rows refused, by line
        self.by_code: dict[tuple[bool, str], _Node] = {}  # (is_area, resolved code)
        self.by_alias: dict[tuple[bool, str], list[_Node]] = defaultdict(list)
        self.known: dict[tuple[bool, str], _Known] = {}  # DB rows by (is_area, code)
        self.nodes = nodes
        self.synthetic: list[_Node] = []

    def error(self, node: _Node, field_: str, message: str, code: str) -> None:
        node.ok = False
        self.refused.setdefault(node.raw_code, node.line)
        self.errors.add(node.line, field_, message, code)

    def resolve(self) -> None:
        by_level: dict[str, list[_Node]] = defaultdict(list)
        for node in self.nodes:
            by_level[node.level].append(node)
        for level in LEVELS:
            nodes = by_level.get(level, [])
            if not nodes:
                continue
            if level == "city":
                for node in nodes:
                    self._resolve_city(node)
                continue
            parent_is_area = PARENT_LEVELS[level][0] in AREA_LEVELS
            model = Area if parent_is_area else Place
            missing = [
                n.parent_ref
                for n in nodes
                if (parent_is_area, n.parent_ref) not in self.by_code
                and (parent_is_area, n.parent_ref) not in self.by_alias
            ]
            db_by_code = _fetch_known(model, "code", missing)
            db_by_ext = _fetch_known(model, "ext_code", [m for m in missing if m not in db_by_code])
            if level == "district":
                prefixes = {
                    codes.city_prefix(m) for m in missing if m not in db_by_code and _city_ref(m)
                }
                db_by_code.update(_fetch_known(Area, "code", prefixes))
            for node in nodes:
                parent = self._parent(node, parent_is_area, db_by_code, db_by_ext)
                if parent is not None:
                    self._place_node(node, parent)

    def _register(self, node: _Node, aliases: Iterable[str]) -> bool:
        key = (node.is_area, node.code)
        first = self.by_code.get(key)
        if first is not None:
            self.error(
                node,
                "code",
                _("Duplicate code %(code)s (first at line %(line)d).")
                % {"code": node.code, "line": first.line},
                "duplicate_code",
            )
            return False
        self.by_code[key] = node
        for alias in set(aliases) - {node.code, ""}:
            self.by_alias[(node.is_area, alias)].append(node)
        return True

    def _resolve_city(self, node: _Node) -> None:
        if not _city_ref(node.raw_code):
            self.error(
                node,
                "code",
                _("A city code is 4 digits (5101) or the national 6-digit form (510100)."),
                "bad_code",
            )
            return
        if node.parent_ref:
            self.error(node, "parent_code", _("A city has no parent here."), "bad_parent")
            return
        node.code = codes.city_prefix(node.raw_code)
        if node.derived_ext and node.raw_code != node.code:
            node.values["ext_code"] = node.raw_code
        node.area_code = node.code
        if self._in_scope(node):
            self._register(node, [node.raw_code, _national(node.code)])

    def _city_for(self, node: _Node, ref: str) -> _Node | _Known | None:
        """The city a district names by its prefecture-level code, created when missing."""
        code = codes.city_prefix(ref)
        found = self.by_code.get((True, code)) or self.known.get((True, code))
        if found is not None:
            return found
        national = _national(code)
        name, name_en = CITY_NAMES.get(national, (national, ""))
        city = _Node(
            node.line,
            "city",
            national,
            "",
            {"name": name, "name_en": name_en, "ext_code": national},
            code=code,
            area_code=code,
            synthetic=True,
        )
        if self.user is not None and not code_in_scope(self.user, Area.perm("import"), code):
            self.error(
                node,
                "parent_code",
                _(
                    "The city %(code)s does not exist yet and lies outside your import scope; "
                    "ask someone who may import it."
                )
                % {"code": code},
                "out_of_scope",
            )
            return None
        self._register(city, [ref, national])
        self.synthetic.append(city)
        return city

    def _parent(self, node, parent_is_area, db_by_code, db_by_ext):
        ref = node.parent_ref
        key = (parent_is_area, ref)
        parent = self.by_code.get(key)
        if parent is None:
            aliases = self.by_alias.get(key, [])
            if len(aliases) > 1:
                lines = ", ".join(str(a.line) for a in aliases[:5])
                self.error(
                    node,
                    "parent_code",
                    _("The parent code %(code)s is ambiguous (lines %(lines)s).")
                    % {"code": ref, "lines": lines},
                    "ambiguous_parent",
                )
                return None
            parent = aliases[0] if aliases else None
        if parent is None:
            known = db_by_code.get(ref) or db_by_ext.get(ref) or []
            if len(known) > 1:
                self.error(
                    node,
                    "parent_code",
                    _("The parent code %(code)s is ambiguous in the database.") % {"code": ref},
                    "ambiguous_parent",
                )
                return None
            if known:
                parent = known[0]
                self.known[(parent_is_area, parent.code)] = parent
        if parent is None and node.level == "district" and _city_ref(ref):
            known = db_by_code.get(codes.city_prefix(ref))
            if known:
                parent = known[0]
                self.known[(True, parent.code)] = parent
            else:
                parent = self._city_for(node, ref)
                if parent is None:
                    return None
        if parent is None and ref in self.refused:
            self.error(
                node,
                "parent_code",
                _("The parent %(code)s is refused (line %(line)d).")
                % {"code": ref, "line": self.refused[ref]},
                "parent_refused",
            )
            return None
        if parent is None:
            self.error(
                node,
                "parent_code",
                _("Unknown parent %(code)s: neither in the file nor in the database.")
                % {"code": ref},
                "unknown_parent",
            )
            return None
        if isinstance(parent, _Node) and not parent.ok:
            self.error(
                node,
                "parent_code",
                _("The parent %(code)s is refused (line %(line)d).")
                % {"code": ref, "line": parent.line},
                "parent_refused",
            )
            return None
        if parent.level not in PARENT_LEVELS[node.level]:
            self.error(
                node,
                "parent_code",
                _("A %(level)s lies under a %(expected)s; %(code)s is a %(actual)s.")
                % {
                    "level": node.level,
                    "expected": " / ".join(PARENT_LEVELS[node.level]),
                    "code": ref,
                    "actual": parent.level,
                },
                "bad_parent",
            )
            return None
        return parent

    def _place_node(self, node: _Node, parent) -> None:
        raw = node.raw_code
        digits = NATIONAL_DIGITS.get(node.level)
        if digits:
            if len(raw) != digits or not raw.isdigit():
                self.error(
                    node,
                    "code",
                    _("A %(level)s code is %(n)d digits.") % {"level": node.level, "n": digits},
                    "bad_code",
                )
                return
            if not raw.startswith(parent.code):
                self.error(
                    node,
                    "code",
                    _("The code %(code)s does not extend its parent's code %(parent)s.")
                    % {"code": raw, "parent": parent.code},
                    "code_not_under_parent",
                )
                return
            node.code = raw
        else:
            # Compounds are coded under their community even when they lie in a grid.
            base = parent.parent_code if node.level == "compound" and parent.level == "grid" else ""
            node.code = (
                raw if base and raw.startswith(base) else codes.extend(base or parent.code, raw)
            )
            if node.derived_ext and node.code != raw:
                node.values["ext_code"] = raw
        limit = MAX_LENGTH["area_code" if node.is_area else "place_code"]
        if len(node.code) > limit:
            self.error(
                node,
                "code",
                _("The code %(code)s is longer than %(n)d characters.")
                % {"code": node.code, "n": limit},
                "too_long",
            )
            return
        node.parent_code = parent.code
        node.area_code = node.code if node.is_area else parent.area_code
        if not self._in_scope(node):
            return
        self._register(node, [raw, node.values.get("ext_code", "")])

    def _in_scope(self, node: _Node) -> bool:
        if self.user is None:
            return True
        model = Area if node.is_area else Place
        if code_in_scope(self.user, model.perm("import"), node.area_code):
            return True
        self.error(
            node,
            "code",
            _("%(code)s lies outside the areas where you may import.") % {"code": node.code},
            "out_of_scope",
        )
        return False


def _city_ref(code: str) -> bool:
    return bool(_CITY_CODE.match(code or ""))


def _national(city_code: str) -> str:
    return city_code.ljust(6, "0")


# --- comparing with the database and writing ------------------------------------------------

AREA_FIELDS = ("name", "name_en", "kind", "ext_code", "lat", "lng", "boundary")
PLACE_FIELDS = (
    "name",
    "name_en",
    "compound_type",
    "address",
    "managed",
    "ext_code",
    "lat",
    "lng",
    "boundary",
    "floor",
)


def _existing(model, codes_: list[str], fields: tuple[str, ...]) -> dict[str, dict]:
    level_field = "level" if model is Area else "kind"
    extra = ("pk", "code", level_field, "parent__code") + (() if model is Area else ("area_code",))
    found = {}
    for chunk in _chunks(sorted(codes_)):
        for row in model.objects.filter(code__in=chunk).values(*extra, *fields):
            row["level"] = row[level_field]
            found[row["code"]] = row
    return found


@dataclass
class _Plan:
    creates: dict[str, list[_Node]] = field(default_factory=lambda: defaultdict(list))
    updates: dict[str, list[tuple[_Node, dict, dict]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    unchanged: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    moved_places: list[tuple[int, str]] = field(default_factory=list)


def _plan(tree: _Tree, errors: _Errors) -> _Plan:
    nodes = [n for n in tree.nodes if n.ok] + tree.synthetic
    area_nodes = [n for n in nodes if n.is_area]
    place_nodes = [n for n in nodes if not n.is_area]
    existing_areas = _existing(Area, [n.code for n in area_nodes], AREA_FIELDS)
    existing_places = _existing(Place, [n.code for n in place_nodes], PLACE_FIELDS)
    # A code names either an area or a place, never both.
    clash_places = _fetch_known(Place, "code", [n.code for n in area_nodes])
    clash_areas = _fetch_known(Area, "code", [n.code for n in place_nodes])
    plan = _Plan()
    for node in nodes:
        other = clash_places if node.is_area else clash_areas
        if node.code in other or (not node.is_area, node.code) in tree.by_code:
            tree.error(
                node,
                "code",
                _("%(code)s is already used by an area or a place of another kind.")
                % {"code": node.code},
                "code_clash",
            )
            continue
        existing = (existing_areas if node.is_area else existing_places).get(node.code)
        if existing is None:
            plan.creates[node.level].append(node)
            continue
        if existing["level"] != node.level:
            tree.error(
                node,
                "level",
                _("%(code)s already exists as a %(level)s.")
                % {"code": node.code, "level": existing["level"]},
                "level_changed",
            )
            continue
        changes = {
            name: value for name, value in node.values.items() if existing.get(name) != value
        }
        # A compound's parent is an area: its area_code, not the parent link (kept empty).
        if node.level != "compound" and (existing["parent__code"] or "") != node.parent_code:
            changes["parent"] = node.parent_code
        if not node.is_area and existing["area_code"] != node.area_code:
            changes["area_code"] = node.area_code
            plan.moved_places.append((existing["pk"], node.area_code))
        if changes:
            plan.updates[node.level].append((node, existing, changes))
        else:
            plan.unchanged[node.level] += 1
    return plan


def _ids(model, codes_: Iterable[str]) -> dict[str, int]:
    ids = {}
    for chunk in _chunks(sorted(set(codes_))):
        ids.update(model.objects.filter(code__in=chunk).values_list("code", "pk"))
    return ids


def _write(tree: _Tree, plan: _Plan) -> None:
    nodes = [n for n in tree.nodes if n.ok] + tree.synthetic
    area_parents = [n.parent_code for n in nodes if n.is_area and n.parent_code]
    place_parents = [n.parent_code for n in nodes if n.level in PLACE_LEVELS[1:]]
    area_ids = _ids(Area, area_parents)  # parents already in the database
    place_ids = _ids(Place, place_parents)
    for level in LEVELS:
        is_area = level in AREA_LEVELS
        model = Area if is_area else Place
        ids = area_ids if is_area else place_ids
        new = plan.creates.get(level, [])
        objs = []
        for node in new:
            if is_area:
                parent_id = area_ids[node.parent_code] if node.parent_code else None
                objs.append(Area(code=node.code, level=level, parent_id=parent_id, **node.values))
            else:
                parent_id = None if level == "compound" else place_ids[node.parent_code]
                objs.append(
                    Place(
                        code=node.code,
                        kind=level,
                        parent_id=parent_id,
                        area_code=node.area_code,
                        **node.values,
                    )
                )
        if objs:
            model.objects.bulk_create(objs, batch_size=500)
            ids.update(_ids(model, [n.code for n in new]))
        groups: dict[frozenset, list] = defaultdict(list)
        for node, existing, changes in plan.updates.get(level, []):
            ids[node.code] = existing["pk"]
            if "parent" in changes:
                parent_code = changes.pop("parent")
                changes["parent_id"] = ids[parent_code] if parent_code else None
            groups[frozenset(changes)].append(model(pk=existing["pk"], **changes))
        for fields, objs_ in groups.items():
            model.objects.bulk_update(objs_, sorted(fields), batch_size=500)
    # A place that moved (e.g. into a grid drawn later) takes the places under it along.
    by_area: dict[str, list[int]] = defaultdict(list)
    for pk, area_code in plan.moved_places:
        by_area[area_code].append(pk)
    for area_code, pks in by_area.items():
        frontier = pks
        while frontier:
            children = []
            for chunk in _chunks(frontier):
                children += list(
                    Place.objects.filter(parent_id__in=chunk).values_list("pk", flat=True)
                )
            for chunk in _chunks(children):
                Place.objects.filter(pk__in=chunk).update(area_code=area_code)
            frontier = children


# --- the import entry point -----------------------------------------------------------------


def detect_format(filename: str, data: bytes) -> str:
    lower = (filename or "").lower()
    if lower.endswith((".geojson", ".json")):
        return "geojson"
    if lower.endswith(".csv"):
        return "csv"
    head = data[:64].lstrip(codecs.BOM_UTF8).lstrip()
    return "geojson" if head.startswith(b"{") else "csv"


def import_tree(
    data: bytes,
    *,
    filename: str = "tree.csv",
    fmt: str | None = None,
    user=None,
    dry_run: bool = False,
) -> ImportResult:
    """Import a tree file. ``user``: refuse rows outside the user's import scope (None: the
    operator's command, everything allowed). Raise ``TreeImportError`` and write nothing if
    any row is bad."""
    fmt = fmt or detect_format(filename, data)
    errors = _Errors(filename)
    if fmt == "geojson":
        rows = read_geojson(data, errors)
    elif fmt == "csv":
        rows = read_csv(data, errors)
    else:
        raise ValueError(f"unknown format {fmt!r}")
    nodes, refused = [], {}
    for row in rows:
        node = _validate(row, errors)
        if node is not None:
            nodes.append(node)
        elif isinstance(row.values.get("code"), str) and row.values["code"]:
            refused.setdefault(row.values["code"], row.line)
    if not nodes and not errors:
        errors.add(1, "-", _("The file has no rows."), "empty")
    if not nodes:
        errors.raise_if_any()
    with transaction.atomic():
        # Resolve and compare even when some rows were refused, to report every problem at once.
        tree = _Tree(nodes, errors, user, refused)
        tree.resolve()
        plan = _plan(tree, errors)
        errors.raise_if_any()
        if not dry_run:
            _write(tree, plan)
    return ImportResult(
        created={lv: len(plan.creates[lv]) for lv in LEVELS if plan.creates.get(lv)},
        updated={lv: len(plan.updates[lv]) for lv in LEVELS if plan.updates.get(lv)},
        unchanged={lv: plan.unchanged[lv] for lv in LEVELS if plan.unchanged.get(lv)},
        dry_run=dry_run,
    )


# --- export ---------------------------------------------------------------------------------


def _fmt_float(value) -> str:
    return "" if value is None else repr(float(value))


def export_rows(root: Area, *, places: str = "compounds", areas_qs=None, places_qs=None):
    """Rows (dicts of COLUMNS, Python values) of the subtree under ``root``, parents first.

    ``areas_qs``/``places_qs``: the querysets to read from (views pass ``for_user(user,
    "export")``); the operator's command reads everything."""
    if places not in PLACE_DEPTHS:
        raise ValueError(f"places must be one of {', '.join(PLACE_DEPTHS)}")
    areas_qs = Area.objects.all() if areas_qs is None else areas_qs
    places_qs = Place.objects.all() if places_qs is None else places_qs
    root_parent = ""
    if root.parent_id:
        parent = Area.objects.filter(pk=root.parent_id).values("code", "ext_code").first()
        root_parent = (parent["ext_code"] or parent["code"]) if parent else ""
    area_fields = ("code", "name", "name_en", "kind", "ext_code", "lat", "lng", "boundary")
    for level in AREA_LEVELS:
        qs = (
            areas_qs.filter(code__startswith=root.code, level=level)
            .order_by("code")
            .values(*area_fields, "parent__code")
        )
        for row in qs.iterator(chunk_size=2000):
            yield {
                "level": level,
                "code": row["code"],
                "name": row["name"],
                "parent_code": root_parent
                if row["code"] == root.code
                else (row["parent__code"] or ""),
                "kind": row["kind"],
                "road_address": "",
                "managed": None,
                "name_en": row["name_en"],
                "ext_code": row["ext_code"],
                "lat": row["lat"],
                "lng": row["lng"],
                "floor": None,
                "boundary": row["boundary"],
            }
    place_fields = (
        "code",
        "name",
        "name_en",
        "compound_type",
        "address",
        "managed",
        "ext_code",
        "lat",
        "lng",
        "floor",
        "boundary",
        "area_code",
    )
    for kind in PLACE_DEPTHS[places]:
        qs = (
            places_qs.filter(area_code__startswith=root.code, kind=kind)
            .order_by("code")
            .values(*place_fields, "parent__code")
        )
        for row in qs.iterator(chunk_size=2000):
            yield {
                "level": kind,
                "code": row["code"],
                "name": row["name"],
                "parent_code": row["area_code"] if kind == "compound" else row["parent__code"],
                "kind": COMPOUND_LABELS.get(row["compound_type"], row["compound_type"]),
                "road_address": row["address"],
                "managed": row["managed"],
                "name_en": row["name_en"],
                "ext_code": row["ext_code"],
                "lat": row["lat"],
                "lng": row["lng"],
                "floor": row["floor"],
                "boundary": row["boundary"],
            }


def _csv_cells(row: dict) -> list[str]:
    managed = row["managed"]
    return [
        row["level"],
        row["code"],
        row["name"],
        row["parent_code"] or "",
        row["kind"] or "",
        row["road_address"] or "",
        "" if managed is None else ("1" if managed else "0"),
        row["name_en"] or "",
        row["ext_code"] or "",
        _fmt_float(row["lat"]),
        _fmt_float(row["lng"]),
        "" if row["floor"] is None else str(row["floor"]),
        ""
        if row["boundary"] is None
        else json.dumps(row["boundary"], ensure_ascii=False, separators=(",", ":")),
    ]


def export_csv(root: Area, *, bom: bool = False, **kwargs) -> Iterator[str]:
    """The subtree as CSV text, in pieces (for streaming responses and files)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    yield ("\ufeff" if bom else "") + buffer.getvalue()
    for row in export_rows(root, **kwargs):
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(_csv_cells(row))
        yield buffer.getvalue()


def export_geojson(root: Area, **kwargs) -> Iterator[str]:
    """The subtree as a GeoJSON FeatureCollection (WGS84), one feature per line."""
    yield '{"type":"FeatureCollection","features":[\n'
    first = True
    for row in export_rows(root, **kwargs):
        boundary = row.pop("boundary")
        if boundary is not None:
            geometry = boundary
        elif row["lat"] is not None and row["lng"] is not None:
            geometry = {"type": "Point", "coordinates": [row["lng"], row["lat"]]}
        else:
            geometry = None
        feature = {"type": "Feature", "properties": row, "geometry": geometry}
        text = json.dumps(feature, ensure_ascii=False, separators=(",", ":"))
        yield ("" if first else ",\n") + text
        first = False
    yield "\n]}\n"

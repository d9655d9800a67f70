"""One raw row + its source definition -> a :class:`StandardRecord`.

Nothing is dropped: a value that cannot be parsed stays empty in the standard form and the
record carries an ``issues`` entry (field, reason) so the ingest report can list it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from shequ.core import idnumber, phone

from ..sourcedefs import FieldSpec, SourceDefinition
from .addresses import BLANK as BLANK_ADDRESS
from .addresses import Address, parse_address
from .dates import DateError, age_on, birth_range_from_age, parse_age, parse_date
from .geography import Geography
from .names import BLANK as BLANK_NAME
from .names import Name, parse_name

# An ID whose embedded birth date is further than this from the record's own birth date (or
# age) is taken to be someone else's (a guardian's, a parent's), not the person's.
ID_BIRTH_CONFLICT_DAYS = 3 * 366


@dataclass(slots=True)
class StandardRecord:
    source: str
    record_id: str
    line: int = 0
    name: Name = BLANK_NAME
    former_name: Name = BLANK_NAME
    sex: str = ""
    birth_date: dt.date | None = None
    age: int | None = None
    age_on: dt.date | None = None
    id: idnumber.IdReading = field(default_factory=lambda: idnumber.IdReading(kind="blank"))
    id_conflict: bool = False
    phones: tuple[str, ...] = ()
    address: Address = BLANK_ADDRESS
    address_role: str = "residence"
    household_number: str = ""
    relation: str = ""
    occupancy: str = ""
    record_date: dt.date | None = None
    ethnicity: str = ""
    insurance: str = ""
    flags: tuple[str, ...] = ()
    issues: list[tuple[str, str]] = field(default_factory=list)

    @property
    def best_sex(self) -> str:
        return self.sex or (self.id.sex if not self.id_conflict else "") or self.name.sex_hint

    @property
    def best_birth_date(self) -> dt.date | None:
        if self.birth_date:
            return self.birth_date
        if self.id.kind == "resident" and not self.id_conflict:
            return self.id.birth_date
        return None

    def birth_range(self) -> tuple[dt.date, dt.date] | None:
        """Birth dates the record allows when it gives only an age."""
        if self.age is None or self.age_on is None:
            return None
        return birth_range_from_age(self.age, self.age_on)


class Standardiser:
    """Turns raw rows of one source into standard records."""

    def __init__(self, defn: SourceDefinition, geo: Geography, *, today: dt.date | None = None):
        self.defn = defn
        self.geo = geo
        self.today = today or dt.date.today()

    def _value(self, spec: FieldSpec, row: dict[str, str]) -> str:
        if len(spec.columns) == 1:
            return (row.get(spec.columns[0]) or "").strip()
        return spec.join.join((row.get(c) or "").strip() for c in spec.columns)

    def standardise(self, line: int, row: dict[str, str]) -> StandardRecord:
        defn = self.defn
        rec = StandardRecord(
            source=defn.name,
            record_id=(row.get(defn.record_id) or "").strip(),
            line=line,
            address_role=defn.address_role,
        )
        if not rec.record_id:
            rec.issues.append(("record_id", "the record id is empty"))
        fields = defn.fields
        values = {name: self._value(spec, row) for name, spec in fields.items()}

        for fname in ("name", "former_name"):
            if fname in fields:
                setattr(rec, fname, parse_name(values[fname]))
                if values[fname] and getattr(rec, fname).kind == "blank":
                    rec.issues.append((fname, f"{values[fname]!r} is not a name"))

        for fname in ("sex", "relation", "occupancy", "ethnicity"):
            spec = fields.get(fname)
            if spec is None:
                continue
            if spec.parse == "text":
                setattr(rec, fname, values[fname])
                continue
            code = defn.code(spec, values[fname])
            if code is None:
                rec.issues.append(
                    (fname, f"{values[fname]!r} is not in the code table {spec.table}")
                )
                code = ""
            setattr(rec, fname, code)

        for fname in ("birth_date", "record_date"):
            spec = fields.get(fname)
            if spec is None:
                continue
            try:
                value = parse_date(values[fname], spec.formats, latest=self.today)
            except DateError as exc:
                rec.issues.append((fname, str(exc)))
                value = None
            setattr(rec, fname, value)

        spec = fields.get("age")
        if spec is not None:
            try:
                rec.age = parse_age(values["age"])
            except DateError as exc:
                rec.issues.append(("age", str(exc)))
            if rec.age is not None:
                if spec.on in fields:
                    rec.age_on = (
                        getattr(rec, spec.on, None)
                        if spec.on
                        in (
                            "record_date",
                            "birth_date",
                        )
                        else None
                    )
                else:
                    rec.age_on = dt.date.fromisoformat(spec.on)
                if rec.age_on is None:
                    rec.issues.append(("age", "the date the age was given on is missing"))

        if "id_number" in fields:
            rec.id = idnumber.read(values["id_number"], today=self.today)
            if rec.id.kind in ("invalid", "other"):
                rec.issues.append(("id_number", rec.id.problem))
            rec.id_conflict = self._id_conflicts(rec)
            if rec.id_conflict:
                rec.issues.append(
                    (
                        "id_number",
                        "the birth date in the ID does not fit the record's birth date or age",
                    )
                )

        if "phone" in fields:
            numbers = []
            for digits, problem in phone.read_many(
                values["phone"], area_code=fields["phone"].area_code
            ):
                if digits not in numbers:
                    numbers.append(digits)
                if problem:
                    rec.issues.append(("phone", problem))
            rec.phones = tuple(numbers)

        ctx = {}
        for fname in ("district", "street", "community"):
            if fname in fields and values[fname]:
                code = self._area(fname, values[fname], values)
                if code:
                    ctx[fname] = code
                else:
                    rec.issues.append((fname, f"{values[fname]!r} is not in the area tree"))
        if "address" in fields:
            rec.address = parse_address(values["address"], self.geo, **ctx)
            if values["address"] and rec.address.kind == "unknown":
                rec.issues.append(("address", "the compound or road is not in the area tree"))
        elif ctx:
            rec.address = Address(kind="unknown", **ctx)

        if "household_number" in fields:
            rec.household_number = values["household_number"]
        if "insurance" in fields:
            rec.insurance = values["insurance"]
        if "flags" in fields and values["flags"]:
            rec.flags = tuple(
                sorted({flag for word, flag in defn.flags.items() if word in values["flags"]})
            )
        return rec

    def _area(self, fname: str, value: str, values: dict[str, str]) -> str:
        value = value.strip()
        if value.isdigit():
            return value
        if fname == "district":
            return self.geo.district_by_name.get(value, "")
        if fname == "street":
            return self.geo.street_code(value)
        return self.geo.community_code(value, values.get("street", ""))

    def _id_conflicts(self, rec: StandardRecord) -> bool:
        birth = rec.id.birth_date
        if birth is None or rec.id.kind != "resident":
            return False  # a mistyped number's date part may itself be mistyped
        if rec.birth_date is not None:
            return abs((rec.birth_date - birth).days) > ID_BIRTH_CONFLICT_DAYS
        if rec.age is not None and rec.age_on is not None:
            return abs(age_on(birth, rec.age_on) - rec.age) > 3
        return False

"""The datasets an export request may ask for, and the fields each allows.

Each dataset names its model (rows come from ``Model.objects.for_user(requester, "view")``
under the requested area), the permission that lets a requester have its personal fields in
plain (``reveal_perm``, checked at each row's area), the date that the requested period
filters on (none for a snapshot such as the population roll), and its columns. A personal
column the requester may not reveal is masked: ID numbers and phones as everywhere
(``5101***********23X``, ``138****5678``), names to their first character, birth dates to the
year, health answers withheld.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from django.apps import apps
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shequ.core.masking import mask_id_number, mask_name, mask_phone

WITHHELD = "***"


def _mask_birth_date(value) -> str:
    return str(value)[:4] if value else ""


def mask_for_export(kind: str, value) -> str:
    """The masked form of a personal value for a requester who may not reveal it."""
    if value in (None, ""):
        return ""
    if kind == "id_number":
        return mask_id_number(str(value))
    if kind == "phone":
        return mask_phone(str(value))
    if kind == "name":
        return mask_name(str(value))
    if kind == "birth_date":
        return _mask_birth_date(value)
    return WITHHELD


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


@dataclass(frozen=True)
class Column:
    name: str
    label: object
    value: Callable
    # The registered personal field this column shows (core.personal), if any.
    personal: str | None = None


@dataclass(frozen=True)
class Dataset:
    key: str
    label: object
    model_label: str
    app: str
    reveal_perm: str
    columns: tuple[Column, ...]
    date_field: str | None = None
    select_related: tuple[str, ...] = ()
    description: object = ""
    column_map: dict = field(default_factory=dict, compare=False)

    def __post_init__(self):
        self.column_map.update({c.name: c for c in self.columns})

    @property
    def model(self):
        return apps.get_model(self.model_label)

    @property
    def view_perm(self) -> str:
        return self.model.perm("view")

    def available(self) -> bool:
        return apps.is_installed(self.app)

    def field_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def personal_fields(self) -> list[str]:
        return [c.name for c in self.columns if c.personal]

    def rows(self, user, area_code: str, start: dt.date | None, end: dt.date | None):
        """The requester's rows: ``for_user(user, "view")`` under the area, in the period."""
        qs = self.model.objects.for_user(user, "view").under(area_code)
        if self.date_field and start:
            qs = qs.filter(**{f"{self.date_field}__date__gte": start})
        if self.date_field and end:
            qs = qs.filter(**{f"{self.date_field}__date__lte": end})
        if self.select_related:
            qs = qs.select_related(*self.select_related)
        return qs.order_by("area_code", "pk")

    def cell(self, column: Column, obj, plain: bool) -> str:
        value = column.value(obj)
        if column.personal and not plain:
            from shequ.core import personal

            kind = personal.fields_of(self.model)[column.personal].kind
            return mask_for_export(kind, value)
        return _text(value)


def _attr(name: str) -> Callable:
    return lambda obj: getattr(obj, name)


def _code(path: str) -> Callable:
    def get(obj):
        for part in path.split("."):
            obj = getattr(obj, part, None)
            if obj is None:
                return ""
        return obj

    return get


PERSONS = Dataset(
    key="persons",
    label=_("Persons (population roll)"),
    description=_("The persons on the roll under the area, as they are when produced."),
    model_label="people.person",
    app="shequ.people",
    reveal_perm="people.reveal_person",
    select_related=("household", "dwelling"),
    columns=(
        Column("id", _("Person id"), _attr("pk")),
        Column("area_code", _("Area code"), _attr("area_code")),
        Column("name", _("Name"), _attr("name"), personal="name"),
        Column("sex", _("Sex"), _attr("sex")),
        Column("birth_date", _("Birth date"), _attr("birth_date"), personal="birth_date"),
        Column("id_type", _("ID type"), _attr("id_type")),
        Column("id_number", _("ID number"), _attr("id_number"), personal="id_number"),
        Column("phone", _("Phone"), _attr("phone"), personal="phone"),
        Column("resident_type", _("Resident type"), _attr("resident_type")),
        Column("nationality", _("Nationality"), _attr("nationality")),
        Column("ethnicity", _("Ethnicity"), _attr("ethnicity")),
        Column("household_number", _("Household number"), _code("household.number")),
        Column("relation", _("Relation to head"), _attr("relation")),
        Column("dwelling", _("Dwelling code"), _code("dwelling.code")),
    ),
)

CASES = Dataset(
    key="cases",
    label=_("Requests (cases)"),
    description=_("Requests received in the period whose area lies under the area."),
    model_label="cases.case",
    app="shequ.cases",
    reveal_perm="cases.reveal_case",
    date_field="created_at",
    select_related=("category", "department"),
    columns=(
        Column("number", _("Case number"), _attr("number")),
        Column("created_at", _("Received at"), _attr("created_at")),
        Column("area_code", _("Area code"), _attr("area_code")),
        Column("category", _("Category code"), _code("category.code")),
        Column("channel", _("Channel"), _attr("channel")),
        Column("case_type", _("Case type"), _attr("case_type")),
        Column("state", _("State"), _attr("state")),
        Column("outcome", _("Outcome"), _attr("outcome")),
        Column("department", _("Department code"), _code("department.code")),
        Column("title", _("Title"), _attr("title")),
        Column("address", _("Address"), _attr("address")),
        Column("closed_at", _("Closed at"), _attr("closed_at")),
        Column("satisfaction", _("Satisfaction"), _attr("satisfaction")),
        Column("reporter_name", _("Reporter name"), _attr("reporter_name"), "reporter_name"),
        Column("reporter_phone", _("Reporter phone"), _attr("reporter_phone"), "reporter_phone"),
        Column("reporter_email", _("Reporter email"), _attr("reporter_email"), "reporter_email"),
    ),
)

VISITS = Dataset(
    key="visits",
    label=_("Screening visits"),
    description=_(
        "Door-to-door visits recorded in the period under the area; the health answers are "
        "plain only for a requester who may reveal the residents' data there."
    ),
    model_label="campaigns.visit",
    app="shequ.campaigns",
    reveal_perm="people.reveal_person",
    date_field="visited_at",
    select_related=("round__campaign", "task__dwelling", "worker"),
    columns=(
        Column("visit", _("Visit id"), _attr("uuid")),
        Column("campaign", _("Campaign"), _code("round.campaign.name")),
        Column("round", _("Round"), _code("round.number")),
        Column("area_code", _("Area code"), _attr("area_code")),
        Column("dwelling", _("Dwelling code"), _code("task.dwelling.code")),
        Column("outcome", _("Visit outcome"), _attr("outcome")),
        Column("visited_at", _("Visited at"), _attr("visited_at")),
        Column("worker", _("Worker"), _code("worker.username")),
        Column("residents", _("Residents confirmed"), lambda v: len(v.residents or [])),
        Column("answers", _("Answers"), _attr("answers"), personal="answers"),
    ),
)

DATASETS: dict[str, Dataset] = {d.key: d for d in (PERSONS, CASES, VISITS)}


def available() -> list[Dataset]:
    return [d for d in DATASETS.values() if d.available()]


def get(key: str) -> Dataset | None:
    dataset = DATASETS.get(key)
    return dataset if dataset is not None and dataset.available() else None

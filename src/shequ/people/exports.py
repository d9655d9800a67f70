"""Masked CSV export of the persons under an area (streamed; UTF-8 with BOM for Excel).

Only through ``Person.objects.for_user(user, "export")``: no export permission anywhere -> 403;
an area outside the user's export scope (or no such area) -> 404. ID numbers and phones go
out masked, as everywhere else; the plain values are for ``personal.reveal`` only.
"""

import csv

from django.apps import apps
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, StreamingHttpResponse

from shequ.core import personal
from shequ.core.scoping import code_in_scope

from .models import Person

BOM = "\ufeff"
CHUNK_SIZE = 2000

# (header, value) pairs; the header row is the field names, the same in every language.
COLUMNS = [
    ("id", lambda p: p.pk),
    ("area_code", lambda p: p.area_code),
    ("name", lambda p: p.name),
    ("name_latin", lambda p: p.name_latin),
    ("sex", lambda p: p.sex),
    ("birth_date", lambda p: p.birth_date.isoformat() if p.birth_date else ""),
    ("id_type", lambda p: p.id_type),
    ("id_number", lambda p: personal.display(p, "id_number")),
    ("phone", lambda p: personal.display(p, "phone")),
    ("resident_type", lambda p: p.resident_type),
    ("nationality", lambda p: p.nationality),
    ("ethnicity", lambda p: p.ethnicity),
    ("household_number", lambda p: p.household.number if p.household_id else ""),
    ("relation", lambda p: p.relation),
    ("dwelling", lambda p: p.dwelling.code if p.dwelling_id else ""),
]

# A cell that starts like a formula is run by spreadsheets (CSV injection): quote it.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


class _Echo:
    """A file-like object whose ``write`` hands the line back (the csv module's streaming)."""

    def write(self, value):
        return value


def _rows(persons):
    writer = csv.writer(_Echo())
    yield BOM + writer.writerow([header for header, _value in COLUMNS])
    for person in persons.iterator(chunk_size=CHUNK_SIZE):
        yield writer.writerow([_cell(value(person)) for _header, value in COLUMNS])


@login_required
def persons_csv(request, area_code: str):
    if not Person.user_may(request.user, "export"):
        raise PermissionDenied
    Area = apps.get_model("areas", "Area")
    if not code_in_scope(request.user, Person.perm("export"), area_code) or not (
        Area.objects.filter(code=area_code).exists()
    ):
        raise Http404
    persons = (
        Person.objects.for_user(request.user, "export")
        .under(area_code)
        .select_related("household", "dwelling")
        .order_by("area_code", "id")
    )
    response = StreamingHttpResponse(_rows(persons), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="persons-{area_code}.csv"'
    return response

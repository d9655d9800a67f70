import datetime as dt

import django_filters
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shequ.core.api.filters import (
    CodeFilter,
    IntegerFilter,
    OrderingFilter,
    UnderFilter,
    contains_any,
)

from ..choices import ResidenceKind, ResidentType, Sex
from ..models import Batch, BatchStatus, Household, Person, Residence

MAX_AGE = 150


def years_before(day: dt.date, years: int) -> dt.date:
    """The same day ``years`` earlier (29 February becomes 28 February)."""
    year = day.year - years
    try:
        return day.replace(year=year)
    except ValueError:
        return day.replace(year=year, day=28)


class PersonFilterSet(django_filters.FilterSet):
    resident_type = django_filters.ChoiceFilter(choices=ResidentType.choices)
    sex = django_filters.ChoiceFilter(choices=Sex.choices, help_text=_("GB/T 2261.1 code."))
    under = UnderFilter()
    household = IntegerFilter(field_name="household_id", help_text=_("Household id."))
    household_number = django_filters.CharFilter(field_name="household__number", max_length=32)
    dwelling = CodeFilter(field_name="dwelling__code", help_text=_("Code of the dwelling."))
    name = django_filters.CharFilter(
        method="filter_name",
        max_length=100,
        help_text=_("Part of the name (Chinese or Latin script)."),
    )
    birth_year_min = IntegerFilter(method="filter_birth_year_min", min_value=1800, max_value=2200)
    birth_year_max = IntegerFilter(method="filter_birth_year_max", min_value=1800, max_value=2200)
    age_min = IntegerFilter(
        method="filter_age_min", min_value=0, max_value=MAX_AGE, help_text=_("Age today, at least.")
    )
    age_max = IntegerFilter(
        method="filter_age_max", min_value=0, max_value=MAX_AGE, help_text=_("Age today, at most.")
    )
    ordering = OrderingFilter(fields=("id", "name", "birth_date", "area_code", "resident_type"))

    class Meta:
        model = Person
        fields = ["resident_type", "sex", "under", "household", "household_number", "dwelling"]

    def filter_name(self, queryset, name, value: str):
        return contains_any(queryset, ["name", "name_latin"], value)

    def filter_birth_year_min(self, queryset, name, value: int):
        return queryset.filter(birth_date__gte=dt.date(value, 1, 1))

    def filter_birth_year_max(self, queryset, name, value: int):
        return queryset.filter(birth_date__lte=dt.date(value, 12, 31))

    def filter_age_min(self, queryset, name, value: int):
        # At least N years old today: born on or before this day N years ago.
        return queryset.filter(birth_date__lte=years_before(timezone.localdate(), value))

    def filter_age_max(self, queryset, name, value: int):
        # At most N years old today: born after this day N + 1 years ago.
        return queryset.filter(birth_date__gt=years_before(timezone.localdate(), value + 1))


class HouseholdFilterSet(django_filters.FilterSet):
    under = UnderFilter()
    dwelling = CodeFilter(field_name="dwelling__code", help_text=_("Code of the dwelling."))
    ordering = OrderingFilter(fields=("number", "area_code"))

    class Meta:
        model = Household
        fields = ["under", "dwelling"]


class ResidenceFilterSet(django_filters.FilterSet):
    under = UnderFilter()
    person = IntegerFilter(field_name="person_id", help_text=_("Person id."))
    dwelling = CodeFilter(field_name="dwelling__code", help_text=_("Code of the dwelling."))
    kind = django_filters.ChoiceFilter(choices=ResidenceKind.choices)
    ordering = OrderingFilter(fields=("id", "start", "end", "area_code"))

    class Meta:
        model = Residence
        fields = ["under", "person", "dwelling", "kind"]


class BatchFilterSet(django_filters.FilterSet):
    under = UnderFilter()
    source = django_filters.CharFilter(field_name="source__code", max_length=64)
    status = django_filters.ChoiceFilter(choices=BatchStatus.choices)
    ordering = OrderingFilter(fields=("id", "created_at", "area_code"))

    class Meta:
        model = Batch
        fields = ["under", "source", "status"]

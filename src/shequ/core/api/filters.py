"""Filters shared by the API's FilterSets: area-code filters validated before they reach SQL."""

import datetime as dt

import django_filters
from django import forms
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError

from shequ.core.models import validate_area_code

CODE_MAX_LENGTH = 60


class CodeFilter(django_filters.CharFilter):
    """An exact area or place code (letters and digits only; anything else is a 400)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", CODE_MAX_LENGTH)
        kwargs.setdefault("validators", [validate_area_code])
        super().__init__(*args, **kwargs)


class UnderFilter(CodeFilter):
    """Everything under an area: a prefix match on the model's scope field (one indexed
    ``LIKE 'X%'``). It narrows the caller's scope and never widens it."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "help_text",
            _("Only rows under this area (or place) code: a prefix match, e.g. 510104001."),
        )
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value in ([], (), {}, "", None):
            return qs
        return qs.filter(**{f"{qs.model.scope_field}__startswith": value})


@extend_schema_field(OpenApiTypes.INT)
class IntegerFilter(django_filters.NumberFilter):
    """A whole number (``NumberFilter`` would accept 1990.5)."""

    field_class = forms.IntegerField


class UtcIsoDateTimeField(django_filters.fields.IsoDateTimeField):
    def to_python(self, value):
        value = super().to_python(value)
        if value is not None and value.tzinfo is not None:
            try:
                value = value.astimezone(dt.UTC)
            except OverflowError as exc:  # its UTC time falls outside years 1–9999
                raise forms.ValidationError(
                    _("Date and time out of range."), code="invalid"
                ) from exc
        return value


class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 date-time, compared in UTC. The offset a client sends may be any that ISO
    allows (say +22:16); PostgreSQL refuses offsets beyond ±15:59, so the value goes to the
    database in UTC; a time whose UTC falls outside years 1–9999 is a 400 naming the
    parameter."""

    field_class = UtcIsoDateTimeField


def contains_any(queryset, fields, value: str):
    """Rows where one of ``fields`` contains ``value``, ignoring case, on both databases.

    ``icontains`` is not enough: the SQLite connection runs ``PRAGMA case_sensitive_like=ON``
    (so that prefix ``LIKE`` uses the code indexes), which makes ``icontains`` case-sensitive.
    """
    needle = value.lower()
    annotations = {f"_lower_{field}": Lower(field) for field in fields}
    q = Q()
    for alias in annotations:
        q |= Q(**{f"{alias}__contains": needle})
    return queryset.alias(**annotations).filter(q)


class OrderingFilter(django_filters.OrderingFilter):
    """django-filter's ordering filter with labels that stay lazy.

    The stock filter formats its "(descending)" labels when the FilterSet class is built, in
    whatever language is active at import: the schema and the forms would then depend on it.
    """

    def build_choices(self, fields, labels):
        choices = super().build_choices(fields, labels)
        lazy_label = lazy(lambda label: str(self.descending_fmt) % label, str)
        ascending = dict(choices[::2])
        return [
            (value, lazy_label(ascending[value[1:]]) if value.startswith("-") else label)
            for value, label in choices
        ]


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, refusing (400, naming the parameter) what it would quietly
    ignore: a typed filter (number, date, boolean, choice, ordering …) given an empty value or
    a value of another type, and a single-valued filter given more than once.

    Without this ``?overdue=null`` or ``?status=`` answer as if the filter had not been asked
    for, and a client's typo silently widens what it gets. Free-text filters keep
    django-filter's convention: an empty value means no filter.
    """

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is not None:
            check_query(filterset.filters, request.query_params)
        return filterset


BOOLEAN_VALUES = ("true", "false")


def check_query(filters, params) -> None:
    errors = {}
    for name, flt in filters.items():
        values = params.getlist(name)
        if not values:
            continue
        if len(values) > 1 and not isinstance(flt, django_filters.MultipleChoiceFilter):
            errors[name] = [_("Give this filter once.")]
        elif "" in values and flt.field_class is not forms.CharField:
            errors[name] = [_("This filter needs a value; leave it out to not filter.")]
        elif isinstance(flt, django_filters.filters.BaseCSVFilter) and "" in values[0].split(","):
            errors[name] = [_("A list of values separated by commas, without empty ones.")]
        elif isinstance(flt, django_filters.BooleanFilter) and values[0] not in BOOLEAN_VALUES:
            errors[name] = [_("Give true or false.")]
    if errors:
        raise ValidationError(errors)

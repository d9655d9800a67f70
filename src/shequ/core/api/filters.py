"""Filters shared by the API's FilterSets: area-code filters validated before they reach SQL."""

import django_filters
from django import forms
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

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

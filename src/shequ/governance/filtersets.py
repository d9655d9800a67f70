"""Filters of the audit trail, shared by the steward's page, its CSV and the API."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from shequ.core import personal
from shequ.core.api.filters import UnderFilter

from .models import AuditEvent, AuditKind, ExportRequest, ExportStatus

OTHER_TYPES = ("core.user", "people.batch", "governance.exportrequest")


def object_types() -> list[tuple[str, str]]:
    labels = sorted({*personal.REGISTRY, *OTHER_TYPES})
    return [(label, label) for label in labels]


class AuditEventFilterSet(django_filters.FilterSet):
    actor = django_filters.CharFilter(
        field_name="actor_label",
        max_length=150,
        label=_("By"),
        help_text=_("User name (or command) of who acted, exactly."),
    )
    kind = django_filters.MultipleChoiceFilter(choices=AuditKind.choices, label=_("Kind"))
    object_type = django_filters.ChoiceFilter(
        choices=object_types, label=_("Object type"), help_text=_("e.g. people.person")
    )
    object_id = django_filters.CharFilter(max_length=64, label=_("Object id"))
    under = UnderFilter(label=_("Area"))
    after = django_filters.DateFilter(
        field_name="at", lookup_expr="date__gte", label=_("From"), help_text=_("YYYY-MM-DD")
    )
    before = django_filters.DateFilter(
        field_name="at", lookup_expr="date__lte", label=_("To"), help_text=_("YYYY-MM-DD")
    )

    class Meta:
        model = AuditEvent
        fields = ["actor", "kind", "object_type", "object_id", "under", "after", "before"]


class ExportRequestFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=ExportStatus.choices)
    under = UnderFilter()
    mine = django_filters.BooleanFilter(
        method="filter_mine", help_text=_("Only the requests you made.")
    )

    class Meta:
        model = ExportRequest
        fields = ["status", "under", "mine"]

    def filter_mine(self, queryset, name, value):
        if value is None:
            return queryset
        user = getattr(self.request, "user", None)
        return queryset.filter(requester=user) if value else queryset.exclude(requester=user)

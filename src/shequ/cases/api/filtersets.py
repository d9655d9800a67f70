import django_filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shequ.core.api.filters import IsoDateTimeFilter, OrderingFilter, UnderFilter, contains_any

from ..models import Case, CaseType, Channel
from ..workflow import OPEN_STATES, TIMED_STATES, State


class CaseFilterSet(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(choices=State.choices)
    open = django_filters.BooleanFilter(method="filter_open", help_text=_("Only open cases."))
    overdue = django_filters.BooleanFilter(
        method="filter_overdue", help_text=_("Open cases past their deadline.")
    )
    department = django_filters.CharFilter(
        field_name="department__code", help_text=_("Department code.")
    )
    category = django_filters.CharFilter(
        method="filter_category", help_text=_("Category code; includes its sub-categories.")
    )
    channel = django_filters.ChoiceFilter(choices=Channel.choices)
    case_type = django_filters.ChoiceFilter(choices=CaseType.choices)
    under = UnderFilter()
    created_after = IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    q = django_filters.CharFilter(
        method="filter_q", help_text=_("Case number, or part of the title or address.")
    )
    ordering = OrderingFilter(fields=("created_at", "resolve_by", "number", "state"))

    class Meta:
        model = Case
        fields = ["state", "department", "category", "channel", "case_type", "under"]

    def filter_open(self, queryset, name, value):
        if value is None:
            return queryset
        return (
            queryset.filter(state__in=OPEN_STATES)
            if value
            else queryset.exclude(state__in=OPEN_STATES)
        )

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        q = Q(state__in=TIMED_STATES, resolve_by__lt=timezone.now())
        return queryset.filter(q) if value else queryset.exclude(q)

    def filter_category(self, queryset, name, value):
        return queryset.filter(Q(category__code=value) | Q(category__code__startswith=f"{value}."))

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if value.upper().startswith("SQ"):
            return queryset.filter(number=value.upper())
        return contains_any(queryset, ["title", "address"], value)

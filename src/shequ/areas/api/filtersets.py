import django_filters
from django.utils.translation import gettext_lazy as _

from shequ.core.api.filters import CodeFilter, OrderingFilter, UnderFilter, contains_any

from ..models import Area, CompoundType, Facility, FacilityKind, Level, Place, PlaceKind


class AreaFilterSet(django_filters.FilterSet):
    level = django_filters.ChoiceFilter(choices=Level.choices)
    parent = CodeFilter(field_name="parent__code", help_text=_("Code of the parent area."))
    under = UnderFilter()
    name = django_filters.CharFilter(
        method="filter_name", help_text=_("Part of the Chinese or English name.")
    )
    ordering = OrderingFilter(fields=("code", "name", "level"))

    class Meta:
        model = Area
        fields = ["level", "parent", "under", "name"]

    def filter_name(self, queryset, name, value: str):
        return contains_any(queryset, ["name", "name_en"], value)


class PlaceFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=PlaceKind.choices)
    parent = CodeFilter(field_name="parent__code", help_text=_("Code of the enclosing place."))
    under = UnderFilter()
    compound_type = django_filters.ChoiceFilter(choices=CompoundType.choices)
    ordering = OrderingFilter(fields=("code", "name", "kind", "floor"))

    class Meta:
        model = Place
        fields = ["kind", "parent", "under", "compound_type"]


class FacilityFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=FacilityKind.choices)
    under = UnderFilter()
    ordering = OrderingFilter(fields=("code", "name", "kind"))

    class Meta:
        model = Facility
        fields = ["kind", "under"]

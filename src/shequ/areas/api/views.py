from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from shequ.core.api.base import ScopedReadOnlyViewSet

from ..models import Area, Facility, Place
from .filtersets import AreaFilterSet, FacilityFilterSet, PlaceFilterSet
from .serializers import AreaSerializer, FacilitySerializer, PlaceSerializer

CODE_REGEX = "[A-Za-z0-9]+"

GEOMETRY_PARAMETER = OpenApiParameter(
    "geometry",
    OpenApiTypes.BOOL,
    description=_("Include each boundary (GeoJSON) in the list; details always include it."),
)


class GeometryViewMixin:
    """Lists stay light: boundaries only in detail, or in lists with ``?geometry=1``."""

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["geometry"] = self.action != "list" or self._geometry_requested()
        return context

    def _geometry_requested(self) -> bool:
        raw = self.request.query_params.get("geometry")
        if raw in (None, ""):
            return False
        try:
            return serializers.BooleanField().to_internal_value(raw)
        except serializers.ValidationError as exc:
            raise ValidationError({"geometry": exc.detail}) from exc


@extend_schema_view(
    list=extend_schema(summary=_("List areas"), parameters=[GEOMETRY_PARAMETER]),
    retrieve=extend_schema(summary=_("An area")),
)
class AreaViewSet(GeometryViewMixin, ScopedReadOnlyViewSet):
    """The governance tree (city › district › street › community › grid) within your scope."""

    queryset = Area.objects.select_related("parent")
    serializer_class = AreaSerializer
    filterset_class = AreaFilterSet
    lookup_field = "code"
    lookup_value_regex = CODE_REGEX


@extend_schema_view(
    list=extend_schema(summary=_("List places"), parameters=[GEOMETRY_PARAMETER]),
    retrieve=extend_schema(summary=_("A place")),
)
class PlaceViewSet(GeometryViewMixin, ScopedReadOnlyViewSet):
    """Compounds, buildings, units and dwellings within your scope."""

    queryset = Place.objects.select_related("parent")
    serializer_class = PlaceSerializer
    filterset_class = PlaceFilterSet
    lookup_field = "code"
    lookup_value_regex = CODE_REGEX


@extend_schema_view(
    list=extend_schema(summary=_("List facilities")),
    retrieve=extend_schema(summary=_("A facility")),
)
class FacilityViewSet(ScopedReadOnlyViewSet):
    """Public facilities (health centres, schools, parks ...) within your scope."""

    queryset = Facility.objects.all()
    serializer_class = FacilitySerializer
    filterset_class = FacilityFilterSet
    lookup_field = "code"
    lookup_value_regex = CODE_REGEX

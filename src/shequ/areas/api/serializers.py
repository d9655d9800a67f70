from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..models import Area, CompoundType, Facility, Place

GEOJSON_GEOMETRY = {
    "type": "object",
    "nullable": True,
    "description": "GeoJSON geometry (WGS84). In lists only with `?geometry=1`.",
    "properties": {
        "type": {"type": "string", "example": "Polygon"},
        "coordinates": {"type": "array", "items": {}},
    },
}


@extend_schema_field(GEOJSON_GEOMETRY)
class GeometryField(serializers.JSONField):
    """A boundary: in detail, and in lists only when asked for (``?geometry=1``)."""

    def __init__(self, **kwargs):
        # Not read-only in the schema's sense: read-only fields are always "required" in
        # responses, and the boundary is left out of plain lists.
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)


class GeometryMixin:
    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not self.context.get("geometry", True):
            data.pop("boundary", None)
        return data


class AreaSerializer(GeometryMixin, serializers.ModelSerializer):
    parent = serializers.CharField(
        source="parent.code",
        read_only=True,
        allow_null=True,
        help_text=_("Code of the parent area; null for the root."),
    )
    boundary = GeometryField()

    class Meta:
        model = Area
        fields = [
            "code",
            "name",
            "name_en",
            "level",
            "parent",
            "ext_code",
            "kind",
            "lat",
            "lng",
            "boundary",
        ]
        read_only_fields = [f for f in fields if f != "boundary"]


class PlaceSerializer(GeometryMixin, serializers.ModelSerializer):
    parent = serializers.CharField(
        source="parent.code",
        read_only=True,
        allow_null=True,
        help_text=_("Code of the enclosing place (a compound has none)."),
    )
    compound_type = serializers.ChoiceField(
        choices=CompoundType.choices, allow_blank=True, read_only=True
    )
    boundary = GeometryField()

    class Meta:
        model = Place
        fields = [
            "code",
            "kind",
            "name",
            "name_en",
            "parent",
            "area_code",
            "ext_code",
            "compound_type",
            "address",
            "managed",
            "floor",
            "lat",
            "lng",
            "boundary",
        ]
        read_only_fields = [f for f in fields if f != "boundary"]


class FacilitySerializer(serializers.ModelSerializer):
    class Meta:
        model = Facility
        fields = [
            "code",
            "kind",
            "name",
            "name_en",
            "area_code",
            "address",
            "capacity",
            "lat",
            "lng",
        ]
        read_only_fields = fields

"""The shape of the dashboard JSON, for the OpenAPI schema (the view returns ``data.dashboard``)."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers


class CrumbSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    url = serializers.CharField(allow_null=True)
    current = serializers.BooleanField()


class ChildSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    level = serializers.CharField()
    url = serializers.CharField()
    lat = serializers.FloatField(allow_null=True)
    lng = serializers.FloatField(allow_null=True)


class IndicatorSerializer(serializers.Serializer):
    key = serializers.CharField(help_text=_("e.g. pop.residents, pop.pyramid, req.trend"))
    label = serializers.CharField()
    definition = serializers.CharField()
    chart = serializers.CharField(help_text=_("number, rate, pie, bar, pyramid, line, table, time"))
    personal = serializers.BooleanField(
        help_text=_("Counts people: values below 5 are null for some roles.")
    )
    value = serializers.FloatField(required=False, allow_null=True)
    items = serializers.ListField(child=serializers.DictField(), required=False)
    points = serializers.ListField(child=serializers.ListField(), required=False)
    bands = serializers.ListField(child=serializers.CharField(), required=False)
    male = serializers.ListField(child=serializers.IntegerField(allow_null=True), required=False)
    female = serializers.ListField(child=serializers.IntegerField(allow_null=True), required=False)
    columns = serializers.ListField(child=serializers.CharField(), required=False)
    rows = serializers.ListField(child=serializers.ListField(), required=False)
    lines = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        help_text=_("Several series of one line chart: [{name, points}]"),
    )
    daily = serializers.BooleanField(required=False, help_text=_("Points are days, not months."))
    numerator = serializers.IntegerField(required=False, allow_null=True)
    denominator = serializers.IntegerField(
        required=False, allow_null=True, help_text=_("A rate's denominator this month.")
    )
    previous = serializers.FloatField(
        required=False, allow_null=True, help_text=_("A rate's value the month before.")
    )


class SectionSerializer(serializers.Serializer):
    module = serializers.CharField(help_text=_("population, facilities, requests, screening"))
    label = serializers.CharField()
    rebuilt_at = serializers.DateTimeField(allow_null=True)
    as_of = serializers.DateField(allow_null=True)
    indicators = IndicatorSerializer(many=True)


class MetricSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    definition = serializers.CharField()
    values = serializers.DictField(
        child=serializers.FloatField(allow_null=True), help_text=_("child code -> number")
    )


class MapSerializer(serializers.Serializer):
    outline = serializers.JSONField(allow_null=True)
    children = serializers.JSONField(help_text=_("GeoJSON FeatureCollection of the children"))
    center = serializers.ListField(child=serializers.FloatField(), allow_null=True)
    metrics = MetricSerializer(many=True)
    facilities = serializers.ListField(child=serializers.DictField())
    points = serializers.ListField(
        child=serializers.DictField(),
        help_text=_("Open requests the caller may see: number, category, lat, lng, overdue."),
    )
    hot_spots = serializers.ListField(
        child=serializers.DictField(),
        help_text=_("Compounds with the most open requests: code, name, lat, lng, value, url."),
    )


class DashboardSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    level = serializers.CharField(help_text=_("city, district, street, community, grid, compound"))
    level_label = serializers.CharField()
    child_level = serializers.CharField(allow_null=True)
    today = serializers.DateField()
    suppressed = serializers.BooleanField(
        help_text=_("Whether counts of people below 5 are hidden for this caller.")
    )
    crumbs = CrumbSerializer(many=True)
    children = ChildSerializer(many=True)
    sections = SectionSerializer(many=True)
    map = MapSerializer()

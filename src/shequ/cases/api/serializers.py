import copy

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from shequ.core.api.base import MaskedField

from ..models import Case, CaseEvent, CaseType, Channel, Satisfaction
from ..workflow import Outcome


class FieldsOnce:
    """A serializer builds its fields every time it is used: a ModelSerializer reads its model
    (2 ms of an intake's CPU for a case), and every serializer deep-copies its declared fields
    (DRF rebuilds each from its arguments: another millisecond per serializer). Build them
    once per class; each use then takes shallow copies. Binding sets a copy's own name,
    parent, label and source; nothing else of a plain field changes per use (its validators
    and choices are read, never changed). Nested serializers and related fields carry more
    state and are refused here."""

    def get_fields(self):
        cls = type(self)
        built = cls.__dict__.get("_fields_once")
        if built is None:
            built = super().get_fields()
            stateful = (
                serializers.BaseSerializer | serializers.RelatedField | serializers.ManyRelatedField
            )
            nested = [name for name, f in built.items() if isinstance(f, stateful)]
            assert not nested, f"{cls.__name__}: nested or related fields {nested}"
            cls._fields_once = built
        return {name: copy.copy(field) for name, field in built.items()}


class CaseSerializer(FieldsOnce, serializers.ModelSerializer):
    """A resident request: where it stands, who handles it, its deadlines. The reporter's
    contact is masked."""

    category = serializers.CharField(source="category.code", read_only=True, allow_null=True)
    suggested_category = serializers.CharField(
        source="suggested_category.code", read_only=True, allow_null=True
    )
    department = serializers.CharField(source="department.code", read_only=True, allow_null=True)
    place = serializers.CharField(source="place.code", read_only=True, allow_null=True)
    master = serializers.CharField(
        source="master.number",
        read_only=True,
        allow_null=True,
        help_text=_("The case this one was merged into (the same incident)."),
    )
    reporter_name = MaskedField()
    reporter_phone = MaskedField()
    reporter_email = MaskedField()
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = [
            "number",
            "title",
            "text",
            "category",
            "suggested_category",
            "confidence",
            "channel",
            "source_ref",
            "case_type",
            "state",
            "outcome",
            "department",
            "area_code",
            "lat",
            "lng",
            "address",
            "place",
            "reporter_name",
            "reporter_phone",
            "reporter_email",
            "created_at",
            "respond_by",
            "resolve_by",
            "extended_days",
            "responded_at",
            "closed_at",
            "master",
            "satisfaction",
            "overdue",
        ]
        read_only_fields = fields

    def get_overdue(self, obj) -> bool:
        return obj.is_overdue()


class CaseCreateSerializer(FieldsOnce, serializers.Serializer):
    """A new request: what is wrong, where (a point, an address or an area code), and
    optionally its category and how to reach the reporter."""

    text = serializers.CharField(max_length=4000)
    title = serializers.CharField(max_length=120, required=False, allow_blank=True)
    category = serializers.CharField(max_length=40, required=False, allow_blank=True)
    case_type = serializers.ChoiceField(choices=CaseType.choices, default=CaseType.PROMISED)
    channel = serializers.ChoiceField(
        choices=[c for c in Channel.choices if c[0] in ("api", "hotline", "patrol", "module")],
        default=Channel.API,
    )
    source_ref = serializers.CharField(max_length=120, required=False, allow_blank=True)
    lat = serializers.FloatField(required=False, allow_null=True, min_value=-90, max_value=90)
    lng = serializers.FloatField(required=False, allow_null=True, min_value=-180, max_value=180)
    address = serializers.CharField(max_length=200, required=False, allow_blank=True)
    area_code = serializers.CharField(max_length=40, required=False, allow_blank=True)
    reporter_name = serializers.CharField(max_length=60, required=False, allow_blank=True)
    reporter_phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    reporter_email = serializers.EmailField(required=False, allow_blank=True)


class MoveSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    department = serializers.CharField(
        required=False, allow_blank=True, help_text=_("dispatch: department code (override).")
    )
    outcome = serializers.ChoiceField(
        choices=Outcome.choices, required=False, help_text=_("close: the outcome.")
    )
    satisfaction = serializers.ChoiceField(
        choices=Satisfaction.choices, required=False, help_text=_("evaluate: the rating.")
    )
    master = serializers.CharField(
        required=False, allow_blank=True, help_text=_("merge: number of the case to merge into.")
    )


class CaseEventSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()
    from_state = serializers.CharField(read_only=True, help_text=_("A case state, or empty."))
    to_state = serializers.CharField(read_only=True, help_text=_("A case state, or empty."))
    department = serializers.CharField(source="department.code", read_only=True, allow_null=True)

    class Meta:
        model = CaseEvent
        fields = ["at", "kind", "move", "from_state", "to_state", "actor", "note", "department"]
        read_only_fields = fields

    def get_actor(self, obj) -> str:
        return obj.actor.username if obj.actor_id else obj.actor_label

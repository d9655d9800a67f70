from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from shequ.core import personal
from shequ.core.api.base import MaskedField, StrictCharField

from ..choices import Relation
from ..models import Batch, Household, Person, Residence

# The same words as shequ.core.personal.reveal uses when it refuses (one translation).
REASON_MESSAGE = _("A reveal needs a reason (at least 4 characters).")
REASON_MIN_LENGTH = 4
# The fields a reveal may ask for (named RevealFieldEnum in the schema: ENUM_NAME_OVERRIDES).
REVEAL_FIELD_CHOICES = personal.revealable_fields(Person)


class PersonSerializer(serializers.ModelSerializer):
    id_number = MaskedField(help_text=_("Masked, e.g. 5101***********23X. See reveal."))
    phone = MaskedField(help_text=_("Masked, e.g. 138****5678. See reveal."))
    age = serializers.IntegerField(read_only=True, allow_null=True)
    household_number = serializers.CharField(
        source="household.number", read_only=True, allow_null=True
    )
    dwelling = serializers.CharField(
        source="dwelling.code",
        read_only=True,
        allow_null=True,
        help_text=_("Code of the dwelling the person lives in."),
    )
    # Declared so that the schema admits the blank value (GB/T 4761 code or "").
    relation = serializers.ChoiceField(choices=Relation.choices, allow_blank=True, read_only=True)

    class Meta:
        model = Person
        fields = [
            "id",
            "name",
            "name_latin",
            "sex",
            "birth_date",
            "age",
            "id_type",
            "id_number",
            "phone",
            "resident_type",
            "nationality",
            "ethnicity",
            "household",
            "household_number",
            "relation",
            "dwelling",
            "area_code",
        ]
        read_only_fields = fields


class MemberSerializer(serializers.ModelSerializer):
    """A household member in brief; the full record is at /persons/{id}/."""

    age = serializers.IntegerField(read_only=True, allow_null=True)
    relation = serializers.ChoiceField(choices=Relation.choices, allow_blank=True, read_only=True)

    class Meta:
        model = Person
        fields = ["id", "name", "sex", "age", "relation"]
        read_only_fields = fields


class HouseholdSerializer(serializers.ModelSerializer):
    dwelling = serializers.CharField(
        source="dwelling.code",
        read_only=True,
        allow_null=True,
        help_text=_("Code of the household's dwelling."),
    )
    member_count = serializers.SerializerMethodField()
    # ``visible_members``: the members the caller may view, prefetched by the viewset.
    members = MemberSerializer(source="visible_members", many=True, read_only=True)

    class Meta:
        model = Household
        fields = ["id", "number", "area_code", "dwelling", "collective", "member_count", "members"]
        read_only_fields = fields

    def get_member_count(self, obj) -> int:
        return len(obj.visible_members)


class ResidenceSerializer(serializers.ModelSerializer):
    dwelling = serializers.CharField(source="dwelling.code", read_only=True)

    class Meta:
        model = Residence
        fields = ["id", "person", "dwelling", "kind", "start", "end", "area_code"]
        read_only_fields = fields


class RevealSerializer(serializers.Serializer):
    fields = serializers.ListField(
        child=serializers.ChoiceField(choices=REVEAL_FIELD_CHOICES),
        allow_empty=False,
        help_text=_("The personal fields to show in full."),
    )
    reason = StrictCharField(
        min_length=REASON_MIN_LENGTH,
        max_length=500,
        help_text=_("Why you need the plain values; it is recorded with the access."),
        error_messages={
            "required": REASON_MESSAGE,
            "blank": REASON_MESSAGE,
            "min_length": REASON_MESSAGE,
        },
    )


class RevealResultSerializer(serializers.Serializer):
    id_number = serializers.CharField(required=False)
    phone = serializers.CharField(required=False)


class PersonSearchSerializer(serializers.Serializer):
    """Search by an exact ID number or phone: in the body of a POST, never in a URL."""

    id_number = StrictCharField(
        required=False, allow_blank=True, max_length=32, help_text=_("An exact ID number.")
    )
    phone = StrictCharField(
        required=False, allow_blank=True, max_length=20, help_text=_("An exact phone number.")
    )

    def validate(self, attrs):
        if not (attrs.get("id_number", "").strip() or attrs.get("phone", "").strip()):
            raise serializers.ValidationError(_("Give an ID number or a phone number."))
        return attrs


class BatchSerializer(serializers.ModelSerializer):
    source = serializers.CharField(source="source.code", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    created_by = serializers.CharField(
        source="created_by.username", read_only=True, allow_null=True
    )

    class Meta:
        model = Batch
        fields = [
            "id",
            "source",
            "file_name",
            "file_format",
            "sha256",
            "area_code",
            "status",
            "status_display",
            "progress",
            "message",
            "rows",
            "flagged_rows",
            "linked_records",
            "new_persons",
            "linkage_model",
            "created_by",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields


class UploadSerializer(serializers.Serializer):
    source = serializers.CharField(help_text=_("Source definition name, e.g. police_hukou."))
    file = serializers.FileField(help_text=_("CSV, XLSX or JSON Lines; header on line 1."))
    area_code = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=40,
        help_text=_("Area the list belongs to (default: your import area)."),
    )


class FlaggedRowSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    record_id = serializers.CharField()
    field = serializers.CharField()
    reason = serializers.CharField()

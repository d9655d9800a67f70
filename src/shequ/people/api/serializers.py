from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from shequ.core import personal
from shequ.core.api.base import MaskedField

from ..choices import Relation
from ..models import Household, Person, Residence

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
    reason = serializers.CharField(
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

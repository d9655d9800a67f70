from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from shequ.people.choices import Sex

from ..models import Campaign, FollowUp, Outcome, Round, Visit, VisitTask


class RoundSerializer(serializers.ModelSerializer):
    form_version = serializers.IntegerField(source="form.number", read_only=True)
    closed = serializers.SerializerMethodField()

    class Meta:
        model = Round
        fields = ["number", "start", "end", "form_version", "closed", "closed_at"]

    def get_closed(self, obj) -> bool:
        return obj.closed_at is not None


class CampaignSerializer(serializers.ModelSerializer):
    rounds = RoundSerializer(many=True, read_only=True)

    class Meta:
        model = Campaign
        fields = ["id", "name", "purpose", "area_code", "retain_days", "created_at", "rounds"]


class RoundCoverageSerializer(serializers.Serializer):
    round = serializers.IntegerField()
    start = serializers.DateField()
    end = serializers.DateField()
    closed = serializers.BooleanField()
    total = serializers.IntegerField()
    visited = serializers.IntegerField()
    new_residents = serializers.IntegerField()
    empty = serializers.IntegerField()
    not_home = serializers.IntegerField()
    refused = serializers.IntegerField()
    remaining = serializers.IntegerField(help_text=_("Dwellings not reached yet."))
    reached = serializers.IntegerField(help_text=_("Dwellings with a final outcome."))
    percent = serializers.FloatField()


class CoverageSerializer(serializers.Serializer):
    campaign = serializers.IntegerField()
    area_code = serializers.CharField()
    rounds = RoundCoverageSerializer(many=True)


class VisitTaskSerializer(serializers.ModelSerializer):
    campaign = serializers.IntegerField(source="round.campaign_id", read_only=True)
    round = serializers.IntegerField(source="round.number", read_only=True)
    dwelling = serializers.CharField(source="dwelling.code", read_only=True)

    class Meta:
        model = VisitTask
        fields = [
            "id",
            "campaign",
            "round",
            "dwelling",
            "area_code",
            "households",
            "team",
            "route_order",
            "status",
            "last_visit_at",
            "revisit_on",
        ]


class VisitSerializer(serializers.ModelSerializer):
    round = serializers.IntegerField(source="round.number", read_only=True)
    form_version = serializers.IntegerField(source="form.number", read_only=True)
    answers = serializers.JSONField(
        read_only=True, help_text=_("Answers by question id (personal: health data).")
    )

    class Meta:
        model = Visit
        fields = [
            "id",
            "uuid",
            "task",
            "round",
            "form_version",
            "area_code",
            "outcome",
            "answers",
            "revisit_on",
            "team",
            "visited_at",
            "received_at",
            "retain_until",
            "anonymised_at",
        ]


class FollowUpSerializer(serializers.ModelSerializer):
    class Meta:
        model = FollowUp
        fields = [
            "id",
            "campaign",
            "task",
            "visit",
            "area_code",
            "rule",
            "detail",
            "due",
            "status",
            "case_ref",
            "created_at",
        ]


class ResidentCheckSerializer(serializers.Serializer):
    person = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["present", "away", "moved_out", "deceased"])


class NewResidentSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    sex = serializers.ChoiceField(choices=Sex.choices, required=False, allow_blank=True)
    birth_year = serializers.IntegerField(required=False, allow_null=True)
    id_number = serializers.CharField(max_length=32, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True)


class QueuedVisitSerializer(serializers.Serializer):
    uuid = serializers.UUIDField(
        help_text=_("Made on the phone; a visit sent twice is stored once.")
    )
    task = serializers.IntegerField()
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    answers = serializers.DictField(required=False)
    residents = ResidentCheckSerializer(many=True, required=False)
    new_residents = NewResidentSerializer(many=True, required=False)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)
    revisit_on = serializers.DateField(required=False, allow_null=True)
    visited_at = serializers.DateTimeField()


class SyncRequestSerializer(serializers.Serializer):
    """The request's shape (each visit is then checked on its own: see the results)."""

    visits = QueuedVisitSerializer(many=True, max_length=1000)


class SyncResultSerializer(serializers.Serializer):
    uuid = serializers.CharField()
    status = serializers.ChoiceField(choices=["created", "duplicate", "invalid"])
    errors = serializers.DictField(child=serializers.ListField(), required=False)


class SyncResponseSerializer(serializers.Serializer):
    results = SyncResultSerializer(many=True)

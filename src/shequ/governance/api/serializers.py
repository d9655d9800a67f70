from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from .. import datasets
from ..models import AuditEvent, ExportRequest
from ..services import MIN_PURPOSE, MIN_REASON


class AuditEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(
        source="actor_label",
        read_only=True,
        help_text=_('User name, "anonymous", "command:<name>" or "system".'),
    )
    changed_fields = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text=_("Names of the fields concerned, never their values."),
    )

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "at",
            "actor",
            "actor_roles",
            "kind",
            "object_type",
            "object_id",
            "area_code",
            "changed_fields",
            "reason",
            "detail",
        ]
        read_only_fields = fields


def _fields_help() -> str:
    allowed = "; ".join(
        f"{d.key}: {', '.join(d.field_names())}" for d in datasets.DATASETS.values()
    )
    return str(_("Field names of the dataset. Allowed: %(allowed)s")) % {"allowed": allowed}


class ExportRequestSerializer(serializers.ModelSerializer):
    requester = serializers.CharField(source="requester.get_username", read_only=True)
    approver = serializers.CharField(
        source="approver.get_username", read_only=True, allow_null=True, default=None
    )
    fields = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = ExportRequest
        fields = [
            "number",
            "status",
            "requester",
            "purpose",
            "recipient",
            "dataset",
            "fields",
            "area_code",
            "period_start",
            "period_end",
            "created_at",
            "approver",
            "decision_reason",
            "decided_at",
            "valid_until",
            "produced_at",
            "row_count",
            "sha256",
        ]
        read_only_fields = fields


class ExportRequestCreateSerializer(serializers.Serializer):
    dataset = serializers.ChoiceField(choices=sorted(datasets.DATASETS))
    fields = serializers.ListField(
        child=serializers.CharField(max_length=64),
        min_length=1,
        max_length=64,
        help_text=lazy(_fields_help, str)(),
    )
    area_code = serializers.RegexField(r"^[A-Za-z0-9]+$", max_length=40)
    purpose = serializers.CharField(min_length=MIN_PURPOSE, max_length=1000)
    recipient = serializers.CharField(max_length=200, required=False, allow_blank=True)
    period_start = serializers.DateField(required=False, allow_null=True)
    period_end = serializers.DateField(required=False, allow_null=True)


class DecisionSerializer(serializers.Serializer):
    reason = serializers.CharField(min_length=MIN_REASON, max_length=1000)

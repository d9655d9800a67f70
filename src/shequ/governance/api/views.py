"""The audit trail (read-only, data stewards) and export requests over the API."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, PermissionDenied, Throttled, ValidationError
from rest_framework.response import Response

from shequ.core import personal, ratelimit
from shequ.core.api.base import OTP_HEADER, OTP_HEADER_PARAMETER, ScopedReadOnlyViewSet

from .. import services
from ..filtersets import AuditEventFilterSet, ExportRequestFilterSet
from ..models import AuditEvent, ExportRequest
from ..views import export_response
from .serializers import (
    AuditEventSerializer,
    DecisionSerializer,
    ExportRequestCreateSerializer,
    ExportRequestSerializer,
)


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("Not possible in the request's present state.")
    default_code = "conflict"


def _api_error(exc):
    if isinstance(exc, DjangoValidationError):
        return ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, DjangoPermissionDenied):
        return PermissionDenied(str(exc) or None)
    if isinstance(exc, services.ExportRefused):
        return Conflict(str(exc))
    if isinstance(exc, ratelimit.RateLimited):
        return Throttled(detail=str(exc) or None)
    return exc


@extend_schema_view(
    list=extend_schema(
        summary=_("List audit events"),
        description=_(
            "Changes to personal data and decisions on it within your areas (data stewards): "
            "who, when, where, why, and the names of the fields — never their values."
        ),
    ),
    retrieve=extend_schema(summary=_("An audit event")),
)
class AuditEventViewSet(ScopedReadOnlyViewSet):
    queryset = AuditEvent.objects.all()
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilterSet

    def get_queryset(self):
        return super().get_queryset().order_by("-at", "-id")


_REFUSED = OpenApiResponse(description=_("Not possible now: the message says why."))


@extend_schema_view(
    list=extend_schema(
        summary=_("List export requests"),
        description=_(
            "Export requests within your areas: a data steward sees every request, anyone "
            "else their own."
        ),
    ),
    retrieve=extend_schema(summary=_("An export request")),
)
class ExportRequestViewSet(ScopedReadOnlyViewSet):
    queryset = ExportRequest.objects.select_related("requester", "approver")
    serializer_class = ExportRequestSerializer
    filterset_class = ExportRequestFilterSet
    lookup_field = "number"
    lookup_value_regex = "[A-Za-z0-9-]+"
    action_scopes = {"create": "add", "approve": "approve", "refuse": "approve", "produce": "view"}

    def get_queryset(self):
        return super().get_queryset().order_by("-created_at", "-id")

    @extend_schema(
        summary=_("Request an export"),
        description=_(
            "State dataset, fields, area (within your areas), period, purpose and the "
            "recipient office. A data steward of the area approves or refuses it. "
            "Rate-limited per user (429)."
        ),
        request=ExportRequestCreateSerializer,
        responses={
            201: ExportRequestSerializer,
            400: OpenApiResponse(description=_("The field at fault and why.")),
            429: OpenApiResponse(description=_("Too many export requests: try again later.")),
        },
    )
    def create(self, request):
        data = ExportRequestCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            req = services.request_export(request.user, **data.validated_data)
        except (
            DjangoValidationError,
            DjangoPermissionDenied,
            ratelimit.RateLimited,
        ) as exc:
            raise _api_error(exc) from exc
        return Response(ExportRequestSerializer(req).data, status=status.HTTP_201_CREATED)

    def _decide(self, request, approve: bool):
        req = self.get_object()
        data = DecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            req = services.decide(
                req, request.user, approve=approve, reason=data.validated_data["reason"]
            )
        except (DjangoValidationError, DjangoPermissionDenied, services.ExportRefused) as exc:
            raise _api_error(exc) from exc
        return Response(ExportRequestSerializer(req).data)

    @extend_schema(
        summary=_("Approve an export request"),
        description=_(
            "A data steward whose areas cover the request's area; never the requester. "
            "Needs a reason."
        ),
        request=DecisionSerializer,
        responses={200: ExportRequestSerializer, 409: _REFUSED},
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def approve(self, request, number=None):
        return self._decide(request, True)

    @extend_schema(
        summary=_("Refuse an export request"),
        request=DecisionSerializer,
        responses={200: ExportRequestSerializer, 409: _REFUSED},
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def refuse(self, request, number=None):
        return self._decide(request, False)

    @extend_schema(
        summary=_("Produce an approved export (once)"),
        description=_(
            "The requester only. Returns the CSV: a first line watermarked with the request "
            "number, purpose and approval, and an export_request column. Produced once: a "
            "second call answers 409. Rate-limited per user (429)."
        ),
        request=None,
        parameters=[OTP_HEADER_PARAMETER],
        responses={
            (200, "text/csv"): OpenApiTypes.BINARY,
            403: OpenApiResponse(
                description=_(
                    "Only the requester may produce the export; a file with plain personal "
                    "values also needs the X-OTP-Code header (two-factor)."
                )
            ),
            409: _REFUSED,
            429: OpenApiResponse(description=_("Too many exports: try again later.")),
        },
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def produce(self, request, number=None):
        req = self.get_object()
        try:
            result = services.produce(
                req, request.user, channel="api", otp_code=request.headers.get(OTP_HEADER)
            )
        except personal.TwoFactorRequired as exc:
            raise PermissionDenied(exc.messages[0]) from exc
        except (DjangoPermissionDenied, services.ExportRefused, ratelimit.RateLimited) as exc:
            raise _api_error(exc) from exc
        return export_response(result)

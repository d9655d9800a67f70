from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, Throttled, ValidationError
from rest_framework.response import Response

from shequ.core import personal, ratelimit
from shequ.core.api.base import OTP_HEADER, OTP_HEADER_PARAMETER, ScopedReadOnlyViewSet
from shequ.core.crypto import hash_id, hash_phone
from shequ.core.views import client_ip

from ..models import Batch, Household, Person, Residence
from .filtersets import BatchFilterSet, HouseholdFilterSet, PersonFilterSet, ResidenceFilterSet
from .serializers import (
    BatchSerializer,
    FlaggedRowSerializer,
    HouseholdSerializer,
    PersonSearchSerializer,
    PersonSerializer,
    ResidenceSerializer,
    RevealResultSerializer,
    RevealSerializer,
    UploadSerializer,
)


@extend_schema_view(
    list=extend_schema(summary=_("List persons")),
    retrieve=extend_schema(summary=_("A person")),
)
class PersonViewSet(ScopedReadOnlyViewSet):
    """Persons within your scope. ID numbers and phones are always masked; see reveal."""

    queryset = Person.objects.select_related("household", "dwelling")
    serializer_class = PersonSerializer
    filterset_class = PersonFilterSet
    # 403 without the reveal permission anywhere; the person is looked up among those the
    # user may view (404 otherwise), and personal.reveal refuses (403) where the user may view
    # the person but not reveal there.
    action_scopes = {"reveal": "reveal", "search": "view"}
    lookup_scopes = {"reveal": "view", "search": "view"}

    @extend_schema(
        summary=_("Search persons by ID number or phone"),
        description=_(
            "Exact search by ID number and/or phone, sent in the body (never in a URL). "
            "Matches by keyed hash (the values are encrypted at rest); only persons within "
            "your scope; answers masked. Rate-limited per user (429)."
        ),
        request=PersonSearchSerializer,
        responses={
            200: PersonSerializer(many=True),
            400: OpenApiResponse(description=_("Neither an ID number nor a phone.")),
            429: OpenApiResponse(description=_("Too many searches: wait a minute.")),
        },
    )
    @action(detail=False, methods=["post"], filterset_class=None, pagination_class=None)
    def search(self, request):
        if not ratelimit.allow(request.user, "search"):
            raise Throttled()
        data = PersonSearchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        queryset = self.get_queryset()
        if data.validated_data.get("id_number", "").strip():
            queryset = queryset.filter(id_number_hash=hash_id(data.validated_data["id_number"]))
        if data.validated_data.get("phone", "").strip():
            queryset = queryset.filter(phone_hash=hash_phone(data.validated_data["phone"]))
        return Response(PersonSerializer(queryset[:50], many=True).data)

    @extend_schema(
        summary=_("Reveal personal fields"),
        description=_(
            "Return the plain values of masked personal fields (ID number, phone). Needs the "
            "reveal permission at the person's area and a reason; every successful reveal is "
            "recorded (who, whom, which fields, why, when)."
        ),
        parameters=[OTP_HEADER_PARAMETER],
        request=RevealSerializer,
        responses={
            200: RevealResultSerializer,
            400: OpenApiResponse(description=_("No reason, or no or unknown fields.")),
            403: OpenApiResponse(
                description=_(
                    "Your role may not reveal personal data here, or the two-factor code is "
                    "missing or wrong."
                )
            ),
            404: OpenApiResponse(description=_("No such person within your scope.")),
        },
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def reveal(self, request, pk=None):
        person = self.get_object()
        data = RevealSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            values = personal.reveal(
                request.user,
                person,
                data.validated_data["fields"],
                data.validated_data["reason"],
                channel="api",
                ip=client_ip(request),
                otp_code=request.headers.get(OTP_HEADER),
            )
        except personal.TwoFactorRequired as exc:
            raise PermissionDenied(exc.messages[0]) from exc
        except personal.RevealThrottled as exc:
            raise Throttled(detail=exc.messages[0]) from exc
        except personal.RevealRefused as exc:
            raise ValidationError({"non_field_errors": exc.messages}) from exc
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc) or None) from exc
        response = Response(values, status=status.HTTP_200_OK)
        response["X-Personal-Data"] = "revealed"  # a reveal's answer holds plain values
        return response


@extend_schema_view(
    list=extend_schema(summary=_("List households")),
    retrieve=extend_schema(summary=_("A household")),
)
class HouseholdViewSet(ScopedReadOnlyViewSet):
    """Households within your scope, with their members in brief."""

    queryset = Household.objects.select_related("dwelling")
    serializer_class = HouseholdSerializer
    filterset_class = HouseholdFilterSet

    def get_queryset(self):
        members = Person.objects.for_user(self.request.user, "view").only(
            "id", "name", "sex", "birth_date", "relation", "household_id", "area_code"
        )
        return (
            super()
            .get_queryset()
            .prefetch_related(Prefetch("members", queryset=members, to_attr="visible_members"))
        )


@extend_schema_view(
    list=extend_schema(summary=_("List residences")),
    retrieve=extend_schema(summary=_("A residence")),
)
class ResidenceViewSet(ScopedReadOnlyViewSet):
    """Who is tied to which dwelling, and since when (registered, living, floating)."""

    queryset = Residence.objects.select_related("dwelling")
    serializer_class = ResidenceSerializer
    filterset_class = ResidenceFilterSet


@extend_schema_view(
    list=extend_schema(summary=_("List import batches")),
    retrieve=extend_schema(summary=_("An import batch: status and progress")),
)
class BatchViewSet(ScopedReadOnlyViewSet):
    """Imports of source files: provenance, status, progress and counts."""

    queryset = Batch.objects.select_related("source", "created_by")
    serializer_class = BatchSerializer
    filterset_class = BatchFilterSet
    action_scopes = {"upload": "import"}
    lookup_scopes = {"upload": "import"}

    @extend_schema(
        summary=_("Upload a source file"),
        description=_(
            "Store the file and import it in the background (poll the batch for progress). "
            "The same content of the same source again returns the earlier batch (200)."
        ),
        request={"multipart/form-data": UploadSerializer},
        responses={
            201: BatchSerializer,
            200: BatchSerializer,
            400: OpenApiResponse(description=_("Unknown source or unreadable file type.")),
            403: OpenApiResponse(description=_("Your role may not import here.")),
        },
    )
    @action(detail=False, methods=["post"], filterset_class=None, pagination_class=None)
    def upload(self, request):
        from ..ingest import IngestRefused
        from ..views import start_upload

        data = UploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            batch, created = start_upload(
                request.user,
                data.validated_data["source"],
                data.validated_data["file"],
                data.validated_data.get("area_code", ""),
            )
        except IngestRefused as exc:
            raise ValidationError({"file": [str(exc)]}) from exc
        except DjangoPermissionDenied as exc:
            raise PermissionDenied() from exc
        batch.refresh_from_db()
        return Response(
            BatchSerializer(batch).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        summary=_("Flagged rows of a batch"),
        description=_("Every problem found in the batch's rows: row, record id, field, reason."),
        responses={200: FlaggedRowSerializer(many=True)},
    )
    @action(detail=True, methods=["get"], filterset_class=None)
    def flagged(self, request, pk=None):
        from ..ingest import flagged_rows

        batch = self.get_object()
        rows = [
            {"row": r, "record_id": rid, "field": f, "reason": reason}
            for r, rid, f, reason in flagged_rows(batch)
        ]
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(FlaggedRowSerializer(page, many=True).data)

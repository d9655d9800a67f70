from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from shequ.core import personal
from shequ.core.api.base import ScopedReadOnlyViewSet
from shequ.core.views import client_ip

from ..models import Household, Person, Residence
from .filtersets import HouseholdFilterSet, PersonFilterSet, ResidenceFilterSet
from .serializers import (
    HouseholdSerializer,
    PersonSerializer,
    ResidenceSerializer,
    RevealResultSerializer,
    RevealSerializer,
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
    action_scopes = {"reveal": "reveal"}
    lookup_scopes = {"reveal": "view"}

    @extend_schema(
        summary=_("Reveal personal fields"),
        description=_(
            "Return the plain values of masked personal fields (ID number, phone). Needs the "
            "reveal permission at the person's area and a reason; every successful reveal is "
            "recorded (who, whom, which fields, why, when)."
        ),
        request=RevealSerializer,
        responses={
            200: RevealResultSerializer,
            400: OpenApiResponse(description=_("No reason, or no or unknown fields.")),
            403: OpenApiResponse(description=_("Your role may not reveal personal data here.")),
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
            )
        except personal.RevealRefused as exc:
            raise ValidationError({"non_field_errors": exc.messages}) from exc
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc) or None) from exc
        return Response(values, status=status.HTTP_200_OK)


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

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from shequ.core.api.base import ScopedReadOnlyViewSet
from shequ.core.models import validate_area_code

from .. import services
from ..models import Campaign, FollowUp, Round, Visit, VisitTask
from .filtersets import CampaignFilterSet, FollowUpFilterSet, VisitFilterSet, VisitTaskFilterSet
from .serializers import (
    CampaignSerializer,
    CoverageSerializer,
    FollowUpSerializer,
    SyncRequestSerializer,
    SyncResponseSerializer,
    VisitSerializer,
    VisitTaskSerializer,
)


@extend_schema_view(
    list=extend_schema(summary=_("List campaigns")),
    retrieve=extend_schema(summary=_("A campaign")),
)
class CampaignViewSet(ScopedReadOnlyViewSet):
    """Door-to-door screening campaigns within your scope, with their rounds."""

    queryset = Campaign.objects.prefetch_related(
        Prefetch("rounds", queryset=Round.objects.select_related("form").order_by("number"))
    )
    serializer_class = CampaignSerializer
    filterset_class = CampaignFilterSet

    @extend_schema(
        summary=_("Coverage per round"),
        description=_(
            "Dwellings visited, new residents found, empty, nobody home, refused and remaining "
            "per round, under an area of the campaign (default: the whole campaign)."
        ),
        parameters=[
            OpenApiParameter(
                "area", str, description=_("An area code under the campaign, e.g. a grid.")
            )
        ],
        responses={200: CoverageSerializer, 400: OpenApiResponse(description=_("Bad area."))},
    )
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=None)
    def coverage(self, request, pk=None):
        campaign = self.get_object()
        area = request.query_params.get("area") or campaign.area_code
        try:
            validate_area_code(area)
        except DjangoValidationError as exc:
            raise ValidationError({"area": exc.messages}) from exc
        if not (area.startswith(campaign.area_code) or campaign.area_code.startswith(area)):
            raise ValidationError({"area": [_("Not an area of this campaign.")]})
        return Response(services.coverage(campaign, area))


@extend_schema_view(
    list=extend_schema(summary=_("List visit tasks")),
    retrieve=extend_schema(summary=_("A visit task")),
)
class VisitTaskViewSet(ScopedReadOnlyViewSet):
    """One task per dwelling and round: its team, place on the route and latest outcome."""

    queryset = VisitTask.objects.select_related("round", "dwelling")
    serializer_class = VisitTaskSerializer
    filterset_class = VisitTaskFilterSet


@extend_schema_view(
    list=extend_schema(summary=_("List visits")),
    retrieve=extend_schema(summary=_("A visit")),
)
class VisitViewSet(ScopedReadOnlyViewSet):
    """Visits as recorded at the door (health answers are personal data)."""

    queryset = Visit.objects.select_related("round", "form")
    serializer_class = VisitSerializer
    filterset_class = VisitFilterSet
    action_scopes = {"sync": "visit"}

    @extend_schema(
        summary=_("Sync visits queued on a phone"),
        description=_(
            "Store a batch of visits recorded offline. Each visit carries a UUID made on the "
            "phone: a visit already stored answers 'duplicate' and changes nothing, so a batch "
            "may be sent again safely. Each visit is stored or refused on its own ('invalid', "
            "with errors by field); keep the refused ones on the phone. Needs the visit "
            "permission for the campaign."
        ),
        request=SyncRequestSerializer,
        responses={
            200: SyncResponseSerializer,
            400: OpenApiResponse(description=_("Not a batch of visits.")),
            403: OpenApiResponse(description=_("Your role may not record visits.")),
        },
    )
    @action(detail=False, methods=["post"], filterset_class=None, pagination_class=None)
    def sync(self, request):
        visits = request.data.get("visits") if isinstance(request.data, dict) else None
        if not isinstance(visits, list) or not all(isinstance(v, dict) for v in visits):
            raise ValidationError({"visits": [_("A list of visits.")]})
        try:
            results = services.sync_visits(request.user, visits)
        except DjangoValidationError as exc:
            raise ValidationError({"visits": exc.messages}) from exc
        return Response({"results": results})


@extend_schema_view(
    list=extend_schema(summary=_("List follow-ups")),
    retrieve=extend_schema(summary=_("A follow-up")),
)
class FollowUpViewSet(ScopedReadOnlyViewSet):
    """Follow-up tasks raised by answers at the door (fever, travel, elderly alone ...)."""

    queryset = FollowUp.objects.all()
    serializer_class = FollowUpSerializer
    filterset_class = FollowUpFilterSet

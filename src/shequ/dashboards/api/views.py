"""``/api/v1/dashboards/<area_code>/``: the numbers of a dashboard as JSON (rollups only)."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, permissions
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import access
from ..data import dashboard
from .serializers import DashboardSerializer


class DashboardView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        operation_id="dashboards_retrieve",
        summary=_("The dashboard of an area or compound"),
        description=_(
            "The numbers of the dashboard of one area (city, district, street, community, "
            "grid) or compound, read from the precomputed rollups: residents by type, "
            "households, age pyramid, elderly living alone, residents over time, facilities, "
            "requests and screening where those modules exist, and one number per child area "
            "for the map. Counts of people below 5 are null for roles that may not see "
            "individual people. Outside the caller's scope: 404."
        ),
        parameters=[
            OpenApiParameter(
                "area_code",
                str,
                OpenApiParameter.PATH,
                description=_("An area code (e.g. 510104001) or a compound code."),
            )
        ],
        responses={
            200: DashboardSerializer,
            403: OpenApiResponse(description=_("No permission to view dashboards.")),
            404: OpenApiResponse(description=_("No such area in the caller's scope.")),
        },
        tags=["dashboards"],
    )
    def get(self, request, area_code):
        try:
            area, place = access.resolve(request.user, area_code)
        except PermissionDenied as exc:
            raise exceptions.PermissionDenied from exc
        except Http404 as exc:
            raise exceptions.NotFound from exc
        return Response(dashboard(request.user, area=area, place=place))

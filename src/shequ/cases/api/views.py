from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.response import Response

from shequ.core.api.base import ScopedReadOnlyViewSet

from .. import services
from ..models import Case, Department
from ..similarity import similar_open_cases
from ..workflow import MOVES, IllegalMove
from .filtersets import CaseFilterSet
from .serializers import (
    CaseCreateSerializer,
    CaseEventSerializer,
    CaseSerializer,
    MoveSerializer,
)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "illegal_move"


def _drf_error(exc):
    if isinstance(exc, IllegalMove):
        return Conflict(str(exc))
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(str(exc) or None)
    return exc


def _run_move(name: str, case: Case, data: dict, user):
    note = data.get("note", "")
    if name == "dispatch":
        dept = None
        if data.get("department"):
            dept = Department.objects.filter(code=data["department"]).first()
            if dept is None:
                raise DjangoValidationError({"department": _("No department has this code.")})
        return services.dispatch_case(case, dept, acting_user=user, note=note)
    if name == "close":
        if not data.get("outcome"):
            raise DjangoValidationError({"outcome": _("Give the closing outcome.")})
        return services.close_case(case, acting_user=user, outcome=data["outcome"], note=note)
    if name == "evaluate":
        if not data.get("satisfaction"):
            raise DjangoValidationError({"satisfaction": _("Give the rating.")})
        return services.evaluate_case(
            case, acting_user=user, satisfaction=data["satisfaction"], comment=note
        )
    if name == "merge":
        master = Case.objects.for_user(user, "view").filter(number=data.get("master") or "").first()
        if master is None:
            raise DjangoValidationError({"master": _("No case with this number in your scope.")})
        return services.merge_case(case, master, acting_user=user, note=note)
    return services.MOVE_FUNCTIONS[name](case, acting_user=user, note=note)


def _move_action(name: str):
    move = MOVES[name]

    @extend_schema(
        summary=str(move.label),
        request=MoveSerializer,
        responses={200: CaseSerializer},
        description=_(
            "A workflow move. 404: not in your scope; 403: your role may not make it here; "
            "409: not allowed from the case's state; 400: missing reason or field."
        ),
    )
    def view(self, request, number=None):
        case = self.get_object()
        serializer = MoveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            case = _run_move(name, case, serializer.validated_data, request.user)
        except (IllegalMove, DjangoValidationError, DjangoPermissionDenied) as exc:
            raise _drf_error(exc) from exc
        return Response(CaseSerializer(self._fresh(case)).data)

    view.__name__ = f"move_{name}"
    return action(detail=True, methods=["post"], url_path=name, url_name=name)(view)


@extend_schema_view(
    list=extend_schema(summary=_("List cases (worklist)")),
    retrieve=extend_schema(summary=_("A case")),
)
class CaseViewSet(ScopedReadOnlyViewSet):
    """Resident requests and events within your scope; a department handler sees only their
    departments' cases. Reporter contact is masked."""

    queryset = Case.objects.select_related(
        "category", "suggested_category", "department", "place", "master"
    )
    serializer_class = CaseSerializer
    filterset_class = CaseFilterSet
    lookup_field = "number"
    lookup_value_regex = "[A-Za-z0-9]+"
    action_scopes = {"create": "add", "events": "view", "similar": "view"} | {
        f"move_{name}": move.action for name, move in MOVES.items()
    }
    lookup_scopes = {f"move_{name}": "view" for name in MOVES}

    def _fresh(self, case):
        return self.queryset.get(pk=case.pk)

    @extend_schema(
        summary=_("Take in a case"),
        request=CaseCreateSerializer,
        responses={201: CaseSerializer},
    )
    def create(self, request):
        serializer = CaseCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        try:
            case = services.create_case(acting_user=request.user, **data)
        except (DjangoValidationError, DjangoPermissionDenied) as exc:
            raise _drf_error(exc) from exc
        # The saved case as created (its related rows are loaded already): no reading back.
        return Response(CaseSerializer(case).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary=_("The case's timeline"), responses=CaseEventSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def events(self, request, number=None):
        case = self.get_object()
        events = case.events.select_related("actor", "department").order_by("at", "id")
        return Response(CaseEventSerializer(events, many=True).data)

    @extend_schema(
        summary=_("Open cases that look like the same incident"),
        responses=CaseSerializer(many=True),
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def similar(self, request, number=None):
        case = self.get_object()
        visible = set(
            Case.objects.for_user(request.user, "view")
            .filter(pk__in=[m.case.pk for m in similar_open_cases(case)])
            .values_list("pk", flat=True)
        )
        rows = [m.case for m in similar_open_cases(case) if m.case.pk in visible]
        return Response(CaseSerializer(rows, many=True).data)


for _name in MOVES:
    setattr(CaseViewSet, f"move_{_name}", _move_action(_name))
del _name

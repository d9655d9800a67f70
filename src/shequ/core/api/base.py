"""Base API classes: the viewset applies ``for_user`` and maps HTTP methods to actions.

Anonymous -> 401 (TokenAuthentication comes first, so the answer carries
``WWW-Authenticate: Token``); authenticated without the action's permission anywhere -> 403;
an object outside the caller's scope is not in the queryset -> 404, like a missing one.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema_field
from rest_framework import permissions, serializers, viewsets

from .. import personal
from ..twofactor import OTP_HEADER

# A reveal through the API sends the current TOTP code with the request (core/twofactor.py).
OTP_HEADER_PARAMETER = OpenApiParameter(
    OTP_HEADER,
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description=_(
        "The current 6-digit code of your authenticator app. A reveal needs it unless the "
        "request comes from a web session signed in with a code; each code works once."
    ),
)

METHOD_ACTIONS = {
    "GET": "view",
    "HEAD": "view",
    "OPTIONS": "view",
    "POST": "change",
    "PUT": "change",
    "PATCH": "change",
    "DELETE": "change",
}


class ScopedPermission(permissions.BasePermission):
    """Authenticated, and holding the action's permission somewhere (else 403)."""

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        return view.get_model().user_may(request.user, view.scoped_action())


class ScopedReadOnlyViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [ScopedPermission]
    # A viewset action may name the scope action it needs, e.g. {"reveal": "reveal"}: without
    # that permission anywhere the answer is 403.
    action_scopes: dict[str, str] = {}
    # The scope in which an action looks up its objects, where it differs from the action's own:
    # e.g. {"reveal": "view"} finds the person among those the user may view (404 otherwise),
    # and leaves to the action the answer for a visible object it may not act on (403).
    lookup_scopes: dict[str, str] = {}

    def get_model(self):
        return self.queryset.model

    def scoped_action(self) -> str:
        return self.action_scopes.get(self.action) or METHOD_ACTIONS.get(
            self.request.method, "change"
        )

    def lookup_action(self) -> str:
        return self.lookup_scopes.get(self.action) or self.scoped_action()

    def get_queryset(self):
        return self.queryset.for_user(self.request.user, self.lookup_action())


@extend_schema_field(serializers.CharField(allow_blank=True))
class MaskedField(serializers.Field):
    """A registered personal field, shown masked (``5101***********23X``, ``138****5678``).

    There is no way to make it show the plain value: that is ``personal.reveal`` only.
    """

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        kwargs.setdefault("source", "*")
        super().__init__(**kwargs)

    def to_representation(self, obj):
        return personal.display(obj, self.field_name)


class StrictCharField(serializers.CharField):
    """A text field that takes text only: DRF's CharField turns ``0`` or ``1.5`` into ``"0"``
    and ``"1.5"``, so a client sending the wrong type would not hear about it (400 here)."""

    default_error_messages = {"invalid": _("Not valid text: send a string.")}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)

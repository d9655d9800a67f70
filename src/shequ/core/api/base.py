"""Base API classes: the viewset applies ``for_user`` and maps HTTP methods to actions."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import permissions, serializers, viewsets

from .. import personal

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
    # A viewset action may name the scope action it needs, e.g. {"reveal": "reveal"}.
    action_scopes: dict[str, str] = {}

    def get_model(self):
        return self.queryset.model

    def scoped_action(self) -> str:
        return self.action_scopes.get(self.action) or METHOD_ACTIONS.get(
            self.request.method, "change"
        )

    def get_queryset(self):
        return self.queryset.for_user(self.request.user, self.scoped_action())


@extend_schema_field(serializers.CharField(allow_blank=True))
class MaskedField(serializers.Field):
    """A registered personal field, shown masked (``5101***********23X``, ``138****5678``)."""

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        kwargs.setdefault("source", "*")
        super().__init__(**kwargs)

    def to_representation(self, obj):
        return personal.display(obj, self.field_name)

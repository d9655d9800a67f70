"""Base views: every page lists and fetches through ``for_user`` (see docs/architecture.md)."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied


class ScopedViewMixin(LoginRequiredMixin):
    """No permission anywhere -> 403; out of scope -> 404, the same as a missing object."""

    model = None
    action = "view"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not self.model.user_may(request.user, self.action):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self):
        return self.model.objects.for_user(self.request.user, self.action)


def client_ip(request):
    return request.META.get("REMOTE_ADDR")


def home(request):
    """The user's home: their area, or the choice of their areas when they hold several."""
    from django.shortcuts import redirect, render

    from .scoping import assignments, minimal_prefixes

    if not request.user.is_authenticated:
        return redirect("login")
    codes = minimal_prefixes(code for _role, code in assignments(request.user))
    if len(codes) == 1:
        return redirect("areas:area", code=codes[0])
    from django.apps import apps

    Area = apps.get_model("areas", "Area")
    areas = Area.objects.filter(code__in=codes)
    return render(request, "core/home.html", {"areas": areas})

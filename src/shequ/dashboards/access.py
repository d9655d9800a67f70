"""Who may open which dashboard: ``dashboards.view_dashboard`` held at the area or above.

No permission anywhere -> 403; an area or compound outside the user's scope -> 404, exactly
like one that does not exist.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from shequ.areas.models import Area, Place, PlaceKind
from shequ.core.scoping import code_in_scope, scope_codes

from .data import PERM, may_view


def resolve(user, code: str, *, place: bool | None = None) -> tuple[Area | None, Place | None]:
    """The area (or compound, with ``place``; either when None) of ``code`` in the user's
    scope; PermissionDenied without the permission, Http404 out of scope or missing."""
    if not may_view(user):
        raise PermissionDenied
    if len(code) > 60 or not code.isalnum():
        raise Http404
    fields = ("code", "name", "name_en", "level", "boundary", "lat", "lng", "parent_id")
    if place is not True:
        area = Area.objects.filter(code=code).only(*fields).first()
        if area is not None:
            if not code_in_scope(user, PERM, area.code):
                raise Http404
            return area, None
        if place is False:
            raise Http404
    compound = (
        Place.objects.filter(code=code, kind=PlaceKind.COMPOUND)
        .only("code", "name", "name_en", "area_code", "boundary", "lat", "lng", "kind")
        .first()
    )
    if compound is None or not code_in_scope(user, PERM, compound.area_code):
        raise Http404
    return None, compound


def home_code(user) -> str | None:
    codes = scope_codes(user, PERM)
    return codes[0] if codes else None

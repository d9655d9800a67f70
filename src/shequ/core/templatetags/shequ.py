"""Template helpers for the pages: masked personal fields, role labels, durations.

``{% load shequ %}`` then ``{{ person|masked:"id_number" }}`` shows what the personal-data
registry allows by default (the mask); the plain value only ever comes from ``personal.reveal``.
"""

from django import template
from django.utils.translation import gettext as _

from shequ.core import personal
from shequ.core.roles import Role

register = template.Library()


@register.filter
def masked(obj, field: str) -> str:
    """The default display of a personal field: ``5101***********23X``, ``138****5678``."""
    if obj is None:
        return ""
    return personal.display(obj, field)


@register.filter
def role_labels(user_assignments) -> str:
    """'Grid worker, Street staff' from the (role, area_code) pairs of the user."""
    labels = []
    for role, _code in user_assignments or []:
        try:
            label = str(Role(role).label)
        except ValueError:
            label = role
        if label not in labels:
            labels.append(label)
    return _(", ").join(labels)


@register.filter
def minutes(delta) -> int:
    """A timedelta in whole minutes (rounded up): the lock-out page says how long to wait."""
    if delta is None:
        return 0
    seconds = int(delta.total_seconds())
    return max(1, -(-seconds // 60))

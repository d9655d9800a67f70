"""The personal-data registry, masking by default, and the audited reveal.

Every personal field is registered once (``register``); serializers, templates and exports ask
``display`` for what to show. ``reveal`` is the only way to the plain value for a field that has
a mask: it checks the permission at the object's area, needs a reason, and writes one
``PersonalDataAccess`` row in the same transaction as the read.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from . import ratelimit, twofactor
from .masking import mask_id_number, mask_name, mask_phone
from .models import PersonalDataAccess


@dataclass(frozen=True)
class PersonalField:
    model: str  # "people.person"
    field: str
    kind: str  # id_number | phone | name | address | birth_date | health
    mask: Callable[[str], str] | None  # None: shown in full to whoever may view the row


MASKS = {"id_number": mask_id_number, "phone": mask_phone, "name": mask_name}
REGISTRY: dict[str, dict[str, PersonalField]] = {}


def register(model_label: str, field: str, kind: str, *, masked: bool = True) -> None:
    mask = MASKS[kind] if masked else None
    REGISTRY.setdefault(model_label, {})[field] = PersonalField(model_label, field, kind, mask)


def fields_of(model) -> dict[str, PersonalField]:
    return REGISTRY.get(model._meta.label_lower, {})


def revealable_fields(model) -> list[str]:
    return [name for name, pf in fields_of(model).items() if pf.mask is not None]


def display(obj, field: str) -> str:
    """What to show of a field by default: the mask for masked fields, else the value."""
    value = getattr(obj, field) or ""
    pf = fields_of(type(obj)).get(field)
    if pf is None or pf.mask is None:
        return value
    return pf.mask(str(value))


# Set by a successful reveal during a request; the middleware then marks the answer with
# ``X-Personal-Data: revealed`` (the one kind of answer that may hold plain values).
REVEALED: ContextVar[bool] = ContextVar("shequ_revealed", default=False)


class RevealRefused(ValidationError):
    pass


class RevealThrottled(RevealRefused):
    """Too many reveals by this user in the window (``core/ratelimit.py``, purpose "reveal")."""


class TwoFactorRequired(RevealRefused):
    """The reveal needs a request verified with a TOTP code (see ``core/twofactor.py``)."""


def reveal(
    user,
    obj,
    fields: list[str],
    reason: str,
    *,
    channel: str = "web",
    ip=None,
    otp_code: str | None = None,
):
    """Return {field: plain value} and record the access, or raise and show nothing.

    Refused (``TwoFactorRequired``) unless the request is verified with a TOTP code: a session
    signed in with it, or ``otp_code`` (the API's X-OTP-Code header), checked last so that a code
    is used up only by a reveal that is otherwise allowed.
    """
    model = type(obj)
    allowed = revealable_fields(model)
    fields = [f for f in dict.fromkeys(fields) if f]
    unknown = [f for f in fields if f not in allowed]
    if not fields or unknown:
        raise RevealRefused(
            _("Choose fields to reveal among: %(allowed)s") % {"allowed": ", ".join(allowed)}
        )
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise RevealRefused(_("A reveal needs a reason (at least 4 characters)."))
    if not model.user_may(user, "reveal") or not obj.in_scope_of(user, "reveal"):
        raise PermissionDenied(_("Your role may not reveal personal data here."))
    # Every channel (pages, API, exports of single records) is limited here, at the one door.
    if not ratelimit.allow(user, "reveal"):
        raise RevealThrottled(_("Too many reveals in a short time: wait a minute and try again."))
    twofactor.check_reveal(user, channel=channel, code=otp_code)
    return _record_and_read(user, obj, fields, reason, channel, ip)


@transaction.atomic
def _record_and_read(user, obj, fields, reason, channel, ip) -> dict[str, str]:
    """The access row and the read, in one transaction: no row, nothing shown."""
    model = type(obj)
    PersonalDataAccess.objects.create(
        user=user,
        model=model._meta.label_lower,
        object_id=str(obj.pk),
        area_code=getattr(obj, model.scope_field),
        fields=",".join(fields),
        reason=reason,
        channel=channel,
        ip_address=ip,
    )
    REVEALED.set(True)
    return {f: str(getattr(obj, f) or "") for f in fields}

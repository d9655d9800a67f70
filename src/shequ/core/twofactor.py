"""Two-factor sign-in (TOTP, django-otp) and the rule it enforces: no reveal without it.

* A user whose roles may reveal personal data (any ``reveal_`` permission in ``roles.py``) is
  asked to enrol an authenticator app after signing in; anyone may enrol.
* Once a user has a confirmed device, the password alone no longer signs them in: the web
  sign-in asks for the code (``views.LoginCodeView``) and the API token endpoint wants it too.
* ``personal.reveal`` refuses unless the request is verified: a web session signed in with the
  code (django-otp's ``OTPMiddleware`` sets ``user.is_verified()``), or, through the API, a
  code sent with that reveal in the ``X-OTP-Code`` header (a token alone never reveals).

A code is accepted once (django-otp keeps the last time step used) and wrong codes are
throttled by the device (exponential back-off); at sign-in they also count as failed sign-ins
for django-axes' lock-out. See docs/data-protection.md.
"""

from __future__ import annotations

import base64
import re

from django.conf import settings
from django.contrib.auth import signals as auth_signals
from django.utils.translation import gettext_lazy as _

from .roles import ROLE_PERMISSIONS

# personal.py (imported by the models modules) imports this module: the device model is
# imported inside the functions, once the app registry is ready.
DEVICE_ID_SESSION_KEY = "otp_device_id"  # django_otp.DEVICE_ID_SESSION_KEY

OTP_HEADER = "X-OTP-Code"
CODE_RE = re.compile(r"^[0-9]{6}$")


def role_may_reveal(role: str) -> bool:
    return any(".reveal_" in perm for perm in ROLE_PERMISSIONS.get(role, ()))


def required_for(user) -> bool:
    """Whether the user's roles may reveal personal data anywhere (then they must enrol)."""
    if not getattr(user, "is_authenticated", False):
        return False
    from .scoping import assignments

    return any(role_may_reveal(role) for role, _code in assignments(user))


def device_model():
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice


def confirmed_device(user):
    TOTPDevice = device_model()
    if not getattr(user, "pk", None):
        return None
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("-id").first()


def has_device(user) -> bool:
    return confirmed_device(user) is not None


def is_verified(user) -> bool:
    """True for a request verified with a code: django-otp's middleware (a web session signed in
    with the code) or ``mark_verified`` (an API request that sent a good code)."""
    check = getattr(user, "is_verified", None)
    return bool(check and check())


def mark_verified(user, device) -> None:
    user.otp_device = device
    user.is_verified = lambda: True


def clean_code(code) -> str:
    return re.sub(r"\s", "", str(code or ""))


def verify(user, code, *, device=None):
    """The device that accepts ``code`` (then marked as used), or None.

    Each check runs in its own transaction with the device row locked, so concurrent tries
    cannot both use one code, and the throttle counter of a wrong try is kept."""
    from django.db import transaction

    code = clean_code(code)
    if not CODE_RE.match(code):
        return None
    with transaction.atomic():
        devices = device_model().objects.select_for_update().filter(user=user)
        devices = devices.filter(pk=device.pk) if device else devices.filter(confirmed=True)
        for candidate in devices.order_by("-id"):
            if candidate.verify_token(code):
                return candidate
    return None


def throttled(device) -> bool:
    allowed, _info = device.verify_is_allowed()
    return not allowed


def login_device(request, device) -> None:
    """Mark the session verified by ``device`` (after ``auth.login``)."""
    request.session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    mark_verified(request.user, device)


def record_failure(request, username: str) -> None:
    """A wrong code at sign-in counts as a failed sign-in for django-axes' lock-out."""
    auth_signals.user_login_failed.send(
        sender=__name__, credentials={"username": username}, request=request
    )


def secret_base32(device) -> str:
    """The key as authenticator apps take it typed in: base32, in groups of four."""
    text = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def qr_data_uri(device) -> str:
    """The device's otpauth:// URI as a QR code, an SVG data URI made here (no service)."""
    import segno

    return segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2)


def issuer() -> str:
    return getattr(settings, "OTP_TOTP_ISSUER", "Shequ")


# --- the reveal rule -----------------------------------------------------------------------------

MSG_ENROL = _(
    "Revealing personal data needs two-factor sign-in: set up an authenticator app under "
    "“Two-factor sign-in” (/accounts/two-factor/) first."
)
MSG_WEB = _(
    "Revealing personal data needs two-factor sign-in: sign out and sign in again with the "
    "code from your authenticator app."
)
MSG_API = _(
    "Revealing personal data through the API needs the current code of your authenticator app "
    "in the X-OTP-Code header of the reveal request."
)
MSG_WRONG = _("The two-factor code is wrong or has been used already; wait for the next one.")
MSG_THROTTLED = _("Too many wrong codes: wait a little before trying again.")


def check_reveal(user, *, channel: str, code: str | None = None) -> None:
    """Raise ``personal.TwoFactorRequired`` unless the request is verified, or ``code`` is a good
    code of the user's device (API: the X-OTP-Code header); a good code verifies the user."""
    from .personal import TwoFactorRequired

    if is_verified(user):
        return
    device = confirmed_device(user)
    if device is None:
        raise TwoFactorRequired(MSG_ENROL)
    if not code:
        raise TwoFactorRequired(MSG_API if channel == "api" else MSG_WEB)
    if throttled(device):
        raise TwoFactorRequired(MSG_THROTTLED)
    verified = verify(user, code)
    if verified is None:
        raise TwoFactorRequired(MSG_WRONG)
    mark_verified(user, verified)

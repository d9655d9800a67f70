"""Account endpoints of the API: exchange a user name and password for a token."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response

from .. import twofactor
from .base import StrictCharField


class TokenRequestSerializer(AuthTokenSerializer):
    """DRF's user name and password, and the authenticator code for an account that has one."""

    otp_code = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=12,
        write_only=True,
        label=_("Two-factor code"),
        help_text=_(
            "The current 6-digit code of the account's authenticator app: required when the "
            "account has turned two-factor sign-in on."
        ),
    )


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField(
        help_text=_("Send it as the header `Authorization: Token <token>`.")
    )


def locked_out() -> Response:
    message = _(
        "Too many failed sign-in attempts: this account is locked for a while. Try again later."
    )
    return Response({"detail": message}, status=status.HTTP_429_TOO_MANY_REQUESTS)


def second_factor(request, user, code) -> Response | None:
    """None when the account has no authenticator or ``code`` is right; else the answer.
    A wrong code counts as a failed sign-in for django-axes, like a wrong password."""
    device = twofactor.confirmed_device(user)
    if device is None:
        return None
    if not code:
        message = _("This account signs in with two-factor: send otp_code as well.")
    elif twofactor.throttled(device):
        message = twofactor.MSG_THROTTLED
    elif twofactor.verify(user, code) is not None:
        return None
    else:
        twofactor.record_failure(request, user.get_username())
        if getattr(request, "axes_locked_out", False):
            return locked_out()
        message = twofactor.MSG_WRONG
    return Response({"otp_code": [message]}, status=status.HTTP_400_BAD_REQUEST)


class ObtainTokenView(ObtainAuthToken):
    """DRF's ``obtain_auth_token`` under django-axes' lock-out.

    ``AuthTokenSerializer`` authenticates through ``django.contrib.auth.authenticate`` with the
    request, so ``AxesStandaloneBackend`` (first in ``AUTHENTICATION_BACKENDS``) counts the
    failures and refuses a locked-out user name even with the right password. Axes flags the
    refusal on the request it was given (DRF's ``Request``): this view answers it with 429 and a
    message instead of the generic "unable to log in".
    """

    serializer_class = TokenRequestSerializer

    @extend_schema(
        operation_id="auth_token_create",
        summary=_("Obtain an API token"),
        description=_(
            "Exchange a user name and password for the user's API token. An account with "
            "two-factor sign-in on also sends the current code of its authenticator "
            "(`otp_code`). After repeated failures the user name is locked out for a while "
            "(429), even with the right password. Session authentication (the web sign-in) "
            "works for the API too. A token alone never reveals personal data: each reveal "
            "sends a fresh code in the `X-OTP-Code` header."
        ),
        request=TokenRequestSerializer,
        responses={
            200: TokenResponseSerializer,
            400: OpenApiResponse(
                description=_("Wrong user name or password, or a missing or wrong code.")
            ),
            429: OpenApiResponse(
                response=inline_serializer("LockedOut", fields={"detail": serializers.CharField()}),
                description=_("Too many failed attempts: locked out for a while."),
            ),
        },
        tags=["auth"],
        auth=[],
    )
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        if not serializer.is_valid():
            if getattr(request, "axes_locked_out", False):
                return locked_out()
            return Response(serializer.errors, status=status.HTTP_400_BAD_REQUEST)
        user = serializer.validated_data["user"]
        refused = second_factor(request, user, serializer.validated_data.get("otp_code"))
        if refused is not None:
            return refused
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


obtain_token = ObtainTokenView.as_view()

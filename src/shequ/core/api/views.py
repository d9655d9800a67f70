"""Account endpoints of the API: exchange a user name and password for a token."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField(
        help_text=_("Send it as the header `Authorization: Token <token>`.")
    )


class ObtainTokenView(ObtainAuthToken):
    """DRF's ``obtain_auth_token`` under django-axes' lock-out.

    ``AuthTokenSerializer`` authenticates through ``django.contrib.auth.authenticate`` with the
    request, so ``AxesStandaloneBackend`` (first in ``AUTHENTICATION_BACKENDS``) counts the
    failures and refuses a locked-out user name even with the right password. Axes flags the
    refusal on the request it was given (DRF's ``Request``): this view answers it with 429 and a
    message instead of the generic "unable to log in".
    """

    @extend_schema(
        operation_id="auth_token_create",
        summary=_("Obtain an API token"),
        description=_(
            "Exchange a user name and password for the user's API token. After repeated "
            "failures the user name is locked out for a while (429), even with the right "
            "password. Session authentication (the web sign-in) works for the API too."
        ),
        request=AuthTokenSerializer,
        responses={
            200: TokenResponseSerializer,
            400: OpenApiResponse(description=_("Wrong user name or password.")),
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
                return Response(
                    {
                        "detail": _(
                            "Too many failed sign-in attempts: this account is locked for a "
                            "while. Try again later."
                        )
                    },
                    status=status.HTTP_429_TOO_MANY_REQUESTS,
                )
            return Response(serializer.errors, status=status.HTTP_400_BAD_REQUEST)
        token, _created = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})


obtain_token = ObtainTokenView.as_view()

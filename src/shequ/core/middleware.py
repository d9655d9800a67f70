import time

from django.conf import settings
from django.contrib.auth import logout


class NoStorePersonalDataMiddleware:
    """Pages and API answers for a signed-in user may hold personal data: never cache them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from .personal import REVEALED

        token = REVEALED.set(False)
        try:
            response = self.get_response(request)
            if REVEALED.get():
                # The answer to a reveal holds plain values: say so (tests and proxies check).
                response["X-Personal-Data"] = "revealed"
        finally:
            REVEALED.reset(token)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not request.path.startswith("/static/"):
            response["Cache-Control"] = "no-store, private"
        return response


def mark_signed_in(sender, request, user, **kwargs):
    """user_logged_in receiver: the absolute session timeout counts from this sign-in."""
    request.session[SessionTimeoutMiddleware.KEY] = int(time.time())


class SessionTimeoutMiddleware:
    """End a session SESSION_ABSOLUTE_SECONDS after sign-in, however active it has been.

    The idle timeout is the cookie's own age (SESSION_COOKIE_AGE), renewed on every request.
    """

    KEY = "_shequ_signed_in_at"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            started = request.session.setdefault(self.KEY, now)
            if now - started > settings.SESSION_ABSOLUTE_SECONDS:
                logout(request)
        return self.get_response(request)

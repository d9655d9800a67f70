import time
from dataclasses import asdict

import csp.middleware
from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.utils import build_policy
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
    """user_logged_in receiver: the absolute session timeout counts from this sign-in, the idle
    one from now."""
    now = int(time.time())
    request.session[SessionTimeoutMiddleware.KEY] = now
    request.session[SessionTimeoutMiddleware.ACTIVE_KEY] = now


class SessionTimeoutMiddleware:
    """End a signed-in session SESSION_IDLE_SECONDS after its last request and
    SESSION_ABSOLUTE_SECONDS after sign-in, however active it has been.

    Both times are stamps in the session, checked on every request. The last-activity stamp is
    written only once it has moved by ``ACTIVITY_STEP`` seconds: a page view within a minute of
    the last written stamp writes nothing (SESSION_SAVE_EVERY_REQUEST is off; the session row
    used to be rewritten on every request). Writing the stamp saves the session, which also
    renews the row's expiry and the cookie's age (SESSION_COOKIE_AGE = SESSION_IDLE_SECONDS):
    all three count from the written stamp. So a session ends SESSION_IDLE_SECONDS after its
    last written activity: never later than that after its last request, at most
    ``ACTIVITY_STEP`` seconds sooner.
    """

    KEY = "_shequ_signed_in_at"
    ACTIVE_KEY = "_shequ_active_at"
    ACTIVITY_STEP = 60

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Without a session cookie no one is signed in by session (an API token, a resident):
        # nothing to check, and the session and its user are not loaded.
        has_session = settings.SESSION_COOKIE_NAME in request.COOKIES
        user = getattr(request, "user", None) if has_session else None
        if user is not None and user.is_authenticated:
            session = request.session
            now = int(time.time())
            started = session.get(self.KEY)
            active = session.get(self.ACTIVE_KEY)
            if started is None:  # signed in before the stamps existed
                session[self.KEY] = started = now
            if active is None:
                session[self.ACTIVE_KEY] = active = now
            if (
                now - started > settings.SESSION_ABSOLUTE_SECONDS
                or now - active > settings.SESSION_IDLE_SECONDS
            ):
                logout(request)
            elif now - active >= self.ACTIVITY_STEP:
                session[self.ACTIVE_KEY] = now  # saved (and the cookie renewed) on the way out
        return self.get_response(request)


class CSPMiddleware(csp.middleware.CSPMiddleware):
    """django-csp's middleware, with the policy of the settings built once per process.

    django-csp builds the header from the settings on every response (twice: the policy and
    its report-only twin). Ours is the same for every response unless a view overrides it
    (``csp.decorators``) or a template asks for a nonce; those responses are built as
    django-csp builds them, the rest get the header built once.
    """

    _OVERRIDES = ("_csp_config", "_csp_update", "_csp_replace", "_csp_config_ro",
                  "_csp_update_ro", "_csp_replace_ro", "_csp_exempt", "_csp_exempt_ro")  # fmt: skip

    def __init__(self, get_response):
        super().__init__(get_response)
        self._headers: list[tuple[str, str]] | None = None

    def _settings_headers(self, request, response) -> list[tuple[str, str]]:
        if self._headers is None:
            headers = []
            for header, report_only in ((HEADER, False), (HEADER_REPORT_ONLY, True)):
                parts = self.get_policy_parts(request, response, report_only=report_only)
                policy = build_policy(**asdict(parts), report_only=report_only)
                if policy:
                    headers.append((header, policy))
            self._headers = headers
        return self._headers

    def process_response(self, request, response):
        if getattr(request, "_csp_nonce", None) is not None or any(
            hasattr(response, name) for name in self._OVERRIDES
        ):
            return super().process_response(request, response)
        if response.status_code in (500, 404) and settings.DEBUG:
            return response
        for header, policy in self._settings_headers(request, response):
            config = settings.CONTENT_SECURITY_POLICY if header == HEADER else (
                getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None) or {})  # fmt: skip
            excluded = tuple((config or {}).get("EXCLUDE_URL_PREFIXES") or ())
            if header not in response and not request.path_info.startswith(excluded):
                response[header] = policy
        # As django-csp: a nonce asked for after the header is written is an error.
        request.csp_nonce = csp.middleware.CheckableLazyObject(self._csp_nonce_post_response)
        return response

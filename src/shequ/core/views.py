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


# ============================================================================ two-factor sign-in
# Password, then (for an account with an authenticator) the code; enrolment with a QR code drawn
# here. The rule these serve, "no reveal without a code", is enforced in personal.reveal
# (core/twofactor.py); these pages only let people meet it.

import time  # noqa: E402
from urllib.parse import urlencode  # noqa: E402

from django import forms  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib import messages  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth import login as auth_login  # noqa: E402
from django.contrib.auth import views as auth_views  # noqa: E402
from django.contrib.auth.decorators import login_required  # noqa: E402
from django.shortcuts import redirect, render  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils.decorators import method_decorator  # noqa: E402
from django.utils.http import url_has_allowed_host_and_scheme  # noqa: E402
from django.utils.translation import gettext as _  # noqa: E402
from django.utils.translation import gettext_lazy  # noqa: E402
from django.views import View  # noqa: E402
from django.views.decorators.cache import never_cache  # noqa: E402
from django.views.decorators.debug import sensitive_post_parameters  # noqa: E402

from . import twofactor  # noqa: E402

PENDING = "_shequ_2fa_pending"
MAX_CODE_TRIES = 5  # per password sign-in; django-axes counts them too


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code from your authenticator app"),
        max_length=12,
        error_messages={"required": gettext_lazy("Type the 6-digit code.")},
    )

    def clean_code(self):
        code = twofactor.clean_code(self.cleaned_data["code"])
        if not twofactor.CODE_RE.match(code):
            raise forms.ValidationError(_("The code is 6 digits."))
        return code


def _safe_next(request, value: str | None) -> str:
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return reverse(settings.LOGIN_REDIRECT_URL)


class SignInView(auth_views.LoginView):
    """Step 1, the password. An account with an authenticator goes on to the code; an account
    whose role may reveal and has none is sent to enrol one (it may do so later)."""

    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if twofactor.has_device(user):
            self.request.session[PENDING] = {
                "user": user.pk,
                "backend": user.backend,
                "at": int(time.time()),
                "next": self.get_success_url(),
                "tries": 0,
            }
            return redirect("login_code")
        response = super().form_valid(form)
        if twofactor.required_for(user):
            messages.warning(
                self.request,
                _("Your role may reveal personal data: set up two-factor sign-in to be able to."),
            )
            query = urlencode({"next": self.get_success_url()})
            return redirect(f"{reverse('two_factor')}?{query}")
        return response


@method_decorator([sensitive_post_parameters("code"), never_cache], name="dispatch")
class LoginCodeView(View):
    """Step 2: the code of the account's authenticator, after a right password (at most
    SHEQU_2FA_PENDING_SECONDS later). Wrong codes are throttled by the device, count as failed
    sign-ins for django-axes, and after MAX_CODE_TRIES the password must be given again."""

    template_name = "registration/login_code.html"

    def pending(self, request):
        data = request.session.get(PENDING)
        if not data or time.time() - data["at"] > settings.SHEQU_2FA_PENDING_SECONDS:
            return None, None
        user = get_user_model().objects.filter(pk=data["user"], is_active=True).first()
        return (data, user) if user is not None else (None, None)

    def restart(self, request, message):
        request.session.pop(PENDING, None)
        messages.error(request, message)
        return redirect("login")

    def get(self, request):
        _data, user = self.pending(request)
        if user is None:
            return self.restart(request, _("Sign in with your user name and password first."))
        return render(request, self.template_name, {"form": CodeForm()})

    def post(self, request):
        from axes.handlers.proxy import AxesProxyHandler

        data, user = self.pending(request)
        if user is None:
            return self.restart(request, _("The sign-in has expired: sign in again."))
        credentials = {"username": user.get_username()}
        if AxesProxyHandler.is_locked(request, credentials):
            request.session.pop(PENDING, None)
            request.axes_locked_out, request.axes_credentials = True, credentials
            return redirect("login")  # AxesMiddleware answers with the lock-out page
        form = CodeForm(request.POST)
        if form.is_valid():
            device = twofactor.confirmed_device(user)
            if device is None:  # removed in between (e.g. by an administrator)
                return self.restart(request, _("Sign in again."))
            if twofactor.throttled(device):
                form.add_error("code", twofactor.MSG_THROTTLED)
            elif (verified := twofactor.verify(user, form.cleaned_data["code"])) is not None:
                request.session.pop(PENDING, None)
                auth_login(request, user, backend=data["backend"])
                twofactor.login_device(request, verified)
                return redirect(_safe_next(request, data.get("next")))
            else:
                twofactor.record_failure(request, user.get_username())
                if getattr(request, "axes_locked_out", False):
                    request.session.pop(PENDING, None)
                    return redirect("login")  # AxesMiddleware answers with the lock-out page
                data["tries"] += 1
                request.session[PENDING] = data
                if data["tries"] >= MAX_CODE_TRIES:
                    return self.restart(
                        request, _("Too many wrong codes: sign in again with your password.")
                    )
                form.add_error("code", twofactor.MSG_WRONG)
        return render(request, self.template_name, {"form": form}, status=200)


@method_decorator([login_required, never_cache], name="dispatch")
class TwoFactorView(View):
    """Enrol an authenticator app (QR code and the secret to type), verify this session with a
    code, or replace the authenticator (only from a verified session)."""

    template_name = "registration/two_factor.html"

    def devices(self, user):
        model = twofactor.device_model()
        return model.objects.filter(user=user)

    def new_device(self, user):
        model = twofactor.device_model()
        unconfirmed = self.devices(user).filter(confirmed=False).order_by("-id").first()
        return unconfirmed or model.objects.create(user=user, name="authenticator", confirmed=False)

    def context(self, request, form=None):
        user = request.user
        device = twofactor.confirmed_device(user)
        verified = twofactor.is_verified(user)
        ctx = {
            "form": form or CodeForm(),
            "device": device,
            "verified": verified,
            "required": twofactor.required_for(user),
            "next": _safe_next(request, request.GET.get("next") or request.POST.get("next")),
            "enrolling": None,
        }
        if device is None or (verified and self.devices(user).filter(confirmed=False).exists()):
            enrolling = self.new_device(user)
            ctx.update(
                enrolling=enrolling,
                qr=twofactor.qr_data_uri(enrolling),
                secret=twofactor.secret_base32(enrolling),
                issuer=twofactor.issuer(),
            )
        return ctx

    def get(self, request):
        return render(request, self.template_name, self.context(request))

    def post(self, request):
        user = request.user
        do = request.POST.get("do")
        device = twofactor.confirmed_device(user)
        verified = twofactor.is_verified(user)
        nxt = _safe_next(request, request.POST.get("next"))
        if do == "replace":
            if not verified:
                messages.error(request, twofactor.MSG_WEB)
                return redirect("two_factor")
            self.devices(user).filter(confirmed=False).delete()
            self.new_device(user)
            return redirect(f"{reverse('two_factor')}?{urlencode({'next': nxt})}")
        if do not in ("confirm", "verify"):
            return redirect("two_factor")
        form = CodeForm(request.POST)
        if form.is_valid():
            if do == "confirm":
                if device is not None and not verified:
                    messages.error(request, twofactor.MSG_WEB)
                    return redirect("two_factor")
                target = self.new_device(user)
            else:
                if device is None:
                    return redirect("two_factor")
                target = device
            if twofactor.throttled(target):
                form.add_error("code", twofactor.MSG_THROTTLED)
            elif twofactor.verify(user, form.cleaned_data["code"], device=target) is None:
                form.add_error("code", twofactor.MSG_WRONG)
            else:
                if do == "confirm":
                    target.confirmed = True
                    target.save(update_fields=["confirmed"])
                    self.devices(user).exclude(pk=target.pk).delete()  # the old authenticator
                    messages.success(
                        request,
                        _("Two-factor sign-in is on: from now on you sign in with a code."),
                    )
                else:
                    messages.success(request, _("This session is verified with your code."))
                twofactor.login_device(request, target)
                return redirect(nxt)
        return render(request, self.template_name, self.context(request, form))

"""Two-factor sign-in (TOTP) and the rule it serves: no reveal of personal data without a code.

Sign-in: password, then the code for an account with an authenticator; enrolment with a QR code
and the secret; a reveal on the web needs a session signed in with a code, through the API a
fresh code in the X-OTP-Code header; the token endpoint wants the code too. Time is frozen
(time-machine) so the codes computed here are the ones the server expects.
"""

from __future__ import annotations

import re

import pytest
import time_machine
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from shequ.core import personal, twofactor
from shequ.core.models import PersonalDataAccess
from shequ.core.roles import ROLE_PERMISSIONS, Role
from shequ.core.testing import PASSWORD, add_device, totp_code, verified, verify_session

pytestmark = pytest.mark.django_db

T0 = 1_790_000_000  # 2026-09-21, the frozen start of every test here


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def person(city):
    return city["persons"][0]  # grid 510104001001G01


@pytest.fixture
def worker(person, make_user):
    return make_user("gw", Role.GRID_WORKER, person.area_code)


def reveal_url(person) -> str:
    return reverse("people:reveal", args=[person.pk])


def reveal_on_page(client, person):
    return client.post(
        reveal_url(person),
        {"field": ["phone"], "reason": "confirm identity at the door"},
        HTTP_ACCEPT_LANGUAGE="en",
    )


def sign_in(client, username: str, password: str = PASSWORD):
    return client.post(reverse("login"), {"username": username, "password": password})


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


# --- who must enrol ----------------------------------------------------------------------------


def test_the_roles_that_may_reveal_are_the_ones_asked_to_enrol(make_user, city):
    for role in Role:
        may_reveal = any(".reveal_" in p for p in ROLE_PERMISSIONS[role])
        user = make_user(f"u-{role}", role, "5101")
        assert twofactor.required_for(user) is may_reveal, role
    assert not twofactor.required_for(make_user("nobody"))
    assert twofactor.role_may_reveal(Role.GRID_WORKER)
    assert not twofactor.role_may_reveal(Role.CITY_OPERATOR)


# --- the reveal rule ---------------------------------------------------------------------------


def test_reveal_is_refused_without_a_code_and_says_how_to_get_one(client, worker, person, clock):
    # No authenticator at all: the page says to set one up; nothing is shown or recorded.
    client.force_login(worker)
    response = reveal_on_page(client, person)
    assert response.status_code == 200
    html = response.content.decode()
    assert "set up an authenticator app" in html and "/accounts/two-factor/" in html
    assert person.phone not in html and "X-Personal-Data" not in response
    # An authenticator, but this session was not signed in with a code.
    add_device(worker)
    html = reveal_on_page(client, person).content.decode()
    assert "sign in again with the code" in html and person.phone not in html
    assert not PersonalDataAccess.objects.exists()


def test_reveal_is_allowed_in_a_session_signed_in_with_a_code(client, worker, person, clock):
    verify_session(client, worker)
    response = reveal_on_page(client, person)
    assert person.phone in response.content.decode()
    assert response["X-Personal-Data"] == "revealed"
    assert PersonalDataAccess.objects.get().user == worker


def test_direct_calls_need_a_verified_user_too(worker, person):
    with pytest.raises(personal.TwoFactorRequired):
        personal.reveal(worker, person, ["phone"], "checking the record")
    assert not PersonalDataAccess.objects.exists()
    assert personal.reveal(verified(worker), person, ["phone"], "checking the record") == {
        "phone": person.phone
    }


# --- the two-step sign-in ----------------------------------------------------------------------


def test_password_then_code_signs_in_and_the_session_may_reveal(client, worker, person, clock):
    device = add_device(worker)
    response = sign_in(client, "gw")
    assert response.status_code == 302 and response["Location"] == reverse("login_code")
    assert not signed_in(client)  # the password alone does not sign in
    assert client.get(reverse("home")).status_code == 302
    page = client.get(reverse("login_code")).content.decode()
    assert 'name="code"' in page and 'autocomplete="one-time-code"' in page

    response = client.post(reverse("login_code"), {"code": totp_code(device)})
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert signed_in(client)
    assert person.phone in reveal_on_page(client, person).content.decode()


def test_a_wrong_code_is_refused_then_throttled_and_counted_by_axes(client, worker, clock):
    from axes.models import AccessAttempt

    device = add_device(worker)
    sign_in(client, "gw")
    good = totp_code(device)
    wrong = f"{(int(good) + 1) % 1_000_000:06d}"
    page = client.post(reverse("login_code"), {"code": wrong}, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and not signed_in(client)
    assert "wrong or has been used" in page.content.decode()
    assert AccessAttempt.objects.get(username="gw").failures_since_start == 1
    # Right after a wrong code the device waits (exponential back-off): even the right code waits.
    page = client.post(reverse("login_code"), {"code": good}, HTTP_ACCEPT_LANGUAGE="en")
    assert "Too many wrong codes" in page.content.decode() and not signed_in(client)
    clock.shift(2)
    response = client.post(reverse("login_code"), {"code": good})
    assert response.status_code == 302 and signed_in(client)


def test_a_code_works_once(client, worker, clock):
    device = add_device(worker)
    code = totp_code(device)
    sign_in(client, "gw")
    client.post(reverse("login_code"), {"code": code})
    assert signed_in(client)
    other = APIClient()  # someone who watched the code being typed
    sign_in(other, "gw")
    other.post(reverse("login_code"), {"code": code})
    assert not signed_in(other)


@pytest.mark.parametrize("code", ["", "12345", "abcdef", "1234567"])
def test_malformed_codes_are_refused_with_a_message(client, worker, code, clock):
    add_device(worker)
    sign_in(client, "gw")
    page = client.post(reverse("login_code"), {"code": code}, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and not signed_in(client)
    assert re.search(r"6-digit code|code is 6 digits", page.content.decode())


def test_too_many_wrong_codes_send_back_to_the_password(client, worker, clock, settings):
    settings.AXES_FAILURE_LIMIT = 100  # here the view's own limit, not the lock-out
    device = add_device(worker)
    sign_in(client, "gw")
    wrong = f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"
    for _try in range(4):
        assert client.post(reverse("login_code"), {"code": wrong}).status_code == 200
        clock.shift(60)
    response = client.post(reverse("login_code"), {"code": wrong})
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert client.post(reverse("login_code"), {"code": totp_code(device)})["Location"] == (
        reverse("login")
    )
    assert not signed_in(client)


def test_wrong_codes_count_towards_the_lock_out(client, worker, clock, settings):
    settings.AXES_FAILURE_LIMIT = 3
    device = add_device(worker)
    sign_in(client, "gw")
    wrong = f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"
    client.post(reverse("login_code"), {"code": wrong})
    clock.shift(5)
    client.post(reverse("login_code"), {"code": wrong})
    clock.shift(5)
    response = client.post(reverse("login_code"), {"code": wrong})
    assert response.status_code == 429  # django-axes' lock-out page
    clock.shift(60)
    # Locked out: the right password does not even reach the code step.
    assert sign_in(client, "gw").status_code == 429
    assert not signed_in(client)


def test_the_code_step_expires(client, worker, clock):
    device = add_device(worker)
    sign_in(client, "gw")
    clock.shift(301)
    response = client.post(reverse("login_code"), {"code": totp_code(device)})
    assert response["Location"] == reverse("login") and not signed_in(client)
    assert client.get(reverse("login_code"))["Location"] == reverse("login")


def test_the_code_step_keeps_a_safe_next_and_drops_an_outside_one(client, worker, clock):
    device = add_device(worker)
    client.post(f"{reverse('login')}?next=/people/", {"username": "gw", "password": PASSWORD})
    assert client.post(reverse("login_code"), {"code": totp_code(device)})["Location"] == (
        "/people/"
    )
    client.logout()
    clock.shift(30)
    client.post(
        reverse("login"),
        {"username": "gw", "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert client.post(reverse("login_code"), {"code": totp_code(device)})["Location"] == (
        reverse("home")
    )


def test_accounts_without_an_authenticator_sign_in_with_the_password(client, make_user, city):
    make_user("city", Role.CITY_OPERATOR, "5101")  # may not reveal: not asked to enrol
    response = sign_in(client, "city")
    assert response["Location"] == reverse("home") and signed_in(client)


# --- enrolment ---------------------------------------------------------------------------------


def secret_on(page: str) -> str:
    match = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page)
    assert match, "the secret is shown to type by hand"
    return match[1].replace(" ", "")


def code_for_secret(secret: str) -> str:
    import base64

    from django_otp.oath import totp

    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    return f"{totp(key, t0=0, step=30, digits=6):06d}"


def test_enrolment_from_sign_in_to_a_verified_session(client, worker, person, clock):
    response = sign_in(client, "gw")
    # Signed in with the password, and sent to set up an authenticator (reveal needs it).
    assert signed_in(client)
    location = response["Location"]
    assert location.startswith(reverse("two_factor"))
    page = client.get(location, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'src="data:image/svg+xml' in page  # the QR code, drawn here
    secret = secret_on(page)
    device = TOTPDevice.objects.get(user=worker)
    assert not device.confirmed and twofactor.secret_base32(device).replace(" ", "") == secret
    assert device.config_url.startswith("otpauth://totp/Shequ%3Agw?secret=")

    # A wrong code leaves it off.
    code = code_for_secret(secret)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    page = client.post(
        reverse("two_factor"), {"do": "confirm", "code": wrong}, HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "wrong or has been used" in page
    device.refresh_from_db()
    assert not device.confirmed
    assert secret_on(page) == secret  # the same secret, still to confirm
    clock.shift(2)

    # The code the app computes from the secret turns it on and verifies this session.
    response = client.post(reverse("two_factor"), {"do": "confirm", "code": code})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert person.phone in reveal_on_page(client, person).content.decode()

    # From now on the password alone does not sign in.
    client.logout()
    assert sign_in(client, "gw")["Location"] == reverse("login_code")
    assert not signed_in(client)


def test_an_unverified_session_cannot_replace_the_authenticator(client, worker, clock):
    add_device(worker)
    client.force_login(worker)  # e.g. a session older than the authenticator
    page = client.get(reverse("two_factor")).content.decode()
    assert 'id="totp-secret"' not in page  # no new secret to someone without the code
    client.post(reverse("two_factor"), {"do": "replace"})
    assert TOTPDevice.objects.filter(user=worker).count() == 1
    assert client.post(reverse("two_factor"), {"do": "confirm", "code": "123456"}).status_code == (
        302
    )
    assert TOTPDevice.objects.filter(user=worker).count() == 1


def test_an_unverified_session_can_be_verified_with_a_code(client, worker, person, clock):
    device = add_device(worker)
    client.force_login(worker)
    assert person.phone not in reveal_on_page(client, person).content.decode()
    client.post(reverse("two_factor"), {"do": "verify", "code": totp_code(device)})
    assert person.phone in reveal_on_page(client, person).content.decode()


def test_a_verified_session_replaces_the_authenticator(client, worker, clock):
    old = add_device(worker)
    verify_session(client, worker)
    client.post(reverse("two_factor"), {"do": "replace"})
    page = client.get(reverse("two_factor")).content.decode()
    secret = secret_on(page)
    assert TOTPDevice.objects.filter(user=worker).count() == 2  # the old one works until then
    clock.shift(30)
    client.post(reverse("two_factor"), {"do": "confirm", "code": code_for_secret(secret)})
    (device,) = TOTPDevice.objects.filter(user=worker)
    assert device.confirmed and device.pk != old.pk


def test_the_enrolment_page_needs_a_sign_in_and_is_never_cached(client, worker):
    response = client.get(reverse("two_factor"))
    assert response.status_code == 302 and reverse("login") in response["Location"]
    client.force_login(worker)
    response = client.get(reverse("two_factor"))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


# --- the API -----------------------------------------------------------------------------------


class TestApi:
    token_url = "/api/v1/auth/token/"

    def reveal(self, client, person, code=None):
        headers = {"HTTP_X_OTP_CODE": code} if code is not None else {}
        return client.post(
            f"/api/v1/persons/{person.pk}/reveal/",
            {"fields": ["phone"], "reason": "Door visit: confirm tenant"},
            format="json",
            HTTP_ACCEPT_LANGUAGE="en",
            **headers,
        )

    def test_a_token_needs_the_code_when_the_account_has_an_authenticator(self, worker, clock):
        device = add_device(worker)
        client = APIClient()
        response = client.post(
            self.token_url, {"username": "gw", "password": PASSWORD}, HTTP_ACCEPT_LANGUAGE="en"
        )
        assert response.status_code == 400 and "token" not in response.data
        assert "otp_code" in response.data
        code = totp_code(device)
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        response = client.post(
            self.token_url, {"username": "gw", "password": PASSWORD, "otp_code": wrong}
        )
        assert response.status_code == 400 and "token" not in response.data
        clock.shift(2)
        response = client.post(
            self.token_url, {"username": "gw", "password": PASSWORD, "otp_code": code}
        )
        assert response.status_code == 200 and response.data["token"]

    def test_a_token_reveals_only_with_a_fresh_code_per_reveal(self, worker, person, clock):
        device = add_device(worker)
        client = APIClient()
        token = client.post(
            self.token_url,
            {"username": "gw", "password": PASSWORD, "otp_code": totp_code(device)},
        ).data["token"]
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")

        response = self.reveal(client, person)
        assert response.status_code == 403
        assert "X-OTP-Code" in response.data["detail"]
        assert person.phone not in response.content.decode()

        # The code used for the token is used up.
        assert self.reveal(client, person, totp_code(device)).status_code == 403
        clock.shift(30)
        code = totp_code(device)
        response = self.reveal(client, person, code)
        assert response.status_code == 200 and response.data == {"phone": person.phone}
        assert PersonalDataAccess.objects.get().channel == "api"
        # ... once.
        response = self.reveal(client, person, code)
        assert response.status_code == 403 and "wrong or has been used" in response.data["detail"]
        assert PersonalDataAccess.objects.count() == 1

    def test_a_wrong_code_is_throttled_and_the_throttle_is_kept(self, worker, person, clock):
        device = add_device(worker)
        client = APIClient()
        client.force_authenticate(worker)
        code = totp_code(device)
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        assert self.reveal(client, person, wrong).status_code == 403
        device.refresh_from_db()
        assert device.throttling_failure_count == 1  # not rolled back with the refusal
        response = self.reveal(client, person, code)
        assert response.status_code == 403 and "Too many wrong codes" in response.data["detail"]
        clock.shift(2)
        assert self.reveal(client, person, code).status_code == 200

    def test_a_code_is_not_used_up_by_a_reveal_refused_for_another_reason(
        self, worker, person, clock
    ):
        device = add_device(worker)
        client = APIClient()
        client.force_authenticate(worker)
        code = totp_code(device)
        response = client.post(
            f"/api/v1/persons/{person.pk}/reveal/",
            {"fields": ["phone"], "reason": ""},
            format="json",
            HTTP_X_OTP_CODE=code,
        )
        assert response.status_code == 400
        assert self.reveal(client, person, code).status_code == 200

    def test_a_session_signed_in_with_a_code_reveals_without_the_header(
        self, worker, person, clock
    ):
        client = APIClient()
        verify_session(client, worker)
        assert self.reveal(client, person).status_code == 200

    def test_without_an_authenticator_the_api_says_to_enrol(self, worker, person):
        client = APIClient()
        client.force_authenticate(worker)
        response = self.reveal(client, person, "123456")
        assert response.status_code == 403
        assert "/accounts/two-factor/" in response.data["detail"]
        assert not PersonalDataAccess.objects.exists()


def test_the_secret_is_never_shown_in_the_admin(client, make_user):
    admin = make_user("root")
    admin.is_staff = admin.is_superuser = True
    admin.save()
    device = add_device(admin)
    client.force_login(admin)
    url = reverse("admin:otp_totp_totpdevice_change", args=[device.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert device.key not in response.content.decode()


def test_codes_for_the_tests_match_what_an_app_computes(worker):
    # RFC 6238 appendix B, SHA-1, T = 59 s: 94287082 (8 digits) -> 287082 (6 digits).
    device = add_device(worker)
    assert totp_code(device, at=59) == "287082"


# --- the demo ----------------------------------------------------------------------------------


def test_demo_accounts_that_may_reveal_sign_in_with_the_public_demo_code(client, city, clock):
    import io

    from django.core.management import call_command

    from shequ.demo import accounts

    grid = city["grids"][0].code
    acc = accounts.accounts_for((grid[:9], "街道"), (grid[:12], "社区"), (grid, "网格"))
    accounts.create_accounts(acc, PASSWORD)
    with_device = set(TOTPDevice.objects.values_list("user__username", flat=True))
    assert with_device == {"street", "community", "grid", "steward", "admin"}
    assert sign_in(client, "city")["Location"] == reverse("home")  # may not reveal: no code
    client.logout()

    out = io.StringIO()
    call_command("demo_code", stdout=out, stderr=io.StringIO())
    code = out.getvalue().strip()
    assert code == accounts.demo_code() and re.fullmatch(r"[0-9]{6}", code)
    assert sign_in(client, "grid")["Location"] == reverse("login_code")
    client.post(reverse("login_code"), {"code": code})
    assert signed_in(client)
    assert person_phone_revealed(client, city["persons"][0])
    # Seeding again keeps one device per account.
    accounts.create_accounts(acc, PASSWORD)
    assert TOTPDevice.objects.filter(user__username="grid").count() == 1


def person_phone_revealed(client, person) -> bool:
    return person.phone in reveal_on_page(client, person).content.decode()

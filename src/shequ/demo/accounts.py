"""Demo accounts: one per role, all with one shared password, printed at the end of the seed.

The accounts whose role may reveal personal data sign in with a second factor (TOTP, see
core/twofactor.py). In the demo they share one *public* authenticator key, ``DEMO_OTP_KEY``:
add it to an authenticator app, or run ``shequ demo_code`` for the current code. Never use it
outside the demo.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db.models import ProtectedError

from shequ.core import twofactor
from shequ.core.models import RoleAssignment
from shequ.core.roles import Role

from .chengdu import CITY_CODE, CITY_NAME

DEMO_PASSWORD = "shequ-demo-2026"
# 20 bytes, hex (django-otp's form); base32 for apps: see demo_secret(). Public: demo only.
DEMO_OTP_KEY = b"Shequ demo TOTP key!".hex()


@dataclass(frozen=True)
class Account:
    username: str
    role: str
    area_code: str
    area_name: str
    display_name: str
    superuser: bool = False


def accounts_for(street: tuple[str, str], community: tuple[str, str], grid: tuple[str, str]):
    """The demo accounts, attached to the city and to the first street, community and grid."""
    return [
        Account("city", Role.CITY_OPERATOR, CITY_CODE, CITY_NAME, "市城运中心值班员"),
        Account("street", Role.STREET_STAFF, *street, f"{street[1]}工作人员"),
        Account("community", Role.COMMUNITY_WORKER, *community, f"{community[1]}社区工作者"),
        Account("grid", Role.GRID_WORKER, *grid, f"{grid[1]}网格员"),
        Account("dept", Role.DEPARTMENT_HANDLER, CITY_CODE, CITY_NAME, "市住建局经办人"),
        Account("steward", Role.DATA_STEWARD, CITY_CODE, CITY_NAME, "市数据资源管理员"),
        # The admin site's superuser is scoped like anyone else: a data steward for the city.
        Account("admin", Role.DATA_STEWARD, CITY_CODE, CITY_NAME, "系统管理员", superuser=True),
    ]


USERNAMES = ["city", "street", "community", "grid", "dept", "steward", "admin"]


def remove_demo_users() -> None:
    """Delete the demo users; one that audit rows still point at is kept (and reset later)."""
    User = get_user_model()
    for user in User.objects.filter(username__in=USERNAMES):
        try:
            user.delete()
        except ProtectedError:
            user.assignments.all().delete()


def create_accounts(accounts: list[Account], password: str = DEMO_PASSWORD) -> None:
    User = get_user_model()
    hashed = make_password(password)  # hashed once: hashing is deliberately slow
    for acc in accounts:
        user, _ = User.objects.get_or_create(username=acc.username)
        user.password = hashed
        user.display_name = acc.display_name
        user.is_active = True
        user.is_staff = acc.superuser
        user.is_superuser = acc.superuser
        user.save()
        user.assignments.all().delete()
        RoleAssignment.objects.create(user=user, role=acc.role, area_code=acc.area_code)
        set_demo_device(user, with_device=twofactor.role_may_reveal(acc.role))


def set_demo_device(user, *, with_device: bool) -> None:
    """The demo's public authenticator for accounts that may reveal; none for the others."""
    TOTPDevice = twofactor.device_model()
    TOTPDevice.objects.filter(user=user).delete()
    if with_device:
        TOTPDevice.objects.create(user=user, name="demo", key=DEMO_OTP_KEY, confirmed=True)


def demo_secret() -> str:
    """DEMO_OTP_KEY as authenticator apps take it typed in (base32)."""
    import base64

    return base64.b32encode(bytes.fromhex(DEMO_OTP_KEY)).decode()


def demo_code(at: float | None = None) -> str:
    """The code an authenticator app with the demo key shows now (or at ``at``)."""
    import time

    from django_otp.oath import TOTP

    generator = TOTP(bytes.fromhex(DEMO_OTP_KEY))
    generator.time = time.time() if at is None else at
    return f"{generator.token():06d}"

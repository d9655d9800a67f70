"""A small, complete city for tests (and a user maker). Deterministic; no randomness."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model

from shequ.areas import codes
from shequ.areas.models import Area, Facility, FacilityKind, Level, Place, PlaceKind
from shequ.core import idnumber
from shequ.core.models import RoleAssignment
from shequ.people.choices import Relation, ResidenceKind, ResidentType, Sex
from shequ.people.models import Household, Person, Residence

PASSWORD = "Shequ-test-2026"


def square(lng: float, lat: float, size: float) -> dict:
    h = size / 2
    ring = [
        [lng - h, lat - h],
        [lng + h, lat - h],
        [lng + h, lat + h],
        [lng - h, lat + h],
        [lng - h, lat - h],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


def _area(code, level, name, name_en, parent, lng, lat, size, **extra) -> Area:
    return Area.objects.create(
        code=code,
        level=level,
        name=name,
        name_en=name_en,
        parent=parent,
        lng=lng,
        lat=lat,
        boundary=square(lng, lat, size),
        **extra,
    )


def build_city() -> dict:
    """City 5101 with two districts; each: one street, two communities, two grids per
    community, one compound per grid (one building, one unit, two dwellings), two people per
    dwelling. Returns the objects by name for tests to pick from."""
    city = _area(
        "5101", Level.CITY, "成都市", "Chengdu", None, 104.06, 30.66, 1.0, ext_code="510100"
    )
    out: dict = {
        "city": city,
        "districts": [],
        "communities": [],
        "grids": [],
        "dwellings": [],
        "persons": [],
        "households": [],
    }
    seq = 0
    for d_i, (dcode, dname, den) in enumerate(
        [("510104", "锦江区", "Jinjiang"), ("510105", "青羊区", "Qingyang")]
    ):
        lng0 = 104.0 + d_i * 0.2
        district = _area(dcode, Level.DISTRICT, dname, f"{den} District", city, lng0, 30.6, 0.2)
        out["districts"].append(district)
        street = _area(
            f"{dcode}001",
            Level.STREET,
            f"{dname}一街道",
            f"{den} Street 1",
            district,
            lng0,
            30.6,
            0.1,
        )
        for c_i in range(2):
            ccode = f"{street.code}{c_i + 1:03d}"
            community = _area(
                ccode,
                Level.COMMUNITY,
                f"{dname}社区{c_i + 1}",
                f"{den} Community {c_i + 1}",
                street,
                lng0 + c_i * 0.05,
                30.6,
                0.05,
            )
            out["communities"].append(community)
            for g_i in range(2):
                grid = _area(
                    codes.grid_code(ccode, g_i + 1),
                    Level.GRID,
                    f"第{g_i + 1}网格",
                    f"Grid {g_i + 1}",
                    community,
                    lng0 + c_i * 0.05 + g_i * 0.02,
                    30.6,
                    0.02,
                )
                out["grids"].append(grid)
                compound = Place.objects.create(
                    code=codes.compound_code(ccode, g_i + 1),
                    kind=PlaceKind.COMPOUND,
                    name=f"锦绣苑{c_i}{g_i}",
                    name_en=f"Jinxiu Garden {c_i}{g_i}",
                    area_code=grid.code,
                    lng=grid.lng,
                    lat=grid.lat,
                    compound_type="commercial",
                    address=f"人民路{c_i * 2 + g_i + 1}号",  # unique gate within a district
                    managed=True,
                )
                building = Place.objects.create(
                    code=codes.building_code(compound.code, 1),
                    kind=PlaceKind.BUILDING,
                    name="1栋",
                    name_en="Building 1",
                    parent=compound,
                    area_code=grid.code,
                    lng=grid.lng,
                    lat=grid.lat,
                )
                unit = Place.objects.create(
                    code=codes.unit_code(building.code, 1),
                    kind=PlaceKind.UNIT,
                    name="1单元",
                    name_en="Unit 1",
                    parent=building,
                    area_code=grid.code,
                )
                for room in (1, 2):
                    dwelling = Place.objects.create(
                        code=codes.dwelling_code(unit.code, 5, room),
                        kind=PlaceKind.DWELLING,
                        name=f"50{room}",
                        name_en=f"50{room}",
                        parent=unit,
                        area_code=grid.code,
                        floor=5,
                    )
                    out["dwellings"].append(dwelling)
                    seq += 1
                    household = Household.objects.create(
                        number=f"H{seq:06d}", area_code=grid.code, dwelling=dwelling
                    )
                    out["households"].append(household)
                    for member in range(2):
                        male = member == 0
                        birth = dt.date(1970 + seq % 30, 1 + seq % 12, 1 + member)
                        person = Person.objects.create(
                            area_code=grid.code,
                            name=("张" if male else "李") + ("伟" if male else "娜") + str(seq),
                            sex=Sex.MALE if male else Sex.FEMALE,
                            birth_date=birth,
                            id_number=idnumber.make(dcode, birth, 2 * seq + (1 if male else 0)),
                            phone=f"139{seq:04d}{member:04d}",
                            resident_type=ResidentType.REGISTERED,
                            ethnicity="01",
                            household=household,
                            relation=Relation.HEAD if male else Relation.SPOUSE,
                            dwelling=dwelling,
                        )
                        Residence.objects.create(
                            person=person,
                            dwelling=dwelling,
                            kind=ResidenceKind.REGISTERED,
                            start=dt.date(2015, 1, 1),
                            area_code=grid.code,
                        )
                        out["persons"].append(person)
        Facility.objects.create(
            code=codes.facility_code(street.code, 1),
            kind=FacilityKind.HEALTH_CENTRE,
            name=f"{dname}社区卫生服务中心",
            name_en=f"{den} Health Centre",
            area_code=street.code,
            lng=lng0,
            lat=30.6,
        )
    return out


def make_user(username: str, role: str | None = None, *area_codes: str):
    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    for code in area_codes:
        RoleAssignment.objects.create(user=user, role=role, area_code=code)
    return user


# --- two-factor sign-in (core/twofactor.py) ------------------------------------------------------
# A reveal needs a request verified with a TOTP code. Tests that are about something else than
# two-factor itself give the user an authenticator and verify the session or the user object
# with these; the rule itself is tested in core/tests/test_twofactor.py.

TEST_OTP_KEY = "3132333435363738393031323334353637383930"  # RFC 6238's test key, hex


def add_device(user, key: str = TEST_OTP_KEY):
    """A confirmed TOTP authenticator for ``user`` (the one it already has, if any)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="test", key=key, confirmed=True)


def totp_code(device, at: float | None = None) -> str:
    """The code an authenticator app shows for ``device`` at ``at`` (now by default)."""
    import time

    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() if at is None else at
    return f"{totp.token():0{device.digits}d}"


def verify_session(client, user):
    """Sign ``client`` (Django's or DRF's test client) in as ``user``, verified with a code, as
    the two-step sign-in leaves a session. Returns the device."""
    from .twofactor import DEVICE_ID_SESSION_KEY

    device = add_device(user)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device


def verified(user):
    """``user`` as a request verified with a code sees it: for direct calls of
    ``personal.reveal`` and for ``APIClient.force_authenticate``. Returns the user."""
    from .twofactor import mark_verified

    mark_verified(user, add_device(user))
    return user

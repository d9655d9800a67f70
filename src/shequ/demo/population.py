"""Households and residents of the demo city.

A household is a list of :class:`Member` tuples, head first. The mix of household types is tuned
so that the city comes out at about 63% registered residents (户籍常住), 35% floating
population (流动人口) and 1% foreign residents (境外), and an age pyramid of about 15% aged 0-14,
67% aged 15-59 and 18% aged 60 and over (Chengdu, 2020 census).
"""

from __future__ import annotations

import datetime as dt
import random
from typing import NamedTuple

from shequ.core import idnumber
from shequ.people.choices import IdType, Relation, ResidenceKind, ResidentType

from . import names
from .chengdu import DISTRICTS, OTHER_REGIONS, SICHUAN_REGIONS

# Ages and dates are counted from this day, never from "today": the same seed gives the same city.
REFERENCE_DATE = dt.date(2026, 6, 30)
_REF = REFERENCE_DATE.toordinal()
_YEAR = 365.2425

MALE, FEMALE = "1", "2"

ETHNICITIES = names.Weighted(  # GB 3304: 01 汉 03 回 04 藏 07 彝 33 羌 15 土家 11 满 06 苗
    ["01", "04", "03", "07", "33", "15", "11", "06"], [976, 6, 5, 5, 3, 2, 2, 1]
)
MOBILE_PREFIXES = [
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "147", "150", "151", "152",
    "153", "155", "156", "157", "158", "159", "166", "173", "175", "176", "177", "178", "180",
    "181", "182", "183", "184", "185", "186", "187", "188", "189", "191", "195", "198", "199",
]  # fmt: skip
_PHONE_SPACE = 10**8
_CHENGDU_CODES = [d.code for d in DISTRICTS]


class Member(NamedTuple):
    name: str
    name_latin: str
    sex: str
    birth_date: str  # ISO
    id_type: str
    id_number: str
    phone: str
    ethnicity: str
    nationality: str
    resident_type: str
    hukou_region: str
    relation: str
    residence_kind: str
    residence_start: str  # ISO


class Household(NamedTuple):
    resident_type: str
    members: list[Member]


class PeopleMaker:
    """Makes households for one district at a time; ID numbers and phones stay unique."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.district = ""
        self._ids: set[int] = set()
        # Phones: an affine bijection of a counter modulo 10^8 -> unique last eight digits.
        self._phone_n = 0
        self._phone_a = rng.randrange(1, _PHONE_SPACE // 10) * 10 + rng.choice((1, 3, 7, 9))
        self._phone_b = rng.randrange(_PHONE_SPACE)
        self._passport_n = 0
        self._passport_a = rng.randrange(1, _PHONE_SPACE // 10) * 10 + rng.choice((1, 3, 7, 9))

    # --- small pieces -------------------------------------------------------------------

    def birth(self, age: int) -> dt.date:
        days = int((age + self.rng.random()) * _YEAR)
        return dt.date.fromordinal(_REF - max(days, 0))

    def id_number(self, region: str, birth: dt.date, sex: str) -> str:
        rng = self.rng
        odd = 1 if sex == MALE else 0
        for _ in range(50):
            seq = rng.randrange(500) * 2 + odd
            number = idnumber.make(region, birth, seq)
            key = int(number[:17])
            if key not in self._ids:
                self._ids.add(key)
                return number
        for seq in range(odd, 1000, 2):  # pragma: no cover - 500 people, one day, one county
            number = idnumber.make(region, birth, seq)
            if int(number[:17]) not in self._ids:
                self._ids.add(int(number[:17]))
                return number
        raise RuntimeError(f"no ID sequence left for {region} {birth}")  # pragma: no cover

    def phone(self, age: int) -> str:
        p = self.rng.random()
        if age < 12 or (age < 15 and p < 0.7) or (age >= 75 and p < 0.45):
            return ""
        if age >= 15 and p < 0.03:
            return ""
        n = self._phone_n
        self._phone_n += 1
        tail = (self._phone_a * n + self._phone_b) % _PHONE_SPACE
        return f"{self.rng.choice(MOBILE_PREFIXES)}{tail:08d}"

    def start_date(self, birth: dt.date, max_years: float, adult: bool = True) -> str:
        earliest = birth.toordinal() + (18 * 365 if adult else 0)
        day = _REF - int(self.rng.random() * max_years * _YEAR)
        return dt.date.fromordinal(max(min(day, _REF), min(earliest, _REF))).isoformat()

    # --- people -------------------------------------------------------------------------

    def chinese(
        self,
        kind: str,
        age: int,
        sex: str,
        relation: str,
        *,
        family_name: str | None = None,
        origin: str = "",
        ethnicity: str = "01",
    ) -> Member:
        rng = self.rng
        birth = self.birth(age)
        fam = family_name or names.surname(rng)
        name = fam + names.given_name(rng, sex, birth.year)
        if rng.random() < 0.03:  # the odd minority member in a household
            ethnicity = ETHNICITIES.pick(rng)
        if kind == ResidentType.REGISTERED:
            p = rng.random()
            if age < 18 or p < 0.7:
                region = self.district
            elif p < 0.85:
                region = rng.choice(_CHENGDU_CODES)
            else:
                region = rng.choice(SICHUAN_REGIONS)
            hukou = self.district
            if age < 18 and region == self.district:
                start = birth.isoformat()
            else:
                start = self.start_date(birth, 30)
            res_kind = ResidenceKind.REGISTERED
        else:
            region = hukou = origin
            start = self.start_date(birth, 8, adult=age >= 18)
            res_kind = ResidenceKind.FLOATING
        return Member(
            name,
            "",
            sex,
            birth.isoformat(),
            IdType.RESIDENT_ID,
            self.id_number(region, birth, sex),
            self.phone(age),
            ethnicity,
            "CHN",
            kind,
            hukou,
            relation,
            res_kind,
            start,
        )

    def foreigner(
        self, age: int, sex: str, relation: str, nat, family=None
    ) -> tuple[Member, tuple[str, str]]:
        rng = self.rng
        alpha3, numeric, style = nat
        birth = self.birth(age)
        chinese, latin, fam = names.foreign_name(rng, style, sex, family)
        if rng.random() < 0.3:
            id_type = IdType.FOREIGN_PERMANENT
            number = self.id_number(f"951{numeric}", birth, sex)
        else:
            id_type = IdType.PASSPORT
            self._passport_n += 1
            digits = (self._passport_a * self._passport_n) % _PHONE_SPACE
            number = f"{rng.choice('EGPKMN')}{digits:08d}"
        member = Member(
            chinese,
            latin,
            sex,
            birth.isoformat(),
            id_type,
            number,
            self.phone(age),
            "",
            alpha3,
            ResidentType.FOREIGN,
            "",
            relation,
            ResidenceKind.LIVING,
            self.start_date(birth, 6, adult=age >= 18),
        )
        return member, fam

    # --- households ---------------------------------------------------------------------

    def household(self) -> Household:
        p = self.rng.random()
        if p < 0.015:
            return self.foreign_household()
        if p < 0.40:
            return self.floating_household()
        return self.registered_household()

    def _kids(self, kind, parent_age, n, father, mother, origin, eth) -> list[Member]:
        rng = self.rng
        out = []
        for _ in range(n):
            age = parent_age - rng.randint(23, 36)
            if age < 0:
                continue
            sex = rng.choice((MALE, FEMALE))
            fam = father if rng.random() < 0.92 else mother
            rel = Relation.SON if sex == MALE else Relation.DAUGHTER
            out.append(
                self.chinese(kind, age, sex, rel, family_name=fam, origin=origin, ethnicity=eth)
            )
        return out

    def _couple(self, kind, head_age, origin, eth) -> tuple[list[Member], str, str]:
        rng = self.rng
        head_sex = MALE if rng.random() < 0.75 else FEMALE
        other = FEMALE if head_sex == MALE else MALE
        spouse_age = max(18, head_age + rng.randint(-4, 2) * (1 if head_sex == MALE else -1))
        head = self.chinese(kind, head_age, head_sex, Relation.HEAD, origin=origin, ethnicity=eth)
        spouse = self.chinese(
            kind, spouse_age, other, Relation.SPOUSE, origin=origin, ethnicity=eth
        )
        father, mother = (head, spouse) if head_sex == MALE else (spouse, head)
        return [head, spouse], father.name[0], mother.name[0]

    def registered_household(self) -> Household:
        rng = self.rng
        kind = ResidentType.REGISTERED
        eth = ETHNICITIES.pick(rng)
        t = rng.random()
        if t < 0.30:  # couple with children
            age = rng.randint(26, 47)
            members, fa, mo = self._couple(kind, age, "", eth)
            members += self._kids(kind, age, 1 if rng.random() < 0.5 else 2, fa, mo, "", eth)
        elif t < 0.43:  # three generations: couple, children, the head's parent(s)
            age = rng.randint(30, 48)
            members, fa, mo = self._couple(kind, age, "", eth)
            members += self._kids(kind, age, 1 if rng.random() < 0.7 else 2, fa, mo, "", eth)
            head = members[0]
            elder_age = min(95, age + rng.randint(24, 34))
            both = rng.random() < 0.5
            if both or rng.random() < 0.4:
                members.append(
                    self.chinese(kind, elder_age, MALE, Relation.FATHER, family_name=head.name[0])
                )
            if both or len(members) == 2 or rng.random() < 0.6:
                members.append(self.chinese(kind, elder_age - 2, FEMALE, Relation.MOTHER))
        elif t < 0.58:  # elderly couple
            members, _, _ = self._couple(kind, rng.randint(60, 86), "", eth)
        elif t < 0.725:  # elderly living alone
            sex = FEMALE if rng.random() < 0.65 else MALE
            members = [self.chinese(kind, rng.randint(65, 93), sex, Relation.HEAD, ethnicity=eth)]
        elif t < 0.82:  # couple without children at home (young, or empty nest)
            age = rng.randint(24, 34) if rng.random() < 0.45 else rng.randint(48, 62)
            members, _, _ = self._couple(kind, age, "", eth)
        elif t < 0.88:  # single adult
            sex = rng.choice((MALE, FEMALE))
            members = [self.chinese(kind, rng.randint(20, 55), sex, Relation.HEAD, ethnicity=eth)]
        elif t < 0.96:  # parents with a grown-up child
            age = rng.randint(50, 66)
            members, fa, mo = self._couple(kind, age, "", eth)
            kid_age = age - rng.randint(23, 32)
            sex = rng.choice((MALE, FEMALE))
            rel = Relation.SON if sex == MALE else Relation.DAUGHTER
            members.append(self.chinese(kind, kid_age, sex, rel, family_name=fa, ethnicity=eth))
        else:  # single parent with a child
            age = rng.randint(30, 48)
            sex = FEMALE if rng.random() < 0.75 else MALE
            head = self.chinese(kind, age, sex, Relation.HEAD, ethnicity=eth)
            members = [head, *self._kids(kind, age, 1, head.name[0], head.name[0], "", eth)]
        return Household(kind, members)

    def floating_household(self) -> Household:
        rng = self.rng
        kind = ResidentType.FLOATING
        origin = rng.choice(SICHUAN_REGIONS) if rng.random() < 0.75 else rng.choice(OTHER_REGIONS)
        eth = ETHNICITIES.pick(rng)
        t = rng.random()
        if t < 0.30:  # single worker or student renting
            sex = MALE if rng.random() < 0.55 else FEMALE
            age = rng.randint(18, 50)
            members = [self.chinese(kind, age, sex, Relation.HEAD, origin=origin, ethnicity=eth)]
        elif t < 0.52:  # couple renting
            members, _, _ = self._couple(kind, rng.randint(22, 45), origin, eth)
        elif t < 0.80:  # young family
            age = rng.randint(26, 44)
            members, fa, mo = self._couple(kind, age, origin, eth)
            members += self._kids(kind, age, 1 if rng.random() < 0.7 else 2, fa, mo, origin, eth)
            if rng.random() < 0.18:  # a grandparent who came to help (随迁老人)
                members.append(
                    self.chinese(
                        kind,
                        min(80, age + rng.randint(24, 32)),
                        FEMALE,
                        Relation.MOTHER,
                        origin=origin,
                        ethnicity=eth,
                    )
                )
        else:  # shared rental of unrelated workers
            n = rng.randint(2, 4)
            members = []
            for i in range(n):
                sex = MALE if rng.random() < 0.6 else FEMALE
                home = origin if i == 0 or rng.random() < 0.3 else rng.choice(SICHUAN_REGIONS)
                rel = Relation.HEAD if i == 0 else Relation.NON_RELATIVE
                members.append(
                    self.chinese(kind, rng.randint(18, 40), sex, rel, origin=home, ethnicity="01")
                )
        return Household(kind, members)

    def foreign_household(self) -> Household:
        rng = self.rng
        nat = names.NATIONALITIES.pick(rng)
        t = rng.random()
        age = rng.randint(22, 62)
        sex = MALE if rng.random() < 0.6 else FEMALE
        head, fam = self.foreigner(age, sex, Relation.HEAD, nat)
        members = [head]
        if t > 0.55:
            other = FEMALE if sex == MALE else MALE
            spouse_age = max(20, age + rng.randint(-5, 3))
            spouse, _ = self.foreigner(spouse_age, other, Relation.SPOUSE, nat)
            members.append(spouse)
            if t > 0.85 and age < 50:
                kid_age = max(0, age - rng.randint(25, 36))
                kid_sex = rng.choice((MALE, FEMALE))
                rel = Relation.SON if kid_sex == MALE else Relation.DAUGHTER
                kid, _ = self.foreigner(kid_age, kid_sex, rel, nat, family=fam)
                members.append(kid)
        return Household(ResidentType.FOREIGN, members)

    def households(self, quota: int):
        """Households until exactly ``quota`` residents; the last one is cut to fit."""
        left = quota
        while left > 0:
            hh = self.household()
            if len(hh.members) > left:
                hh = Household(hh.resident_type, hh.members[:left])
            left -= len(hh.members)
            yield hh

"""The population store in the demo city (``shequ seed``): four offices' lists of one street.

The residents of the demo street (the households of the demo grid and community first, at most
``DEMO_PERSONS`` persons, so that the seed stays fast) are written as the four noisy source
files of ``dev-20k`` (police household roll, property rolls, visit forms, clinic index) by
:mod:`shequ.people.noisy`, imported as four batches through the real ingest service by the
demo data steward, and linked into the existing persons (:func:`services.link_pending`). The
person pages then show each person's records with their provenance, the links with their
comparisons, and the review queue has its uncertain pairs.
"""

from __future__ import annotations

import re
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from shequ.areas.models import Area, Place, PlaceKind
from shequ.core.models import User

from .choices import IdType, ResidentType
from .ingest import ingest_file
from .models import Batch, Person, RawRecord
from .noisy import write_sources
from .services import link_pending

DEMO_PERSONS = 1000
SOURCES = ("police_hukou", "clinic", "property_mgmt", "visit_forms")
_DWELLING = re.compile(r"^(?P<compound>.+C\d+)B(?P<b>\d+)U(?P<u>\d+)R(?P<f>\d{2})(?P<r>\d{2})$")
_MOBILE = re.compile(r"^1\d{10}$")


def _compounds(street: str):
    """The street's compounds as ``noisy`` wants them, and their index by code."""
    districts = dict(Area.objects.filter(level="district").values_list("code", "name"))
    rows = Place.objects.filter(kind=PlaceKind.COMPOUND, area_code__startswith=street).order_by(
        "code"
    )
    compounds, index = [], {}
    for p in rows.values("code", "name", "area_code", "address", "managed"):
        community = p["area_code"].split("G", 1)[0]
        district = community[:6]
        index[p["code"]] = len(compounds)
        compounds.append(
            (
                p["code"],
                p["name"],
                community,
                district,
                districts.get(district, ""),
                p["address"] or "",
                bool(p["managed"]),
            )
        )
    return compounds, index


def _flat(code: str, index: dict[str, int]):
    match = _DWELLING.match(code or "")
    if not match or match["compound"] not in index:
        return None
    room = int(match["f"]) * 100 + int(match["r"])
    return (index[match["compound"]], int(match["b"]), int(match["u"]), room)


def demo_households(ctx, limit: int = DEMO_PERSONS):
    """Households of the demo street (grid first, then community, then the rest), as
    ``noisy.write_sources`` wants them; at most about ``limit`` persons."""
    rng = ctx.rng("people.demo")
    compounds, index = _compounds(ctx.street)
    persons = (
        Person.objects.filter(area_code__startswith=ctx.street, dwelling__isnull=False)
        .select_related("household", "dwelling")
        .order_by("id")
    )
    by_household: dict[object, list[Person]] = defaultdict(list)
    for person in persons:
        by_household[person.household_id or f"p{person.pk}"].append(person)

    def rank(members: list[Person]) -> tuple:
        area = members[0].area_code
        return (not area.startswith(ctx.grid), not area.startswith(ctx.community))

    groups = sorted(by_household.values(), key=lambda m: (rank(m), m[0].pk))
    dwellings = sorted({m[0].dwelling.code for m in groups})
    households, count = [], 0
    for members in groups:
        if count >= limit:
            break
        flat = _flat(members[0].dwelling.code, index)
        if flat is None:
            continue
        hh_persons = []
        for person in members:
            if not person.birth_date or not person.name:
                continue
            number = person.id_number if person.id_type == IdType.RESIDENT_ID else ""
            phone = person.phone if _MOBILE.match(person.phone or "") else ""
            hh_persons.append(
                (
                    {
                        "pid": f"P{person.pk}",
                        "name": person.name,
                        "sex": person.sex if person.sex in ("1", "2") else "1",
                        "dob": person.birth_date,
                        "id": number if len(number) == 18 else "",
                        "phone": phone,
                    },
                    person.relation or "02",
                )
            )
        if not hh_persons:
            continue
        moved = rng.random() < 0.1
        old = _flat(rng.choice(dwellings), index) if moved else flat
        household = members[0].household
        count += len(hh_persons)
        households.append(
            {
                "members": hh_persons,
                "local": members[0].resident_type == ResidentType.REGISTERED,
                "flat": flat,
                "old": old or flat,
                "moved": moved and old is not None,
                "hh": household.number if household else f"{ctx.street[:6]}{members[0].pk:09d}",
                "phone": hh_persons[0][0]["phone"] or f"13{rng.randrange(10**9):09d}",
            }
        )
    return households, compounds


def seed_demo(ctx) -> str:
    steward = User.objects.filter(username="steward").first()
    # ``seed --reset`` empties the records but keeps the batches (no area points at them):
    # without this, the same demo files would be answered with those empty earlier batches.
    Batch.objects.filter(source__code__in=SOURCES).exclude(
        pk__in=RawRecord.objects.values("batch_id")
    ).delete()
    t0 = time.perf_counter()
    households, compounds = demo_households(ctx)
    with tempfile.TemporaryDirectory(prefix="shequ-demo-sources-") as tmp:
        counts = write_sources(
            Path(tmp), households, compounds, ctx.rng("people.noisy"), truth=False
        )
        batches = []
        for code in SOURCES:
            result = ingest_file(code, Path(tmp) / f"{code}.csv", user=steward, link=False)
            batches.append(result.batch)
    t = time.perf_counter()
    outcome = link_pending(user=steward)
    ctx.log(
        f"people: read and stored in {t - t0:.1f} s, linked in {time.perf_counter() - t:.1f} s "
        f"({', '.join(f'{k} {v:.1f}' for k, v in outcome.seconds.items())})"
    )
    return (
        f"{len(batches)} source batches, {counts['records']:,} raw records of "
        f"{counts['persons']:,} residents of {ctx.street}; {outcome.linked_records:,} linked, "
        f"{outcome.new_persons:,} new persons, {outcome.review_items:,} to review"
    )

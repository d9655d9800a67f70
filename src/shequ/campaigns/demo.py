"""The demo's campaign: the demo community screened in three rounds, now in its second.

Round 1 is complete and closed; round 2 is about 40 % done with mixed outcomes; round 3 is
planned. Two-person teams mix community, street and district staff with volunteers; the
territories are planned; answers at the door have raised follow-ups. Deterministic
(``ctx.rng("campaigns")``); dates are relative to today so that the campaign is current.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.contrib.auth import get_user_model
from django.utils import timezone

from shequ.areas.models import Area

from . import services
from .models import Affiliation, FollowUp, TaskStatus, Visit, VisitTask

TEAMS = 6
VOLUNTEERS = ["王志强", "刘芳", "陈静", "杨洋", "赵磊", "黄丽", "周杰", "吴敏", "徐涛", "孙悦"]
STAFF = [
    ("李建国", Affiliation.DISTRICT),
    ("张晓燕", Affiliation.STREET),
    ("何文", Affiliation.DISTRICT),
]
ROUND_2_SHARE = 0.4


def _answers(rng) -> dict:
    temperature = round(rng.gauss(36.5, 0.25), 1)
    if rng.random() < 0.02:
        temperature = round(rng.uniform(37.3, 38.6), 1)
    answers = {
        "temperature": max(35.0, min(temperature, 41.0)),
        "came_from_outside": rng.random() < 0.05,
        "people_home": rng.choice([1, 2, 2, 3, 3, 3, 4, 5]),
        "elderly_alone": rng.random() < 0.04,
        "disability_needs_help": rng.random() < 0.02,
    }
    if answers["came_from_outside"]:
        answers["travel_from"] = rng.choice(["武汉", "重庆", "北京", "广州", "上海"])
    if rng.random() < 0.05:
        answers["symptoms"] = [rng.choice(["cough", "fatigue", "sore_throat"])]
    return answers


def _visit(rng, task, outcome: str, when: dt.datetime) -> dict:
    # A visit "today" at 10:00 would lie in the future just after midnight: never after now.
    when = min(when, timezone.now() - dt.timedelta(minutes=1))
    item = {
        "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "task": task.pk,
        "outcome": outcome,
        "visited_at": when.isoformat(),
    }
    if outcome in ("visited", "new_residents"):
        item["answers"] = _answers(rng)
    if outcome == "new_residents":
        item["new_residents"] = [
            {"name": rng.choice(VOLUNTEERS)[:1] + rng.choice("明华军红英"), "birth_year": 1990}
        ]
    return item


def _when(rng, day: dt.date) -> dt.datetime:
    moment = dt.datetime.combine(day, dt.time(9 + rng.randrange(10), rng.randrange(60)))
    return timezone.make_aware(moment)


def seed_demo(ctx) -> str:
    rng = ctx.rng("campaigns")
    User = get_user_model()
    area = Area.objects.get(code=ctx.community)
    worker = User.objects.get(username="community")
    users = {u.username: u for u in User.objects.filter(username__in=["community", "street"])}
    today = timezone.localdate()
    start1 = today - dt.timedelta(days=10)
    campaign = services.create_campaign(
        name="2020年春季全覆盖入户走访排查",
        area=area,
        purpose="逐户排查健康状况、外来人员与需要帮助的居民，三轮全覆盖。",
        user=worker,
    )
    rounds = [
        services.add_round(
            campaign, start1 + dt.timedelta(days=7 * i), start1 + dt.timedelta(days=7 * i + 6)
        )
        for i in range(3)
    ]
    volunteers = iter(VOLUNTEERS)
    for t in range(TEAMS):
        if t == 0 and "community" in users:
            first = (users["community"], "", Affiliation.COMMUNITY)
        elif t == 1 and "street" in users:
            first = (users["street"], "", Affiliation.STREET)
        else:
            name, affiliation = STAFF[t % len(STAFF)]
            first = (None, name, affiliation)
        services.add_team(
            campaign,
            area.code,
            f"第{t + 1}组",
            [first, (None, next(volunteers), Affiliation.VOLUNTEER)],
        )
    services.plan_territories(campaign, processes=1)

    # Round 1: every dwelling reached (some after a first call found nobody home); closed.
    tasks1 = list(VisitTask.objects.filter(round=rounds[0]).order_by("route_order", "id"))
    batch = []
    for task in tasks1:
        day = rounds[0].start + dt.timedelta(days=rng.randrange(6))
        if rng.random() < 0.08:
            batch.append(_visit(rng, task, "not_home", _when(rng, day)))
            day += dt.timedelta(days=1)
        roll = rng.random()
        outcome = (
            "empty"
            if roll < 0.05
            else "refused"
            if roll < 0.07
            else "new_residents"
            if roll < 0.09
            else "visited"
        )
        batch.append(_visit(rng, task, outcome, _when(rng, day)))
    _sync(worker, batch)
    services.close_round(rounds[0], worker)

    # Round 2: about 40 % reached so far, mixed outcomes.
    tasks2 = list(VisitTask.objects.filter(round=rounds[1]).order_by("route_order", "id"))
    batch = []
    for task in tasks2:
        if rng.random() >= ROUND_2_SHARE:
            continue
        day = min(today, rounds[1].start + dt.timedelta(days=rng.randrange(4)))
        roll = rng.random()
        outcome = (
            "not_home"
            if roll < 0.15
            else "refused"
            if roll < 0.18
            else "empty"
            if roll < 0.22
            else "new_residents"
            if roll < 0.24
            else "visited"
        )
        batch.append(_visit(rng, task, outcome, _when(rng, day)))
    _sync(worker, batch)

    done = VisitTask.objects.filter(round=rounds[1]).exclude(status=TaskStatus.PENDING).count()
    return (
        f"campaign '{campaign.name}' over {area.code}: {len(tasks1):,} dwellings, "
        f"{TEAMS} teams, round 1 closed, round 2 {100 * done / max(1, len(tasks2)):.0f}% "
        f"reached, {Visit.objects.filter(round__campaign=campaign).count():,} visits, "
        f"{FollowUp.objects.filter(campaign=campaign).count()} follow-ups"
    )


def _sync(worker, items: list[dict]) -> None:
    for i in range(0, len(items), services.MAX_BATCH):
        results = services.sync_visits(worker, items[i : i + services.MAX_BATCH])
        bad = [r for r in results if r["status"] != "created"]
        if bad:
            raise RuntimeError(f"demo visits refused: {bad[:3]}")

"""``signals.tasks_changing``: the campaigns services announce the tasks a write changes, and
the dashboards follow them (without the campaigns app knowing the dashboards)."""

import datetime as dt
import uuid
from contextlib import contextmanager

import pytest

from shequ.campaigns import services, signals
from shequ.campaigns.models import TaskStatus, VisitTask
from shequ.campaigns.testing import campaign_for
from shequ.core.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def seen():
    """A receiver noting each announced write: the tasks' statuses before and after it."""
    calls = []

    def statuses(ids):
        return dict(VisitTask.objects.filter(pk__in=ids).values_list("pk", "status"))

    @contextmanager
    def follow(ids):
        before = statuses(ids)
        yield
        calls.append((before, statuses(ids)))

    def receiver(sender, task_ids, **kwargs):
        return follow(task_ids)

    signals.tasks_changing.connect(receiver, dispatch_uid="test-seen")
    yield calls
    signals.tasks_changing.disconnect(dispatch_uid="test-seen")


def test_a_sync_announces_its_tasks_before_and_after_the_write(city, make_user, seen):
    campaign = campaign_for(city, 0, rounds=1)
    worker = make_user("w", Role.COMMUNITY_WORKER, campaign.area_code)
    a, b = campaign.rounds.get().tasks.order_by("id")[:2]
    seen.clear()
    at = "2020-02-04T10:00:00+08:00"
    items = [
        {"uuid": str(uuid.uuid4()), "task": a.pk, "outcome": "refused", "visited_at": at},
        {"uuid": str(uuid.uuid4()), "task": b.pk, "outcome": "not_home", "visited_at": at},
        {"uuid": str(uuid.uuid4()), "task": 999999, "outcome": "refused", "visited_at": at},
    ]
    services.sync_visits(worker, items)
    assert seen == [
        (
            {a.pk: TaskStatus.PENDING, b.pk: TaskStatus.PENDING},
            {a.pk: TaskStatus.REFUSED, b.pk: TaskStatus.NOT_HOME},
        )
    ]
    # Sent again: stored once, the tasks unchanged.
    again = services.sync_visits(worker, items[:1] + items[2:])
    assert [r["status"] for r in again] == ["duplicate", "invalid"]
    assert seen[1:] in ([], [({a.pk: TaskStatus.REFUSED}, {a.pk: TaskStatus.REFUSED})])
    # Nothing valid: nothing announced.
    seen.clear()
    services.sync_visits(worker, items[2:])
    assert seen == []


def test_new_tasks_of_a_round_are_announced_once_written(city, seen):
    campaign = campaign_for(city, 0, rounds=1)
    seen.clear()
    r2 = services.add_round(campaign, dt.date(2020, 3, 1), dt.date(2020, 3, 5))
    assert len(seen) == 1
    before, after = seen[0]
    assert before == {}
    assert after == {t: TaskStatus.PENDING for t in r2.tasks.values_list("pk", flat=True)}
    assert len(after) == 8
    services.generate_tasks(r2)  # idempotent: nothing new, nothing announced
    assert len(seen) == 1


def test_the_dashboards_follow_a_new_round_without_a_rebuild(
    city, make_user, django_capture_on_commit_callbacks
):
    from shequ.dashboards import rollups
    from shequ.dashboards.models import Rollup

    def cells():
        return {
            (r.area_code, r.day, r.key, r.dim): r.value
            for r in Rollup.objects.filter(key__startswith="scr.")
            if r.value
        }

    campaign = campaign_for(city, 0, rounds=1)
    rollups.rebuild(["screening"])
    before = cells()
    with django_capture_on_commit_callbacks(execute=True):
        r2 = services.add_round(campaign, dt.date(2020, 3, 1), dt.date(2020, 3, 5))
    kept = cells()
    street = [k for k in kept if k[0] == campaign.area_code and k[3] == f"{r2.pk}:pending"]
    assert len(street) == 1 and kept[street[0]] == 8
    assert kept != before
    rollups.rebuild(["screening"])
    assert cells() == kept


def test_a_busy_server_applies_the_visits_of_a_moment_together(
    city, make_user, monkeypatch, django_capture_on_commit_callbacks
):
    """Outside tests the differences of many syncs are merged and applied together (a second
    later, by a timer): the numbers are the same as applying each one."""
    from huey.contrib.djhuey import HUEY

    from shequ.dashboards import rollups
    from shequ.dashboards.models import Rollup
    from shequ.dashboards.signals import pending

    def cells():
        return {
            (r.area_code, r.day, r.key, r.dim): r.value
            for r in Rollup.objects.filter(key__startswith="scr.")
            if r.value
        }

    campaign = campaign_for(city, 0, rounds=1)
    worker = make_user("w", Role.COMMUNITY_WORKER, campaign.area_code)
    rollups.rebuild(["screening"])
    before = cells()
    monkeypatch.setattr(HUEY, "immediate", False)
    at = "2020-02-04T10:00:00+08:00"
    for task, outcome in zip(
        campaign.rounds.get().tasks.order_by("id")[:3], ["refused"] * 2 + ["not_home"], strict=True
    ):
        with django_capture_on_commit_callbacks(execute=True):
            item = {
                "uuid": str(uuid.uuid4()),
                "task": task.pk,
                "outcome": outcome,
                "visited_at": at,
            }
            assert services.sync_visits(worker, [item])[0]["status"] == "created"
    assert cells() == before  # waiting for the timer
    assert pending._timer is not None
    assert pending.flush() > 0
    assert pending._timer is None
    kept = cells()
    rollups.rebuild(["screening"])
    assert cells() == kept != before


def test_a_change_counted_by_a_rebuild_is_not_applied_again(
    city, make_user, django_capture_on_commit_callbacks
):
    """``shequ seed`` visits, then rebuilds the rollups, then commits: the visits' own
    differences arrive after the rebuild that counted them already."""
    from django.db import transaction

    from shequ.dashboards import rollups
    from shequ.dashboards.models import Rollup

    campaign = campaign_for(city, 0, rounds=1)
    worker = make_user("w", Role.COMMUNITY_WORKER, campaign.area_code)
    task = campaign.rounds.get().tasks.first()
    at = "2020-02-04T10:00:00+08:00"
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        item = {"uuid": str(uuid.uuid4()), "task": task.pk, "outcome": "refused", "visited_at": at}
        services.sync_visits(worker, [item])
        rollups.rebuild(["screening"])
    refused = Rollup.objects.get(area_code=campaign.area_code, dim=f"{task.round_id}:refused")
    assert refused.value == 1


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_visits_keep_the_screening_rollups_equal_to_a_rebuild(
    city, make_user, django_capture_on_commit_callbacks, seed
):
    """A sync tells the dashboards what each task was and became; they follow it without
    reading the tasks. Whatever the visits — every outcome, out of order, sent twice, raising
    follow-ups (and cases), a new round's tasks in between — the rollups equal a rebuild's."""
    import random

    from shequ.campaigns.models import FollowUp
    from shequ.dashboards import rollups
    from shequ.dashboards.models import Rollup

    def cells():
        return {
            (r.area_code, r.level, r.day, r.key, r.dim): r.value
            for r in Rollup.objects.filter(key__startswith="scr.")
            if r.value
        }

    rng = random.Random(seed)
    campaign = campaign_for(city, 0, rounds=2)
    worker = make_user("w", Role.STREET_STAFF, campaign.area_code)
    rollups.rebuild(["screening"])
    start = cells()
    tasks = list(VisitTask.objects.filter(round__campaign=campaign).order_by("id"))
    day0 = dt.datetime(2020, 2, 3, 8, tzinfo=dt.UTC)
    sent, statuses = [], set()
    for step in range(14):
        if step == 7:  # a new round: its tasks announced by id (read before and after)
            with django_capture_on_commit_callbacks(execute=True):
                r3 = services.add_round(campaign, dt.date(2020, 3, 1), dt.date(2020, 3, 5))
            tasks += list(r3.tasks.order_by("id"))
        batch = []
        for _ in range(rng.randint(1, 6)):
            if sent and rng.random() < 0.2:
                batch.append(dict(rng.choice(sent)))  # sent before: a duplicate
                continue
            outcome = rng.choice(["visited", "visited", "not_home", "refused", "empty"] * 2
                                 + ["new_residents"])  # fmt: skip
            visit = {
                "uuid": str(uuid.uuid4()),
                "task": rng.choice(tasks).pk,
                "outcome": outcome,
                # Out of order: any time over four days, in any order.
                "visited_at": (day0 + dt.timedelta(minutes=rng.randrange(4 * 24 * 60))).isoformat(),
            }
            if outcome in ("visited", "new_residents"):
                travelled = rng.random() < 0.3
                visit["answers"] = {
                    "temperature": rng.choice([36.5, 36.8, 38.2]),
                    "came_from_outside": travelled,
                    "people_home": rng.randint(1, 4),
                    "elderly_alone": rng.random() < 0.2,
                    "disability_needs_help": rng.random() < 0.1,
                }
                if travelled:
                    visit["answers"]["travel_from"] = "武汉"
            if outcome == "new_residents":
                visit["new_residents"] = [{"name": "新住户", "sex": "F", "birth_year": 1990}]
            if rng.random() < 0.15:
                batch.append(dict(visit))  # twice in one batch
            batch.append(visit)
            sent.append({k: v for k, v in visit.items() if k != "_clean"})
        with django_capture_on_commit_callbacks(execute=True):
            results = services.sync_visits(worker, batch)
        assert [r for r in results if r["status"] == "invalid"] == []
        statuses |= {r["status"] for r in results}
    assert statuses == {"created", "duplicate"}
    assert len(set(FollowUp.objects.values_list("rule", flat=True))) > 1
    assert set(VisitTask.objects.values_list("status", flat=True)) >= {"pending", "not_home"}
    kept = cells()
    assert kept != start
    assert any(level == "compound" for _a, level, *_rest in kept)
    rollups.rebuild(["screening"])
    assert cells() == kept

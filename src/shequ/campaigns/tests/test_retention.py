"""Retention: the answers given at the door are anonymised after their campaign's retain_days;
outcomes, coverage and follow-up work stay; each run is recorded; a second run changes nothing."""

import datetime as dt
import uuid
from io import StringIO

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from shequ.campaigns import retention, services
from shequ.campaigns.models import (
    FollowUp,
    RetentionCount,
    RetentionRun,
    TaskStatus,
    Visit,
)
from shequ.campaigns.tasks import apply_retention_daily
from shequ.campaigns.testing import ANSWERS, campaign_for
from shequ.core.roles import Role
from shequ.governance.models import AuditEvent, AuditKind

pytestmark = pytest.mark.django_db

VISITED = dt.datetime(2020, 2, 4, 10, 0, tzinfo=dt.UTC)


def at(days: float):
    """Travel to ``days`` after the visits (the clock stands still)."""
    return time_machine.travel(VISITED + dt.timedelta(days=days), tick=False)


def item(task, outcome="visited", answers=None, when=VISITED, note="狗凶，敲门小心"):
    out = {
        "uuid": str(uuid.uuid4()),
        "task": task.pk,
        "outcome": outcome,
        "visited_at": when.isoformat(),
        "note": note,
    }
    if outcome == "visited":
        out["answers"] = answers or ANSWERS  # 37.8 °C: a fever follow-up
    return out


@pytest.fixture
def campaign(city):
    with at(0):
        return campaign_for(city, 0, rounds=1, teams=1)


@pytest.fixture
def worker(campaign, make_user):
    return make_user("worker", Role.COMMUNITY_WORKER, campaign.area_code)


@pytest.fixture
def visits(campaign, worker):
    """Three visits on three dwellings: two answered (one with a fever), one nobody home."""
    tasks = list(campaign.rounds.get().tasks.order_by("id")[:3])
    with at(0.1):
        results = services.sync_visits(
            worker,
            [
                item(tasks[0]),
                item(tasks[1], answers=dict(ANSWERS, temperature=36.5)),
                item(tasks[2], "not_home"),
            ],
        )
    assert [r["status"] for r in results] == ["created"] * 3
    return list(Visit.objects.filter(task__in=tasks).order_by("task_id"))


def test_a_visit_is_kept_until_visit_time_plus_the_campaigns_retention(campaign, visits):
    assert campaign.retain_days == 180
    for v in visits:
        assert v.retain_until == v.visited_at + dt.timedelta(days=180)
        assert v.anonymised_at is None


def test_a_campaign_states_its_own_retention_and_a_change_moves_the_dates(city, campaign, visits):
    street = city["districts"][1].children.get()
    other = services.create_campaign(name="短期", area=street, retain_days=30)
    assert other.retain_days == 30
    moved = services.update_campaign(campaign, retain_days=90)
    assert moved == 3
    for v in Visit.objects.filter(pk__in=[v.pk for v in visits]):
        assert v.retain_until == v.visited_at + dt.timedelta(days=90)
    with pytest.raises(ValidationError) as exc:
        services.update_campaign(campaign, retain_days=5)
    assert "between 30 and 3650 days" in str(exc.value.message_dict["retain_days"])
    with pytest.raises(ValidationError):
        services.create_campaign(name="x", area=street, retain_days=4000)


def test_expired_answers_are_anonymised_and_outcomes_stay(campaign, visits):
    coverage_before = services.coverage(campaign)
    fever = FollowUp.objects.get(visit=visits[0])
    assert fever.detail == "37.8 °C"
    with at(179):
        run = retention.apply()
    assert run.anonymised == 0  # not due yet
    assert Visit.objects.filter(anonymised_at__isnull=True).count() == 3
    with at(181):
        run = retention.apply()
    assert run.anonymised == 3 and run.finished_at is not None
    for v in Visit.objects.filter(pk__in=[v.pk for v in visits]):
        assert v.answers == {} and v.note == "" and v.anonymised_at is not None
    # Outcomes, task statuses, coverage and the follow-up work stay.
    assert [v.outcome for v in Visit.objects.order_by("task_id")] == [
        "visited",
        "visited",
        "not_home",
    ]
    assert visits[2].task.status == TaskStatus.NOT_HOME
    assert services.coverage(campaign) == coverage_before
    fever.refresh_from_db()
    assert (fever.rule, fever.status, fever.detail) == ("fever", "open", "")
    # The run is recorded, per campaign.
    count = RetentionCount.objects.get(run=run)
    assert (count.campaign_id, count.visits, count.follow_ups) == (campaign.pk, 3, 1)
    assert count.area_code == campaign.area_code


def test_a_second_run_touches_nothing(campaign, visits):
    with at(200):
        first = retention.apply()
    stamps = dict(Visit.objects.values_list("pk", "anonymised_at"))
    with at(201):
        second = retention.apply()
    assert (first.anonymised, second.anonymised) == (3, 0)
    assert not second.counts.exists()
    assert dict(Visit.objects.values_list("pk", "anonymised_at")) == stamps
    assert RetentionRun.objects.count() == 2


def test_only_the_visits_past_their_date_are_anonymised_in_batches(campaign, worker, visits):
    tasks = list(campaign.rounds.get().tasks.order_by("id")[3:8])
    later = VISITED + dt.timedelta(days=30)
    with at(30.1):
        services.sync_visits(worker, [item(t, when=later) for t in tasks])
    with at(190):
        run = retention.apply(batch=2)
    assert run.anonymised == 3
    assert set(Visit.objects.filter(anonymised_at__isnull=False)) == set(visits)
    with at(215):
        run = retention.apply(batch=2)  # five visits, batches of two
    assert run.anonymised == 5
    assert not Visit.objects.filter(anonymised_at__isnull=True).exists()
    assert not Visit.objects.exclude(answers={}).exists()


def test_each_run_writes_one_audit_event_without_values(campaign, visits):
    before = AuditEvent.objects.count()
    with at(181):
        run = retention.apply()
    events = AuditEvent.objects.order_by("id")[before:]
    assert len(events) == 1
    event = events[0]
    assert event.kind == AuditKind.DELETED
    assert (event.object_type, event.object_id) == ("campaigns.retentionrun", str(run.pk))
    assert event.changed_fields == ["answers", "detail", "note"]
    assert event.detail.startswith("3 visits' answers anonymised in 1 campaigns")
    assert "37.8" not in event.detail and "狗" not in event.detail


def test_the_command_and_the_daily_job(campaign, visits):
    out = StringIO()
    with at(181):
        call_command("apply_retention", "--batch-size", "2", stdout=out)
    assert "3 visits anonymised in 1 campaigns" in out.getvalue()
    run = RetentionRun.objects.get()
    assert run.by == "command:apply_retention"
    with at(182):
        apply_retention_daily.call_local()
    last = RetentionRun.objects.first()
    assert (last.anonymised, last.by) == (0, "task:apply_retention")


def test_the_campaign_page_shows_the_retention_runs_to_a_data_steward(
    client, campaign, visits, make_user
):
    with at(181):
        retention.apply()
    steward = make_user("steward", Role.DATA_STEWARD, campaign.area_code)
    client.force_login(steward)
    page = client.get(reverse("campaigns:campaign", args=[campaign.pk])).content.decode()
    assert "anonymised 180 days after the visit" in page
    assert "Visits anonymised so far: 3." in page
    assert 'id="retention-runs"' in page

import datetime as dt
import uuid

import pytest
from django.core.exceptions import ValidationError

from shequ.areas.models import Place, PlaceKind
from shequ.campaigns import services
from shequ.campaigns.models import (
    FollowUp,
    NewResident,
    TaskStatus,
    Team,
    Visit,
    VisitTask,
)
from shequ.campaigns.testing import ANSWERS, campaign_for
from shequ.core.roles import Role
from shequ.people.models import Person

pytestmark = pytest.mark.django_db


def visit(task, outcome="visited", answers=None, at="2020-02-04T10:00:00+08:00", **extra):
    item = {"uuid": str(uuid.uuid4()), "task": task.pk, "outcome": outcome, "visited_at": at}
    if outcome in ("visited", "new_residents"):
        item["answers"] = answers or dict(ANSWERS, temperature=36.5)
    item.update(extra)
    return item


@pytest.fixture
def campaign(city):
    return campaign_for(city, 0, rounds=2, teams=2)


@pytest.fixture
def worker(campaign, make_user):
    return make_user("worker", Role.COMMUNITY_WORKER, campaign.area_code)


def test_every_dwelling_in_scope_becomes_a_task_per_round_empty_ones_too(city, campaign):
    in_scope = Place.objects.filter(kind=PlaceKind.DWELLING, area_code__startswith="510104001")
    # A dwelling with nobody registered is visited too.
    empty = in_scope.first()
    Person.objects.filter(dwelling=empty).update(dwelling=None, household=None)
    empty.households.all().delete()
    r3 = services.add_round(campaign, dt.date(2020, 3, 1), dt.date(2020, 3, 5))
    for round_ in campaign.rounds.all():
        assert set(round_.tasks.values_list("dwelling_id", flat=True)) == set(
            in_scope.values_list("id", flat=True)
        )
    assert r3.tasks.get(dwelling=empty).households == 0
    assert r3.tasks.exclude(dwelling=empty).filter(households=1).count() == 7
    # Idempotent; the planned territories carry over to the new round.
    assert services.generate_tasks(r3) == 8
    assert r3.tasks.count() == 8
    planned = r3.tasks.exclude(community_code=city["communities"][0].code)
    assert not planned.filter(team__isnull=False).exists()
    assert not r3.tasks.filter(community_code=city["communities"][0].code, team=None).exists()


def test_a_round_ending_before_it_starts_is_refused(campaign):
    with pytest.raises(ValidationError):
        services.add_round(campaign, dt.date(2020, 3, 5), dt.date(2020, 3, 1))


def test_a_form_version_in_use_cannot_change(campaign, worker):
    round1 = campaign.rounds.get(number=1)
    v2 = services.new_form_version(campaign, campaign.current_form().schema)
    assert v2.number == 2
    services.use_form(round1, v2)  # no visits yet: allowed
    task = round1.tasks.first()
    assert services.sync_visits(worker, [visit(task)])[0]["status"] == "created"
    assert Visit.objects.get().form == v2
    with pytest.raises(ValidationError, match="can no longer change"):
        services.use_form(round1, campaign.forms.get(number=1))


def test_round_closes_only_when_every_dwelling_has_an_outcome(campaign, worker):
    round1 = campaign.rounds.get(number=1)
    tasks = list(round1.tasks.order_by("id"))
    items = [visit(tasks[0]), visit(tasks[1], "refused"), visit(tasks[2], "empty")]
    items.append(visit(tasks[3], "not_home"))
    items += [visit(task) for task in tasks[4:7]]  # tasks[7] not reached
    assert {r["status"] for r in services.sync_visits(worker, items)} == {"created"}
    with pytest.raises(ValidationError) as exc:
        services.close_round(round1, worker)
    message = exc.value.messages[0]
    assert "2 dwellings have no outcome yet (1 not reached, 1 nobody home)" in message
    nobody_home = VisitTask.objects.get(pk=tasks[3].pk)
    assert nobody_home.status == TaskStatus.NOT_HOME
    assert nobody_home.revisit_on == dt.date(2020, 2, 5)  # the next day, by default
    services.sync_visits(worker, [visit(tasks[3], at="2020-02-05T18:00:00+08:00")])
    with pytest.raises(ValidationError, match="1 not reached, 0 nobody home"):
        services.close_round(round1, worker)
    services.sync_visits(worker, [visit(tasks[7], "refused")])
    closed = services.close_round(round1, worker)
    assert closed.closed_at is not None
    with pytest.raises(ValidationError, match="already closed"):
        services.close_round(round1, worker)
    # A closed round takes no more visits.
    result = services.sync_visits(worker, [visit(tasks[0])])
    assert result[0]["status"] == "invalid" and "closed" in str(result[0]["errors"])


def test_latest_visit_wins_whatever_order_they_arrive_in(campaign, worker):
    task = campaign.rounds.get(number=1).tasks.first()
    later = visit(task, "visited", at="2020-02-05T10:00:00+08:00")
    earlier = visit(task, "not_home", at="2020-02-04T10:00:00+08:00")
    services.sync_visits(worker, [later])
    services.sync_visits(worker, [earlier])
    task.refresh_from_db()
    assert task.status == TaskStatus.VISITED
    assert task.visits.count() == 2


@pytest.mark.parametrize(
    ("answers", "rules"),
    [
        ({"temperature": 37.3}, {"fever"}),
        ({"temperature": 37.2}, set()),
        ({"came_from_outside": True, "travel_from": "武汉"}, {"travel"}),
        ({"elderly_alone": True}, {"elderly_alone"}),
        ({"disability_needs_help": True}, {"disability"}),
        ({"temperature": 38.5, "disability_needs_help": True}, {"fever", "disability"}),
    ],
)
def test_follow_up_rules(campaign, worker, answers, rules):
    task = campaign.rounds.get(number=1).tasks.first()
    full = {**ANSWERS, "temperature": 36.5, **answers}
    services.sync_visits(worker, [visit(task, answers=full)])
    found = FollowUp.objects.filter(task=task)
    assert set(found.values_list("rule", flat=True)) == rules
    due = {f.rule: f.due for f in found}
    if "fever" in rules:
        assert due["fever"] == dt.date(2020, 2, 5)
    if "disability" in rules:
        assert due["disability"] == dt.date(2020, 2, 11)


def test_elderly_alone_from_the_residents_confirmed(campaign, worker):
    task = campaign.rounds.get(number=1).tasks.first()
    old, young = Person.objects.filter(dwelling=task.dwelling).order_by("id")
    old.birth_date = dt.date(1950, 1, 1)
    old.save()
    residents = [
        {"person": old.pk, "status": "present"},
        {"person": young.pk, "status": "moved_out"},
    ]
    services.sync_visits(worker, [visit(task, residents=residents)])
    assert FollowUp.objects.get(task=task).rule == "elderly_alone"
    assert Visit.objects.get().residents == residents


def test_follow_ups_that_need_a_service_raise_a_case(campaign, worker):
    cases = pytest.importorskip("shequ.cases.services")
    if not hasattr(cases, "create_case"):
        pytest.skip("cases.services.create_case is not there yet")
    from shequ.cases.models import Case

    task = campaign.rounds.get(number=1).tasks.first()
    services.sync_visits(worker, [visit(task, answers={**ANSWERS, "disability_needs_help": True})])
    follow_ups = {f.rule: f for f in FollowUp.objects.filter(task=task)}
    assert follow_ups["fever"].case_ref == ""  # a health check, not a case
    case = Case.objects.get(source_ref=f"campaigns.followup:{follow_ups['disability'].pk}")
    assert follow_ups["disability"].case_ref == case.number
    assert case.channel == "module" and case.area_code == task.area_code


def test_new_residents_are_recorded_with_provenance(campaign, worker):
    task = campaign.rounds.get(number=1).tasks.first()
    item = visit(
        task,
        "new_residents",
        new_residents=[{"name": " 王五 ", "birth_year": 1990, "phone": "13912345678"}],
    )
    assert services.sync_visits(worker, [item])[0]["status"] == "created"
    found = NewResident.objects.get()
    assert (found.name, found.birth_year, found.campaign, found.round_number) == (
        "王五",
        1990,
        campaign,
        1,
    )
    assert found.worker == worker and found.visit.uuid == uuid.UUID(item["uuid"])
    assert found.dwelling == task.dwelling and found.area_code == task.area_code
    # The outcome needs at least one person.
    bad = visit(task, "new_residents")
    assert "new_residents" in services.sync_visits(worker, [bad])[0]["errors"]


@pytest.mark.parametrize("returning", [True, False], ids=["insert-returning", "no-returning"])
def test_five_hundred_queued_visits_sync_once_and_a_resent_batch_changes_nothing(
    city, worker, django_assert_max_num_queries, monkeypatch, returning
):
    # INSERT … RETURNING (PostgreSQL, SQLite >= 3.35), or insert and read back (older SQLite).
    monkeypatch.setattr(services, "_insert_returns", lambda: returning)
    campaign = services.create_campaign(name="大批量", area=city["communities"][0])
    rounds = [
        services.add_round(campaign, dt.date(2020, 2, d), dt.date(2020, 2, d + 1)) for d in (1, 3)
    ]
    # 500 visits: 4 dwellings x 2 rounds, many calls each (nobody home, then visited ...).
    tasks = list(VisitTask.objects.filter(round__in=rounds).order_by("id"))
    assert len(tasks) == 8
    items = []
    for i in range(500):
        task = tasks[i % len(tasks)]
        outcome = "visited" if i % 5 == 0 else "not_home"
        when = dt.datetime(2020, 2, 1, 8, tzinfo=dt.UTC) + dt.timedelta(minutes=i)
        items.append(visit(task, outcome, at=when.isoformat()))
    with django_assert_max_num_queries(30):
        results = services.sync_visits(worker, items)
    assert [r["status"] for r in results] == ["created"] * 500
    assert Visit.objects.count() == 500
    assert set(Visit.objects.values_list("uuid", flat=True)) == {
        uuid.UUID(i["uuid"]) for i in items
    }
    before = list(VisitTask.objects.order_by("id").values())
    followups = FollowUp.objects.count()
    again = services.sync_visits(worker, items)
    assert [r["status"] for r in again] == ["duplicate"] * 500
    assert Visit.objects.count() == 500
    assert FollowUp.objects.count() == followups
    assert list(VisitTask.objects.order_by("id").values()) == before
    # The task shows the latest call: i = 496..499 are the last per task.
    for i, task in enumerate(tasks):
        last = max(j for j in range(500) if j % 8 == i)
        task.refresh_from_db()
        assert task.status == ("visited" if last % 5 == 0 else "not_home")


def test_a_visit_twice_in_one_batch_is_stored_once(campaign, worker):
    item = visit(campaign.rounds.get(number=1).tasks.first())
    results = services.sync_visits(worker, [item, dict(item)])
    assert [r["status"] for r in results] == ["created", "duplicate"]
    assert Visit.objects.count() == 1


def test_tasks_outside_the_workers_scope_are_refused(city, campaign, make_user):
    other = make_user("other", Role.GRID_WORKER, city["grids"][3].code)  # 510104001002G02
    task = campaign.rounds.get(number=1).tasks.get(
        area_code=city["grids"][0].code, dwelling=city["dwellings"][0]
    )
    result = services.sync_visits(other, [visit(task)])
    assert result[0]["status"] == "invalid"
    assert result[0]["errors"] == {"task": ["No such visit task within your scope."]}
    assert not Visit.objects.exists()


def test_bad_items_are_refused_one_by_one(campaign, worker):
    tasks = list(campaign.rounds.get(number=1).tasks.order_by("id"))
    good = visit(tasks[0])
    bad_answer = visit(tasks[1], answers={**ANSWERS, "temperature": 50})
    bad_outcome = visit(tasks[2], "gone")
    bad_uuid = {**visit(tasks[3]), "uuid": "not-a-uuid"}
    results = services.sync_visits(worker, [good, bad_answer, bad_outcome, bad_uuid])
    assert [r["status"] for r in results] == ["created", "invalid", "invalid", "invalid"]
    assert results[1]["errors"] == {"answers.temperature": ["Between 34.0 and 43.0."]}
    assert Visit.objects.count() == 1


def test_planning_balances_teams_and_a_building_can_be_moved_by_hand(city, campaign):
    teams = list(Team.objects.filter(campaign=campaign).order_by("name"))
    assert [t.workload for t in teams] == [2, 2]  # 4 households, two buildings
    round1 = campaign.rounds.get(number=1)
    building = round1.tasks.filter(team=teams[0]).first().building
    moved = services.move_building(campaign, building, teams[1])
    assert moved == 4  # 2 dwellings x 2 open rounds
    teams = list(Team.objects.filter(campaign=campaign).order_by("name"))
    assert [t.workload for t in teams] == [0, 4]
    assert building.pk in teams[1].route and teams[0].route == []
    orders = list(
        round1.tasks.filter(team=teams[1])
        .order_by("route_order")
        .values_list("route_order", flat=True)
    )
    assert orders == [1, 2, 3, 4]


def test_coverage_per_round_and_area(city, campaign, worker):
    round1 = campaign.rounds.get(number=1)
    tasks = list(round1.tasks.order_by("id"))
    services.sync_visits(worker, [visit(tasks[0]), visit(tasks[1], "not_home")])
    cov = services.coverage(campaign)
    r1, r2 = cov["rounds"]
    assert (r1["total"], r1["visited"], r1["not_home"], r1["remaining"]) == (8, 1, 1, 6)
    assert r1["percent"] == 12.5 and r2["remaining"] == 8
    grid = tasks[0].area_code
    assert services.coverage(campaign, grid)["rounds"][0]["total"] == 2
    by_area = services.coverage_by_area(round1, [c.code for c in city["communities"][:2]])
    assert by_area[city["communities"][0].code]["visited"] == 1
    assert by_area[city["communities"][1].code]["remaining"] == 4
    team = tasks[0].team
    unreached = list(services.unreached(team, round1))
    assert tasks[0] not in unreached and all(t.team == team for t in unreached)

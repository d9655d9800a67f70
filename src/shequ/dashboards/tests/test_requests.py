"""The requests and screening sections: the same numbers as ``cases.indicators`` and
``campaigns.services.coverage``, incremental updates equal a rebuild, department handlers see
their own department only."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shequ.dashboards import rollups
from shequ.dashboards.data import dashboard, indicator
from shequ.dashboards.models import Rollup

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 11, 2, 1, 0, tzinfo=dt.UTC)  # Monday 09:00 in Chengdu
NOV, DEC = dt.date(2026, 11, 1), dt.date(2026, 12, 1)


def at(hours):
    return time_machine.travel(T0 + dt.timedelta(hours=hours), tick=False)


def cells(prefix) -> dict:
    return {
        (r.area_code, r.key, r.day, r.dim): r.value
        for r in Rollup.objects.filter(key__startswith=prefix)
        if r.value
    }


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def story(city, make_user, committed):
    """A month of requests in two districts through the cases services (every on_commit
    callback run): on time, late, unresolvable, reopened after 不满意, withdrawn, returned and
    re-dispatched, never handled; rollups built empty first, then kept by the signals."""
    from shequ.cases import services
    from shequ.cases.testing import build_matrix
    from shequ.cases.workflow import Outcome

    matrix = build_matrix()
    grid, other = city["grids"][0], city["grids"][-1]
    disp = make_user("disp", "city_operator", "5101")
    staff = make_user("staff", "street_staff", "5101")
    handler = make_user("handler", "department_handler", "5101")
    for dept in matrix["departments"].values():
        dept.members.add(handler)
    with at(-24 * 40):
        rollups.rebuild()

    def new(where=grid, text="小区门口垃圾堆放三天没人清运，气味很大"):
        return services.create_case(text=text, channel="web", lat=where.lat, lng=where.lng)

    with committed():
        with at(0):
            a, b, c, d, e, f = (new() for _i in range(6))
            lift = new(other, "电梯坏了三天了老人下不了楼")  # HOUSING.LIFT -> ZJ, district 2
        with at(1):
            for case in (a, b, lift):
                services.start_case(case, acting_user=handler)
            services.return_case(f, acting_user=handler, note="not ours")
            services.dispatch_case(f, acting_user=disp)  # re-dispatched the same day
        with at(20):
            services.start_case(c, acting_user=handler)
            services.withdraw_case(e, by_reporter=True)
        with at(21):
            for case in (a, b, c, lift):
                services.report_case(case, acting_user=handler, note="done")
                services.verify_case(case, acting_user=staff)
            services.close_case(a, acting_user=staff, outcome=Outcome.RESOLVED)
            services.close_case(b, acting_user=staff, outcome=Outcome.UNRESOLVABLE)
            services.close_case(lift, acting_user=staff, outcome=Outcome.RESOLVED)
        with at(24 * 5):
            services.close_case(c, acting_user=staff, outcome=Outcome.RESOLVED)
        with at(24 * 5 + 1):
            services.evaluate_case(a, satisfaction="satisfied", by_reporter=True)
            services.evaluate_case(lift, satisfaction="basically", by_reporter=True)
            services.evaluate_case(b, satisfaction="dissatisfied", by_reporter=True)
            services.evaluate_case(c, satisfaction="dissatisfied", by_reporter=True)
        with at(24 * 6):
            services.reopen_case(c, acting_user=disp, note="not fixed")
    return {"matrix": matrix, "handler": handler, "disp": disp, "cases": [a, b, c, d, e, f]}


def month_numbers(code, dims=("",)):
    def one(key):
        return sum(
            Rollup.objects.filter(
                area_code=code, key=key, day=dt.date(2026, 11, 30), dim__in=dims
            ).values_list("value", flat=True)
        )

    return {
        "received": one("req.received"),
        "dispatched": one("req.dispatched"),
        "responded_on_time": one("req.responded"),
        "closed": one("req.closed"),
        "closed_on_time": one("req.closed_on_time"),
        "resolved": one("req.resolved"),
        "rated": one("req.rated"),
        "satisfied": one("req.satisfied"),
    }


KEYS = [
    "received",
    "dispatched",
    "responded_on_time",
    "closed",
    "closed_on_time",
    "resolved",
    "rated",
    "satisfied",
]


def test_month_numbers_equal_the_cases_indicators_at_every_level(story, city):
    from shequ.cases.indicators import indicators

    with at(24 * 7):
        rollups.rebuild()
        for code in ["5101", "510104", "510104001", city["grids"][0].code, "510105"]:
            expected = indicators(code, NOV, DEC)
            assert month_numbers(code) == {k: expected[k] for k in KEYS}, code
        jj = story["matrix"]["departments"]["JJ-CG"]
        expected = indicators("510104", NOV, DEC, jj)
        assert month_numbers("510104", (f"d{jj.pk}",)) == {k: expected[k] for k in KEYS}
    # The story is not trivial: every number is there.
    nums = month_numbers("5101")
    assert nums == {
        "received": 7,
        "dispatched": 7,  # f twice on one day: once
        "responded_on_time": 3,  # a, b, lift (c late, d, e, f never)
        "closed": 3,  # a, b, lift; c reopened (no outcome), e withdrawn
        "closed_on_time": 3,
        "resolved": 2,
        "rated": 3,  # a, lift, b; c's rating withdrawn by reopening
        "satisfied": 2,
    }


def test_incremental_updates_equal_a_rebuild(story):
    def without_overdue(found):
        return {k: v for k, v in found.items() if k[1] != "req.overdue"}

    with at(24 * 7):
        kept = cells("req.")
        assert kept, "the signals kept the rollups"
        rollups.rebuild(["requests"], as_of=rollups.snapshot_day("requests"))
        # "Overdue" turns true by the passing of time, not by a change: the rebuild counts it.
        assert without_overdue(cells("req.")) == without_overdue(kept)
        assert Rollup.objects.get(area_code="5101", key="req.overdue", dim="").value == 2


def test_the_dashboard_shows_rates_and_department_handlers_their_own_only(story, city):
    from shequ.cases.indicators import indicators

    jj = story["matrix"]["departments"]["JJ-CG"]
    with at(24 * 7):
        rollups.rebuild()
        area = city["districts"][0]
        data = dashboard(story["disp"], area=area)
        expected = indicators(area.code, NOV, DEC)
        rate = indicator(data, "req.on_time_rate")
        assert rate["value"] == round(100 * expected["on_time_rate"], 1)
        assert indicator(data, "req.response_rate")["value"] == round(
            100 * expected["response_rate"], 1
        )
        from shequ.cases.models import Case

        open_here = Case.objects.open().filter(area_code__startswith=area.code).count()
        assert indicator(data, "req.open")["value"] == open_here == 4  # b (review), c, d, f
        assert indicator(data, "req.overdue")["value"] == expected["overdue_open"]
        assert indicator(data, "req.top_categories")["items"][0]["key"] == "ENV.GARBAGE"
        assert {p["kind"] for p in data["map"]["points"]} == {"case"}
        assert data["map"]["hot_spots"] == [] or data["map"]["hot_spots"][0]["value"] >= 1
        # A handler of the housing bureau only: the Jinjiang numbers are not theirs.
        zj = story["matrix"]["departments"]["ZJ"]
        story["handler"].departments.set([zj])
        mine = dashboard(story["handler"], area=area)
        assert indicator(mine, "req.received_month")["value"] == 0
        assert indicator(mine, "req.top_categories") is None
        assert mine["map"]["points"] == []
        everything = dashboard(story["handler"], area=city["city"])
        assert indicator(everything, "req.received_month")["value"] == 1  # the lift
        story["handler"].departments.set([jj])
        jjv = dashboard(story["handler"], area=area)
        assert (
            indicator(jjv, "req.received_month")["value"]
            == indicators(area.code, NOV, DEC, jj)["received"]
        )
        # No population section for a handler, no screening either (no campaign permission).
        modules = {s["module"] for s in jjv["sections"]}
        assert "screening" not in modules and "requests" in modules


def test_query_count_does_not_grow_with_more_cases(story, city, committed):
    from shequ.cases import services

    with at(24 * 7):
        rollups.rebuild()
        user = story["disp"]
        with CaptureQueriesContext(connection) as before:
            dashboard(user, area=city["city"])
        grid = city["grids"][3]
        with committed():
            for _i in range(5):
                services.create_case(
                    text="路灯晚上不亮很危险", channel="web", lat=grid.lat, lng=grid.lng
                )
        with CaptureQueriesContext(connection) as after:
            data = dashboard(user, area=city["city"])
    assert len(after) == len(before)
    assert indicator(data, "req.received_month")["value"] == 12


def test_screening_coverage_equals_the_campaign_numbers_and_follows_visits(
    city, make_user, committed
):
    """Visits synced through the campaigns service move the dashboard at once (the service
    announces the tasks it changes; the dashboards follow them), to the numbers a rebuild
    gives."""
    from shequ.campaigns import services
    from shequ.campaigns.models import FollowUp, VisitTask
    from shequ.campaigns.testing import ANSWERS, campaign_for

    campaign = campaign_for(city, 0, rounds=2)
    rollups.rebuild()
    worker = make_user("w", "street_staff", campaign.area_code)
    street = city["districts"][0].children.get()
    operator = make_user("op", "city_operator", "5101")
    before = indicator(dashboard(operator, area=street), "scr.rounds")["rows"]
    assert [row[1:] for row in before] == [[0, 0, 0, 8], [0, 0, 0, 8]]
    tasks = list(VisitTask.objects.filter(round__number=1, round__campaign=campaign)[:3])
    outcomes = ["visited", "not_home", "refused"]
    with committed():
        result = services.sync_visits(
            worker,
            [
                {
                    "uuid": str(uuid.uuid4()),
                    "task": t.pk,
                    "outcome": o,
                    "answers": ANSWERS if o == "visited" else {},
                    "visited_at": "2020-02-03T10:00:00+08:00",
                }
                for t, o in zip(tasks, outcomes, strict=True)
            ],
        )
    assert [r["status"] for r in result] == ["created"] * 3, result
    assert FollowUp.objects.count() == 1  # the fever
    # No rebuild: the dashboard shows the visits already.
    data = dashboard(operator, area=street)
    coverage = services.coverage(campaign, street.code)["rounds"]
    rows = indicator(data, "scr.rounds")["rows"]  # in round order, labelled by campaign
    assert len(rows) == len(coverage) == 2
    assert rows[0][1:] == [1, 1, 1, 5]
    for r, row in zip(coverage, rows, strict=True):
        assert row[0].startswith(campaign.name)
        assert row[1] == r["visited"] + r["new_residents"] + r["empty"]
        assert row[2:] == [r["not_home"], r["refused"], r["remaining"]]
    flagged = indicator(data, "scr.flagged")["rows"]
    assert [(row[1], row[2]) for row in flagged] == [(1, 0)]
    # The same numbers as a rebuild, at every level.
    kept = cells("scr.")
    rollups.rebuild(["screening"])
    assert cells("scr.") == kept


def test_screening_counts_of_people_are_suppressed_for_roles_without_people(
    city, make_user, committed
):
    from shequ.campaigns.testing import sample

    sample(city)
    rollups.rebuild()
    street = city["districts"][0].children.get()
    steward = dashboard(make_user("ds", "data_steward", "5101"), area=street)
    assert indicator(steward, "scr.flagged")["rows"][0][1] == 1
    # A role with campaigns but without people: none exists in the matrix; the department
    # handler sees no screening at all.
    handler = dashboard(make_user("dh", "department_handler", "5101"), area=street)
    assert indicator(handler, "scr.flagged") is None


def test_cases_taken_in_are_counted_without_reading_them_back(city, committed):
    """A case taken in (and not changed again before its commit) is counted from the row as
    saved and the timeline the service wrote: the commit reads neither the case nor its
    events, and the rollups equal a rebuild's. Auto-dispatched, dispatched by hand, without a
    category, in a compound named by the address, with a late deadline."""
    from shequ.areas.models import Place, PlaceKind
    from shequ.cases import services
    from shequ.cases.testing import build_matrix

    build_matrix()
    grid, other = city["grids"][0], city["grids"][-1]
    compound = Place.objects.filter(kind=PlaceKind.COMPOUND, area_code=other.code).first()
    with at(-24 * 40):
        rollups.rebuild()
    intakes = [
        dict(text="小区门口垃圾堆放三天没人清运", lat=grid.lat, lng=grid.lng),  # ENV: auto
        dict(text="路灯晚上不亮很危险", lat=other.lat, lng=other.lng),  # ROAD: by hand
        dict(text="有人在这里反映一些情况", lat=grid.lat, lng=grid.lng),  # no category
        dict(text="电梯坏了三天了老人下不了楼", address=compound.name),  # in a compound
        dict(text="楼上漏水很严重", lat=other.lat, lng=other.lng, case_type="immediate"),
    ]
    for hours, intake in enumerate(intakes):
        # The queries of the intake and of its on-commit callbacks (run as committed() ends).
        with CaptureQueriesContext(connection) as queries, at(hours * 30), committed():
            case = services.create_case(channel="web", **intake)
        assert case.intake_events, "the service hands over the timeline it wrote"
        commit_reads = [
            q["sql"]
            for q in queries.captured_queries
            if q["sql"].startswith("SELECT") and "cases_case" in q["sql"]
        ]
        assert not commit_reads, commit_reads
    assert {c.place_id is not None for c in services.Case.objects.all()} == {True, False}

    def without_overdue(found):  # turns true by the passing of time (see above)
        return {k: v for k, v in found.items() if k[1] != "req.overdue"}

    with at(24 * 7):
        kept = cells("req.")
        assert ("5101", "req.received", dt.date(2026, 11, 30), "") in kept
        rollups.rebuild(["requests"], as_of=rollups.snapshot_day("requests"))
        assert without_overdue(cells("req.")) == without_overdue(kept)

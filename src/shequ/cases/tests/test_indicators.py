"""Indicators computed from the events."""

import datetime as dt

import pytest
import time_machine

from shequ.cases import services
from shequ.cases.indicators import indicators
from shequ.cases.workflow import Outcome
from shequ.core.roles import Role

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 11, 2, 1, 0, tzinfo=dt.UTC)  # Monday 09:00 in Chengdu


def at(hours):
    return time_machine.travel(T0 + dt.timedelta(hours=hours), tick=False)


def test_rates_from_the_timeline(new_case, matrix, make_user, grid):
    disp = make_user("d", Role.STREET_STAFF, grid.code[:9])
    handler = make_user("h", Role.DEPARTMENT_HANDLER, "5101")
    matrix["departments"]["JJ-CG"].members.add(handler)
    cases = []
    with at(0):
        for _i in range(4):
            cases.append(new_case())  # ENV.GARBAGE: respond 12 h, resolve 2 working days
    a, b, c, _d = cases
    with at(1):  # a, b respond on time
        services.start_case(a, acting_user=handler)
        services.start_case(b, acting_user=handler)
    with at(20):  # c responds late
        services.start_case(c, acting_user=handler)
    with at(21):
        for case in (a, b, c):
            services.report_case(case, acting_user=handler, note="done")
            services.verify_case(case, acting_user=disp)
        services.close_case(a, acting_user=disp, outcome=Outcome.RESOLVED)
        services.close_case(b, acting_user=disp, outcome=Outcome.UNRESOLVABLE)
    with at(24 * 5):  # c closes after its deadline (Wed 18:00)
        services.close_case(c, acting_user=disp, outcome=Outcome.RESOLVED)
    with at(24 * 5 + 1):
        services.evaluate_case(a, satisfaction="satisfied", by_reporter=True)
        services.evaluate_case(c, satisfaction="dissatisfied", by_reporter=True)
    with at(24 * 6):
        result = indicators("510104", dt.date(2026, 11, 1), dt.date(2026, 11, 9))
        dept_view = indicators(
            "510104", dt.date(2026, 11, 1), dt.date(2026, 11, 9), matrix["departments"]["JJ-CG"]
        )
    assert dept_view["overdue_open"] == 1
    assert result["received"] == 4
    assert result["dispatched"] == 4 and result["responded_on_time"] == 2
    assert result["response_rate"] == 0.5
    assert result["closed"] == 3 and result["closed_on_time"] == 2
    assert result["on_time_rate"] == round(2 / 3, 4)
    assert result["resolution_rate"] == round(2 / 3, 4)
    assert result["rated"] == 2 and result["satisfaction_rate"] == 0.5
    assert result["overdue_open"] == 1  # d, never handled
    assert result["overdue_closed"] == 1
    assert result["avg_handling_hours"] == round((21 + 21 + 120) / 3, 1)
    # Another area, or another department: nothing.
    assert indicators("510105", dt.date(2026, 11, 1), dt.date(2026, 11, 9))["received"] == 0
    other = indicators(
        "510104", dt.date(2026, 11, 1), dt.date(2026, 11, 9), matrix["departments"]["ZJ"]
    )
    assert other["received"] == 0 and other["response_rate"] is None
    # Per department in one go: the same numbers as one department at a time.
    from shequ.cases.indicators import by_department

    rows = by_department("510104", dt.date(2026, 11, 1), dt.date(2026, 11, 9))
    jj = matrix["departments"]["JJ-CG"]
    assert [r["department"] for r in rows] == [jj]
    one = indicators("510104", dt.date(2026, 11, 1), dt.date(2026, 11, 9), jj)
    assert {**rows[0], "department": jj.code} == one

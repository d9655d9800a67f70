"""Working days with Chinese public holidays and adjusted workdays (调休)."""

import datetime as dt
import zoneinfo

import pytest

from shequ.cases.models import WorkCalendarDay
from shequ.cases.workcalendar import Calendar

D = dt.date
TZ = zoneinfo.ZoneInfo("Asia/Shanghai")


@pytest.fixture
def cal():
    return Calendar(overrides={})


def test_weekends_holidays_and_adjusted_workdays(cal):
    assert cal.is_workday(D(2026, 11, 20))  # Friday
    assert not cal.is_workday(D(2026, 11, 21))  # Saturday
    assert not cal.is_workday(D(2025, 10, 8))  # National Day week (Wednesday)
    assert cal.is_workday(D(2025, 9, 28))  # Sunday worked (调休)
    assert cal.is_workday(D(2025, 10, 11))  # Saturday worked
    assert not cal.is_workday(D(2026, 2, 16))  # Spring Festival 2026 (Monday)
    assert cal.is_workday(D(2026, 2, 14))  # Saturday worked before it
    assert not cal.is_workday(D(2026, 1, 2))  # New Year 2026 (Friday)
    assert cal.is_workday(D(2026, 1, 4))  # Sunday worked after it


def test_adding_working_days_skips_the_golden_week(cal):
    # Tuesday 30 Sep 2025 + 1 working day: 1-8 Oct are off, the 9th is the next workday.
    assert cal.add_workdays(D(2025, 9, 30), 1) == D(2025, 10, 9)
    # Friday 26 Sep 2025 + 1: the Sunday 28th is worked.
    assert cal.add_workdays(D(2025, 9, 26), 1) == D(2025, 9, 28)
    assert cal.add_workdays(D(2026, 11, 20), 5) == D(2026, 11, 27)
    assert cal.add_workdays(D(2026, 11, 21), 0) == D(2026, 11, 23)
    assert cal.workdays_between(D(2025, 9, 30), D(2025, 10, 12)) == 3  # 9th, 10th, 11th


def test_deadline_is_close_of_office_of_the_nth_working_day(cal):
    start = dt.datetime(2026, 2, 13, 16, 30, tzinfo=TZ)  # Friday before the Spring Festival
    due = cal.deadline(start, 2)
    # Sat 14th worked (1), 15th-23rd off, Tue 24th (2).
    assert due == dt.datetime(2026, 2, 24, 18, 0, tzinfo=TZ)


@pytest.mark.django_db
def test_admins_add_days_that_win_over_the_file():
    WorkCalendarDay.objects.create(date=D(2027, 2, 8), workday=False, name="春节")
    WorkCalendarDay.objects.create(date=D(2025, 9, 28), workday=False, name="correction")
    cal = Calendar()
    assert not cal.is_workday(D(2027, 2, 8))
    assert not cal.is_workday(D(2025, 9, 28))


def _days(*ranges):
    out = set()
    for first, last in ranges:
        day = first
        while day <= last:
            out.add(day)
            day += dt.timedelta(days=1)
    return out


# The State Council General Office's notices (国务院办公厅关于20XX年部分节假日安排的通知), as
# published: the days off (放假) and the weekend days worked (上班).
NOTICES = {
    2025: (
        _days(
            (D(2025, 1, 1), D(2025, 1, 1)),  # 元旦
            (D(2025, 1, 28), D(2025, 2, 4)),  # 春节
            (D(2025, 4, 4), D(2025, 4, 6)),  # 清明节
            (D(2025, 5, 1), D(2025, 5, 5)),  # 劳动节
            (D(2025, 5, 31), D(2025, 6, 2)),  # 端午节
            (D(2025, 10, 1), D(2025, 10, 8)),  # 国庆节、中秋节
        ),
        {D(2025, 1, 26), D(2025, 2, 8), D(2025, 4, 27), D(2025, 9, 28), D(2025, 10, 11)},
    ),
    2026: (
        _days(
            (D(2026, 1, 1), D(2026, 1, 3)),  # 元旦
            (D(2026, 2, 15), D(2026, 2, 23)),  # 春节
            (D(2026, 4, 4), D(2026, 4, 6)),  # 清明节
            (D(2026, 5, 1), D(2026, 5, 5)),  # 劳动节
            (D(2026, 6, 19), D(2026, 6, 21)),  # 端午节
            (D(2026, 9, 25), D(2026, 9, 27)),  # 中秋节
            (D(2026, 10, 1), D(2026, 10, 7)),  # 国庆节
        ),
        {
            D(2026, 1, 4),
            D(2026, 2, 14),
            D(2026, 2, 28),
            D(2026, 5, 9),
            D(2026, 9, 20),
            D(2026, 10, 10),
        },
    ),
}


@pytest.mark.parametrize("year", sorted(NOTICES))
def test_shipped_schedule_is_the_state_councils_notice_day_for_day(cal, year):
    off, worked = NOTICES[year]
    assert all(day.weekday() >= 5 for day in worked)  # 调休 workdays are weekend days
    day = D(year, 1, 1)
    while day.year == year:
        expected = day in worked or (day not in off and day.weekday() < 5)
        assert cal.is_workday(day) == expected, day
        day += dt.timedelta(days=1)
    # 261 weekdays in each of the two years, less the weekdays off, plus the weekends worked.
    workdays = cal.workdays_between(D(year - 1, 12, 31), D(year, 12, 31))
    assert workdays == {2025: 248, 2026: 248}[year]

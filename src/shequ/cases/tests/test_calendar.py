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

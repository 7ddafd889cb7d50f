"""The working-day calendar (issue 13, item 2): China's statutory holidays and adjusted working
days (调休), a hall's own closures and extra working days, the one working-day arithmetic, and a
closed day that issues no tickets. Dates checked by hand against the State Council's 2026 notice
(国庆节 1-7 Oct 2026 off; Sun 20 Sep and Sat 10 Oct worked)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import copy

import pytest

from hallq.core.calendar import WorkingCalendar
from hallq.core.errors import Refused
from hallq.core.hallfile import HallFile
from support.halls import EXAMPLE, MONDAY_10AM, person, variant

CN = WorkingCalendar.of("cn")
SUNDAY_10AM = MONDAY_10AM + timedelta(days=6)  # Sunday 29 Nov 2026, 10:00 in Shanghai


def district(**changes) -> HallFile:
    """The example hall itself (the `hall` fixture's), with some hall settings changed."""
    data = copy.deepcopy(EXAMPLE)
    data["hall"].update(changes)
    return HallFile.model_validate(data)


@pytest.mark.parametrize(("day", "working", "why"), [
    (date(2026, 11, 23), True, None),  # a Monday
    (date(2026, 11, 29), False, "weekend"),  # a Sunday
    (date(2026, 10, 1), False, "National Day"),
    (date(2026, 10, 7), False, "National Day"),
    (date(2026, 10, 10), True, None),  # a Saturday worked (调休)
    (date(2026, 9, 20), True, None),  # a Sunday worked (调休)
])
def test_the_statutory_calendar(day, working, why):
    assert CN.is_working_day(day) is working
    assert CN.why_closed(day) == why


def test_working_days_are_counted_over_holidays_and_adjusted_weekends():
    # After Wed 30 Sep: Thu 8, Fri 9, Sat 10 (worked), Mon 12, Tue 13 Oct.
    assert CN.add_working_days(date(2026, 9, 30), 5) == date(2026, 10, 13)
    assert CN.add_working_days(date(2026, 10, 3), 0) == date(2026, 10, 8)  # a holiday's next working day
    assert CN.add_working_days(date(2026, 11, 23), 0) == date(2026, 11, 23)
    assert CN.working_days(date(2026, 10, 1), date(2026, 10, 11)) == 3  # 8, 9 and 10 Oct
    with pytest.raises(ValueError):
        CN.add_working_days(date(2026, 11, 23), -1)


def test_a_halls_own_closures_and_extra_working_days_come_first():
    hall = WorkingCalendar.of("cn", closed=["2026-11-24"], open_=[date(2026, 11, 28)])
    assert not hall.is_working_day(date(2026, 11, 24)) and hall.why_closed(date(2026, 11, 24)) == "closure"
    assert hall.is_working_day(date(2026, 11, 28))  # a Saturday the hall opens
    assert hall.add_working_days(date(2026, 11, 23), 1) == date(2026, 11, 25)
    every = WorkingCalendar.of("every_day", closed=["2026-10-01"])
    assert every.is_working_day(date(2026, 10, 2)) and not every.is_working_day(date(2026, 10, 1))


def test_a_year_the_library_does_not_know_yet_is_said_and_keeps_only_weekends_off():
    assert CN.missing_years([2026, 2099]) == [2099]
    assert WorkingCalendar.of("every_day").missing_years([2099]) == []
    assert not CN.is_working_day(date(2099, 1, 3)) and CN.why_closed(date(2099, 1, 3)) == "weekend"  # a Saturday
    assert CN.is_working_day(date(2099, 1, 5))  # a Monday


def test_a_closed_day_issues_no_tickets(hall, clock):
    kiosk = person(hall, "kiosk1", "device")
    clock.set(SUNDAY_10AM)
    with pytest.raises(Refused) as refused:
        hall.issue_ticket("district", service="SI", actor=kiosk)
    assert refused.value.code == "hall_closed_today"
    assert refused.value.details == {"date": "2026-11-29", "reason": "weekend"}

    hall.load_hall(district(extra_working_days=["2026-11-29"]))
    assert hall.issue_ticket("district", service="SI", actor=kiosk)["number"] == "A001"

    clock.set(MONDAY_10AM + timedelta(days=7))  # Monday 30 Nov, which the hall closes
    hall.load_hall(district(closed_days=["2026-11-30"]))
    with pytest.raises(Refused) as refused:
        hall.issue_ticket("district", service="SI", actor=kiosk)
    assert refused.value.details["reason"] == "closure"


def test_a_hall_open_every_day_issues_on_a_holiday(hall, clock):
    hall.load_hall(variant("open", calendar="every_day"))
    kiosk = person(hall, "kiosk2", "device", "open")
    clock.set(datetime(2026, 10, 1, 2, 0, tzinfo=timezone.utc))  # National Day, 10:00 in Shanghai
    assert hall.issue_ticket("open", service="SI", actor=kiosk)["number"] == "A001"

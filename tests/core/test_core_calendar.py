"""The working-day calendar (issue 13, item 2): China's statutory holidays and adjusted working
days (调休), a hall's own closures and extra working days, the one working-day arithmetic, and a
closed day that issues no tickets. Dates checked by hand against the State Council's 2026 notice
(国庆节 1-7 Oct 2026 off; Sun 20 Sep and Sat 10 Oct worked)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import copy

import pytest

from types import SimpleNamespace

from hallq.core import calendar
from hallq.core.calendar import WorkingCalendar
from hallq.core.errors import Refused
from hallq.core.hallfile import HallFile
from support.halls import EXAMPLE, MONDAY_10AM, local, person, variant

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


# A hall with a short Friday afternoon and Saturday mornings (for its extra Saturdays).
SHORT_FRIDAY = {"fri": ["08:30-12:00", "13:30-16:00"], "sat": ["09:00-12:00"]}


def a_hall(kind: str = "cn", **weekday_hours):
    return SimpleNamespace(hours=["08:30-12:00", "13:30-17:30"], weekday_hours=weekday_hours or SHORT_FRIDAY, calendar=kind)


def spans(found) -> list[str] | None:
    return None if found is None else [str(s) for s in found]


def test_a_weekday_keeps_its_own_hours_and_an_adjusted_saturday_a_weekdays():
    hall = a_hall()
    assert calendar.hours_on(hall, date(2026, 11, 23)) == ["08:30-12:00", "13:30-17:30"]  # a Monday
    assert calendar.hours_on(hall, date(2026, 11, 27)) == ["08:30-12:00", "13:30-16:00"]  # a Friday
    assert calendar.hours_on(hall, date(2026, 11, 28)) == ["09:00-12:00"]  # a Saturday (opened by the hall)
    # Saturday 10 Oct 2026 is worked by statute (调休): it stands in for a weekday.
    assert calendar.hours_on(hall, date(2026, 10, 10)) == ["08:30-12:00", "13:30-17:30"]
    # A hall open every day has no 调休: the Saturday is a Saturday.
    assert calendar.hours_on(a_hall("every_day"), date(2026, 10, 10)) == ["09:00-12:00"]


def test_a_services_own_hours_stay_within_the_days():
    hall = a_hall()
    friday, saturday, monday = date(2026, 11, 27), date(2026, 11, 28), date(2026, 11, 23)
    counter = ["09:00-12:00", "13:30-17:00"]  # the example hall's RE
    assert spans(calendar.service_spans(hall, counter, monday)) == counter  # its own hours, as always
    assert spans(calendar.service_spans(hall, counter, friday)) == ["09:00-12:00", "13:30-16:00"]
    assert spans(calendar.service_spans(hall, counter, saturday)) == ["09:00-12:00"]
    assert spans(calendar.service_spans(hall, ["14:00-17:00"], saturday)) is None  # afternoons only: not on Saturdays
    assert spans(calendar.service_spans(hall, [], friday)) == ["08:30-12:00", "13:30-16:00"]


def test_weekday_hours_in_the_hall_file_are_checked():
    assert district(weekday_hours={"fri": ["08:30-12:00", "13:30-16:00"]}).hall.weekday_hours == {"fri": ["08:30-12:00", "13:30-16:00"]}
    for wrong in ({"fry": ["08:30-12:00"]}, {"fri": []}, {"fri": ["16:00-13:30"]}, {"sat": ["09:00-12:00", "11:00-13:00"]}):
        with pytest.raises(ValueError, match="weekday_hours"):
            district(weekday_hours=wrong)


def test_a_short_friday_issues_until_its_own_closing_and_closes_then(hall, clock):
    hall.load_hall(district(weekday_hours=SHORT_FRIDAY))
    kiosk = person(hall, "kiosk1", "device")
    assert hall.hall_info("district")["hours_today"] == ["08:30-12:00", "13:30-17:30"]  # Monday
    clock.set(local(4, 15, 0))  # Friday 27 Nov, 15:00
    assert hall.hall_info("district")["hours_today"] == ["08:30-12:00", "13:30-16:00"]
    assert hall.issue_ticket("district", service="SI", actor=kiosk)["number"] == "A001"
    assert hall.issue_ticket("district", service="RE", actor=kiosk)["status"] == "waiting"

    clock.set(local(4, 16, 5))
    hall.sweep("district")
    assert [hall.ticket("district", ref)["close_reason"] for ref in ("A001",)] == ["hall_closed"]
    with pytest.raises(Refused) as refused:
        hall.issue_ticket("district", service="SI", actor=kiosk)
    assert (refused.value.code, refused.value.details) == ("service_closed", {"hours": ["08:30-12:00", "13:30-16:00"]})

    clock.set(local(7, 16, 5))  # the Monday after: the ordinary hours again
    assert hall.issue_ticket("district", service="SI", actor=kiosk)["number"] == "A001"


def test_a_service_whose_hours_miss_the_day_says_it_issues_nothing_that_day(hall, clock):
    hall.load_hall(district(weekday_hours={"fri": ["08:00-09:00"]}))
    kiosk = person(hall, "kiosk1", "device")
    clock.set(local(4, 8, 30))  # Friday 08:30: the hall is open, RE (from 09:00) is not, all day
    assert hall.issue_ticket("district", service="SI", actor=kiosk)["number"] == "A001"
    with pytest.raises(Refused) as refused:
        hall.issue_ticket("district", service="RE", actor=kiosk)
    assert refused.value.code == "service_closed" and refused.value.details == {"hours": []}
    assert "no tickets today" in refused.value.message

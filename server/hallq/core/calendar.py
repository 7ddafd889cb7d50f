"""Working days: which days a hall is open, and working-day arithmetic ("5 working days after").

China's statutory holidays and adjusted working days (调休) come from `chinese_calendar`, which
carries the State Council's notice for each year it knows (it is published each November or
December for the coming year, and the library updated soon after). A hall's own closures and
extra working days override it. For a year the library does not know yet, Saturdays and Sundays
are the only days off, and `missing_years` says so, so that the manager's page can warn.

Which hours a hall keeps on a day is here too (`hours_on`, `service_spans`): most halls keep the
same hours every working day, some shorter ones on a Friday afternoon or an extra Saturday.

`add_working_days` is the one function for deadlines counted in working days (好差评
rectification); nothing else counts working days.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Iterable

import chinese_calendar

from . import clock

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # the keys of a hall's weekday_hours
STATUTORY = "cn"  # China's statutory calendar (the default)
EVERY_DAY = "every_day"  # open every day (a demo hall, a hall that never closes)
KINDS = (STATUTORY, EVERY_DAY)


@dataclass(frozen=True)
class WorkingCalendar:
    kind: str = STATUTORY
    closed: frozenset[date] = field(default_factory=frozenset)  # the hall's own closures
    open: frozenset[date] = field(default_factory=frozenset)  # the hall's extra working days

    @classmethod
    def of(cls, kind: str | None, closed: Iterable = (), open_: Iterable = ()) -> "WorkingCalendar":
        return cls(kind or STATUTORY, frozenset(_dates(closed)), frozenset(_dates(open_)))

    def is_working_day(self, day: date) -> bool:
        if day in self.closed:
            return False
        if day in self.open or self.kind == EVERY_DAY:
            return True
        return statutory_working_day(day)

    def why_closed(self, day: date) -> str | None:
        """None on a working day; else what the day is (the holiday's name, a weekend, a closure)."""
        if self.is_working_day(day):
            return None
        if day in self.closed:
            return "closure"
        if has_data(day.year):
            on_holiday, name = chinese_calendar.get_holiday_detail(day)
            if on_holiday and name:
                return name
        return "weekend"

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after `start` (n ≥ 0; 0: `start` itself if it is a working day, else the next)."""
        if n < 0:
            raise ValueError("count working days forward only")
        day = start
        if n == 0:
            while not self.is_working_day(day):
                day += timedelta(days=1)
            return day
        while n:
            day += timedelta(days=1)
            if self.is_working_day(day):
                n -= 1
        return day

    def working_days(self, first: date, last: date) -> int:
        """How many working days from `first` to `last`, both included."""
        return sum(1 for i in range((last - first).days + 1) if self.is_working_day(first + timedelta(days=i)))

    def missing_years(self, years: Iterable[int]) -> list[int]:
        """Of these years, those whose statutory holidays are not known (empty for an every-day hall)."""
        if self.kind == EVERY_DAY:
            return []
        return sorted(y for y in set(years) if not has_data(y))


def of_hall(hall) -> WorkingCalendar:
    """A hall's calendar, from its row (or the hall file's [hall] table)."""
    return WorkingCalendar.of(hall.calendar, hall.closed_days, hall.extra_working_days)


def hours_on(hall, day: date) -> list[str]:
    """The hall's opening hours on `day`: those the hall file gives its weekday (`weekday_hours`),
    else its `hours`. A Saturday or Sunday that China's calendar makes a working day (调休) stands
    in for a weekday and keeps the ordinary hours; an extra working day of the hall's own keeps its
    weekday's."""
    return _own_hours(hall, day) or hall.hours


def _own_hours(hall, day: date) -> list[str] | None:
    """The hours the hall keeps on `day` if they are not its ordinary ones."""
    own = (hall.weekday_hours or {}).get(WEEKDAYS[day.weekday()])
    if not own or (day.weekday() >= 5 and hall.calendar == STATUTORY and has_data(day.year) and chinese_calendar.is_workday(day)):
        return None
    return own


def service_spans(hall, service_hours: list[str], day: date) -> list[clock.Span] | None:
    """When a service with these hours of its own (`service_hours`, maybe none) issues tickets on
    `day`: its own hours, or else the hall's that day, and on a weekday with hours of its own
    never outside them. [] when there are no hours (open all day), None when the service's hours
    and the day's do not meet (closed that day)."""
    special = _own_hours(hall, day)
    if not service_hours:
        return clock.parse_hours(special or hall.hours)
    own = clock.parse_hours(service_hours)
    if special is None:
        return own
    return clock.intersect(own, clock.parse_hours(special)) or None


def has_data(year: int) -> bool:
    return year in _known_years()


def statutory_working_day(day: date) -> bool:
    if has_data(day.year):
        return chinese_calendar.is_workday(day)
    return day.weekday() < 5  # not known yet: only weekends off (missing_years says so)


def _known_years() -> frozenset[int]:
    global _KNOWN
    if _KNOWN is None:
        years = {d.year for d in chinese_calendar.holidays} | {d.year for d in chinese_calendar.workdays}
        _KNOWN = frozenset(years)
    return _KNOWN


_KNOWN: frozenset[int] | None = None


def _dates(values: Iterable) -> list[date]:
    return [v if isinstance(v, date) else date.fromisoformat(str(v)) for v in values]

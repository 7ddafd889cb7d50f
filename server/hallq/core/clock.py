"""Time in the hall: business dates, opening hours, and an injectable clock.

Every moment is an aware UTC datetime (SQLModel stores it as UTC). A hall's business day is its local calendar
date; nothing in HallQ runs on a timer to change days, every operation
derives the day from the moment it happens.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from hallq.core.errors import Invalid

_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def utcnow() -> datetime:
    """Now, in UTC."""
    return datetime.now(timezone.utc)


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return utcnow()


class FixedClock:
    """A clock that only moves when told to (tests and the simulator)."""

    def __init__(self, start: datetime):
        if start.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = moment

    def advance(self, **delta) -> datetime:
        self._now += timedelta(**delta)
        return self._now


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def to_local(moment: datetime, tz: str) -> datetime:
    """UTC → local time of the hall."""
    return moment.astimezone(zone(tz))


def as_utc(moment: datetime | None) -> datetime | None:
    """A moment read back from the database as an aware UTC datetime (SQLite hands them back naive; they are UTC); None stays None."""
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def to_utc(local: datetime) -> datetime:
    return local.astimezone(timezone.utc)


def business_date(moment: datetime, tz: str) -> date:
    return to_local(moment, tz).date()


@dataclass(frozen=True)
class Span:
    start: time
    end: time

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def parse_hours(ranges: list[str]) -> list[Span]:
    """Parse ["08:30-12:00", "13:30-17:30"] into sorted spans; raise Invalid on nonsense."""
    spans = []
    for text in ranges:
        m = _RANGE.match(str(text))
        if not m:
            raise Invalid("bad_hours", f"opening hours must look like 08:30-12:00, not {text!r}")
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
            raise Invalid("bad_hours", f"not a time of day in {text!r}")
        start = time(h1, m1)
        end = time(23, 59, 59) if h2 == 24 else time(h2, m2)
        if end <= start:
            raise Invalid("bad_hours", f"opening hours end before they start: {text!r}")
        spans.append(Span(start, end))
    spans.sort(key=lambda s: s.start)
    for a, b in zip(spans, spans[1:]):
        if b.start < a.end:
            raise Invalid("bad_hours", f"opening hours overlap: {a} and {b}")
    return spans


def intersect(a: list[Span], b: list[Span]) -> list[Span]:
    """The times in both `a` and `b` (two lists of sorted, non-overlapping spans, neither empty)."""
    both = []
    for x in a:
        for y in b:
            start, end = max(x.start, y.start), min(x.end, y.end)
            if start < end:
                both.append(Span(start, end))
    return sorted(both, key=lambda s: s.start)


def is_open(spans: list[Span], moment: datetime, tz: str, *, stop_minutes_before: int = 0) -> bool:
    """True when the local time of `moment` falls in one of the spans."""
    if not spans:
        return True
    local = to_local(moment, tz)
    t = local.time()
    for span in spans:
        end = (datetime.combine(local.date(), span.end) - timedelta(minutes=stop_minutes_before)).time()
        if span.start <= t < end:
            return True
    return False


def closing_moment(spans: list[Span], day: date, tz: str) -> datetime:
    """UTC moment of the hall's last closing time on `day` (midnight when no hours are set)."""
    if spans:
        local = datetime.combine(day, spans[-1].end, tzinfo=zone(tz))
    else:
        local = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone(tz))
    return to_utc(local)


def day_start_moment(day: date, tz: str) -> datetime:
    """UTC moment of local midnight that begins `day`."""
    return to_utc(datetime.combine(day, time(0), tzinfo=zone(tz)))


def day_end_moment(day: date, tz: str) -> datetime:
    """UTC moment of local midnight after `day`."""
    return to_utc(datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone(tz)))

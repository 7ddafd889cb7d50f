"""Wait prediction: when will each waiting ticket be called?

The simple estimate (estimate.py) divides the people ahead in the same service
by the windows serving it. In a hall of comprehensive windows that is often
far off: windows split their time between services, the calling policy takes
other services' tickets first, green-channel tickets overtake, and a window
that has just begun a long case will not be free soon.

This predictor plays the hall forward instead. From the hall as it is now (who
waits in which group, which windows work, what each is serving and since
when) it lets each window, in the order they become free, choose its next
ticket with the hall's own calling policy. A ticket's predicted wait is when
it is chosen.

* Case lengths are learned as the day goes, per service and per window and
  service (shrunk toward the service's mean while there are few cases),
  starting from the configured handling minutes.
* A window in the middle of a case is free after the remaining time of a
  log-normal case that has already lasted that long. Each case's length is a
  quantile of its distribution, spread evenly across windows and cases rather
  than set to the mean: with forty windows busy the first is free long before
  the soonest *expected* end, and only a spread shows it.
* A paused window is back after the rest of a typical pause (learned from
  today's pauses); as windows working now will pause later, as others do now,
  each case is stretched by the share of windows seen paused.
* Tickets likely to be issued in the next half hour, at the last hour's rates,
  join the play: some will be called first (a green-channel ticket, or the
  main service of a window that would otherwise have helped another).
* Probes (a ticket of each service and class issued now) ride along and take
  no window time: when one is chosen is the wait to promise a ticket issued
  now (live.py keeps the plays and makes the promises).
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import NormalDist

from sqlmodel import Session

from hallq.core import calendar, clock
from hallq.core.calling.policy import Candidate
from hallq.core.enums import Priority, WindowState
from hallq.core.models import Hall
from hallq.core.txn import hall_row
from hallq.core.waits import queries as q

_NORMAL = NormalDist()
GOLDEN = (math.sqrt(5) - 1) / 2
SILVER = math.sqrt(2) - 1
AWAY_SMOOTHING = 0.05
RATE_MINUTES = 60.0  # arrival rates are measured over the last hour...
MIN_RATE_SPAN = 15.0  # ...or at least this long, early in the day


def case_minutes(mean: float, cv: float, u: float, elapsed: float = 0.0) -> float:
    """The u-quantile of the minutes still to go in a log-normal case (mean, cv)
    that has already lasted `elapsed` minutes."""
    if cv <= 0:
        return max(mean - elapsed, 0.0)
    sigma = math.sqrt(math.log(1 + cv * cv))
    mu = math.log(mean) - sigma * sigma / 2
    lo = _NORMAL.cdf((math.log(elapsed) - mu) / sigma) if elapsed > 0 else 0.0
    p = min(max(lo + u * (1 - lo), 1e-9), 1 - 1e-9)
    return max(math.exp(mu + sigma * _NORMAL.inv_cdf(p)) - elapsed, 0.0)


def _spread(window: int, case: int) -> float:
    """A quantile for the case-th case of the window-th window, spread evenly over (0, 1)."""
    return (0.5 + window * GOLDEN + case * SILVER) % 1.0


class _Stat:
    """Running mean and variance (Welford)."""

    __slots__ = ("n", "mean", "m2")

    def __init__(self):
        self.n, self.mean, self.m2 = 0, 0.0, 0.0

    def add(self, x: float) -> None:
        self.n += 1
        d = x - self.mean
        self.mean += d / self.n
        self.m2 += d * (x - self.mean)

    @property
    def cv(self) -> float | None:
        if self.n < 5 or self.mean <= 0:
            return None
        return math.sqrt(self.m2 / (self.n - 1)) / self.mean


@dataclass(frozen=True)
class _Waiting:
    id: int
    number: str | None  # None: a ticket expected to be issued, or a probe
    service_id: int
    priority: str
    queued_at: datetime
    available_at: datetime
    probe: bool = False


PROBE = -(10**9)  # probes' ids count down from here, far below the expected tickets'


@dataclass
class Play:
    """One forward play of a hall, made at `at`: minutes from then until each waiting ticket
    is called, and until a ticket of each service and class issued then would be."""

    at: datetime
    tickets: dict[int, float] = field(default_factory=dict)  # ticket id → minutes
    numbers: dict[str, float] = field(default_factory=dict)  # ticket number → minutes
    next: dict[tuple[int, str], float] = field(default_factory=dict)  # (service id, priority) → minutes
    ahead: dict[tuple[int, str], int] = field(default_factory=dict)  # (service id, priority) → people ahead of that ticket
    service_of: dict[int, int] = field(default_factory=dict)  # ticket id → the service it was played in
    newest: int = 0  # the highest id of the tickets waiting when the hall was read: a ticket above it came later


class WaitPredictor:
    """Predicts every waiting ticket's wait for one hall, learning handling times as the day goes."""

    def __init__(
        self,
        *,
        no_show_rate: float = 0.03,
        no_show_minutes: float = 1.5,
        pause_minutes: float = 15.0,
        lookahead: float = 30.0,
        prior_cases: int = 5,
        default_cv: float = 0.6,
    ):
        self.no_show_rate = no_show_rate
        self.no_show_minutes = no_show_minutes
        self.lookahead = lookahead
        self.prior_cases = prior_cases
        self.default_cv = default_cv
        self.by_service: dict[int, _Stat] = {}
        self.by_window: dict[tuple[int, int], _Stat] = {}
        self.pauses = _Stat()  # how long a paused window stays away, as seen today
        self.pause_prior = pause_minutes
        self.away_share = 0.0  # share of on-duty windows paused, smoothed over today's looks
        self.paused_since: dict[int, datetime] = {}
        self.seen_until: datetime | None = None
        self.day = None

    # -- learning -----------------------------------------------------------

    def learn(self, session: Session, hall: Hall, now: datetime) -> None:
        """Take in the cases finished since the last look (window time from call to finish)."""
        day = clock.business_date(now, hall.timezone)
        if day != self.day:
            self.day, self.seen_until = day, None
            self.by_service.clear()
            self.by_window.clear()
            self.paused_since.clear()
            self.pauses = _Stat()
            self.away_share = 0.0
        params = {"hall_id": hall.id, "day": day, "since": self.seen_until}
        finished = session.connection().execute(q.FINISHED if self.seen_until is None else q.FINISHED_SINCE, params)
        for service_id, window_id, called_at, finished_at in finished:
            if called_at is None or finished_at is None:
                continue
            finished_at = clock.as_utc(finished_at)
            minutes = (finished_at - clock.as_utc(called_at)).total_seconds() / 60.0
            self.by_service.setdefault(service_id, _Stat()).add(minutes)
            self.by_window.setdefault((window_id, service_id), _Stat()).add(minutes)
            if self.seen_until is None or finished_at > self.seen_until:
                self.seen_until = finished_at

    def handling(self, window_id: int, service_id: int, configured: float) -> float:
        """Expected minutes a case of this service takes at this window."""
        s = self.by_service.get(service_id)
        k = self.prior_cases
        base = configured if s is None else (s.n * s.mean + k * configured) / (s.n + k)
        w = self.by_window.get((window_id, service_id))
        if w is None:
            return base
        return (w.n * w.mean + k * base) / (w.n + k)

    def pause_left(self, window_id: int, since: datetime, now: datetime) -> float:
        """Expected minutes until a paused window is back (never less than a minute)."""
        self.paused_since[window_id] = since
        k = self.prior_cases
        mean = (self.pauses.n * self.pauses.mean + k * self.pause_prior) / (self.pauses.n + k)
        return max(mean - (now - since).total_seconds() / 60.0, 1.0)

    def _saw_working(self, window_id: int, now: datetime) -> None:
        since = self.paused_since.pop(window_id, None)
        if since is not None:
            self.pauses.add((now - since).total_seconds() / 60.0)

    def cv(self, service_id: int) -> float:
        s = self.by_service.get(service_id)
        return (s.cv if s is not None else None) or self.default_cv

    # -- predicting ---------------------------------------------------------

    def predict(self, hall_service, slug: str, only: str | None = None) -> dict[str, float]:
        """Minutes until each waiting ticket is called, by ticket number (or just `only`)."""
        with hall_service.db.read() as session:
            hall = hall_row(session, slug)
            now = hall_service.clock.now()
            self.learn(session, hall, now)
            return self.play(session, hall, now, hall_service.policy, only=only, probe=False).numbers

    def predict_ticket(self, hall_service, slug: str, number: str) -> float | None:
        """Minutes until this waiting ticket is called, or None if no working window serves it."""
        return self.predict(hall_service, slug, only=number).get(number)

    def play(self, session: Session, hall: Hall, now: datetime, policy, *, only: str | None = None, probe: bool = True) -> Play:
        """Play the hall forward from now (after `learn`): when each waiting ticket is called and,
        with `probe`, when a ticket of each service and class issued now would be."""
        # Plain columns rather than ORM objects: this runs every few seconds in a busy hall.
        run = session.connection().execute
        service_rows = run(q.SERVICES, {"hall_id": hall.id}).all()
        handling = {r[0]: r[1] for r in service_rows}
        day = clock.business_date(now, hall.timezone)
        rows = run(q.WAITING, {"hall_id": hall.id, "day": day}).all()
        groups: dict[tuple[int, str], deque[_Waiting]] = {}
        for r in rows:
            t = _Waiting(r[0], r[1], r[2], r[3], clock.as_utc(r[4]), clock.as_utc(r[5]))
            groups.setdefault((t.service_id, t.priority), deque()).append(t)
        result = Play(at=now, newest=max((r[0] for r in rows), default=0))
        if not groups and not probe:
            return result
        windows = run(q.WINDOWS_ON_DUTY, {"hall_id": hall.id}).all()
        weights: dict[int, dict[int, float]] = {w[0]: {} for w in windows}
        for window_id, service_id, weight in run(q.LINKS_ON_DUTY, {"hall_id": hall.id}):
            weights[window_id][service_id] = weight
        if probe:
            served = {service_id for links in weights.values() for service_id in links}
            self._add_probes(groups, rows, [r[0] for r in service_rows if r[0] in served], now, getattr(policy, "boost", {}), result)
        if not groups:
            return result
        self._expect_arrivals(session, hall, now, {r[0]: r[2] for r in service_rows}, groups)
        current_ids = [w[1] for w in windows if w[1]]
        current = {}
        if current_ids:
            current = {r[0]: (r[1], r[2]) for r in run(q.CURRENT, {"ids": current_ids})}
        if windows:
            paused = sum(1 for w in windows if w[2] == WindowState.PAUSED) / len(windows)
            self.away_share += AWAY_SMOOTHING * (paused - self.away_share)
        free = []
        for window_id, ticket_id, state, since in windows:
            at = 0.0
            ticket = current.get(ticket_id)
            if state == WindowState.PAUSED:
                at = self.pause_left(window_id, clock.as_utc(since), now)
            else:
                self._saw_working(window_id, now)
            if ticket is not None and ticket[1] is not None:
                mean = self.handling(window_id, ticket[0], handling[ticket[0]])
                elapsed = (now - clock.as_utc(ticket[1])).total_seconds() / 60.0
                at = case_minutes(mean, self.cv(ticket[0]), _spread(window_id, 0), elapsed)
            if weights[window_id]:
                heapq.heappush(free, (at, window_id))
        self._forward(now, free, weights, groups, handling, policy, only, result)
        return result

    @staticmethod
    def _add_probes(groups, rows, services: list[int], now: datetime, boost: dict, result: Play) -> None:
        """A probe per service served now and per class: a ticket issued at `now`, behind every
        waiting ticket of its group and before the tickets still to come. When a window chooses
        it, that is its wait; it takes no time, so it changes nobody else's. Also count who is
        ahead of it as people_ahead does (the same service, virtual time not later)."""
        virtual: dict[int, list[datetime]] = {}  # service id → its waiting tickets' virtual times
        for r in rows:
            virtual.setdefault(r[2], []).append(clock.as_utc(r[4]) - timedelta(minutes=boost.get(r[3], 0.0)))
        for k, (service_id, priority) in enumerate((s, p) for s in services for p in Priority):
            groups.setdefault((service_id, str(priority)), deque()).append(
                _Waiting(PROBE - k, None, service_id, str(priority), now, now, probe=True))
            mine = now - timedelta(minutes=boost.get(priority, 0.0))
            result.ahead[service_id, str(priority)] = sum(1 for v in virtual.get(service_id, ()) if v <= mine)

    def _expect_arrivals(self, session: Session, hall: Hall, now: datetime, hours: dict[int, list], groups) -> None:
        """Add the tickets likely to be issued in the next `lookahead` minutes, at the
        rates of the last hour, since some will be called before today's (a green-channel
        ticket, or the main service of a window that would otherwise help another)."""
        since = now - timedelta(minutes=RATE_MINUTES)
        rows = session.connection().execute(q.ISSUED_SINCE, {"hall_id": hall.id, "day": self.day, "since": since}).all()
        if not rows:
            return
        first = min(clock.as_utc(r[3]) for r in rows)
        span = max((now - first).total_seconds() / 60.0, MIN_RATE_SPAN)
        stop = hall.stop_issuing_minutes_before_close
        phantom = -1
        for service_id, priority, count, _ in rows:
            rate = count / span
            spans = calendar.service_spans(hall, hours.get(service_id), self.day)
            if spans is None:
                continue  # the service issues nothing today
            n = int(rate * self.lookahead + 0.5)
            for i in range(n):
                at = now + timedelta(minutes=(i + 0.5) / rate)
                if not clock.is_open(spans, at, hall.timezone, stop_minutes_before=stop):
                    continue
                groups.setdefault((service_id, priority), deque()).append(_Waiting(phantom, None, service_id, priority, at, at))
                phantom -= 1

    def _forward(self, now, free, weights, groups, handling, policy, only, result: Play) -> None:
        cases: dict[int, int] = {}
        left = sum(1 for g in groups.values() for t in g if t.number is not None or t.probe)
        while free and left:
            at, window_id = heapq.heappop(free)
            moment = now + timedelta(minutes=at)
            served = weights[window_id]
            candidates, later = [], None
            for (service_id, priority), line in groups.items():
                if service_id not in served or not line:
                    continue
                head = next((t for t in line if t.available_at <= moment), None)
                if head is None:
                    soonest = min(t.available_at for t in line)
                    later = soonest if later is None else min(later, soonest)
                    continue
                candidates.append(Candidate(head.id, service_id, priority, head.queued_at, served[service_id]))
            choice = policy.choose(candidates, moment, window_id) if candidates else None
            if choice is None:
                if later is not None:
                    heapq.heappush(free, ((later - now).total_seconds() / 60.0, window_id))
                continue
            line = groups[(choice.service_id, choice.priority)]
            ticket = next(t for t in line if t.id == choice.ticket_id)
            line.remove(ticket)
            if ticket.probe:
                left -= 1
                result.next[choice.service_id, choice.priority] = round(at, 1)
                heapq.heappush(free, (at, window_id))  # a probe takes no time
                continue
            if ticket.number is not None:
                left -= 1
                result.tickets[ticket.id] = result.numbers[ticket.number] = round(at, 1)
                result.service_of[ticket.id] = ticket.service_id
                if only is not None and ticket.number == only:
                    break
            cases[window_id] = cases.get(window_id, 0) + 1
            mean = self.handling(window_id, choice.service_id, handling[choice.service_id])
            case = case_minutes(mean, self.cv(choice.service_id), _spread(window_id, cases[window_id]))
            busy = (1 - self.no_show_rate) * case + self.no_show_rate * self.no_show_minutes
            # Windows working now will pause later as others do now: stretch the
            # window's time by the share of time windows spend away.
            busy /= 1 - min(self.away_share, 0.5)
            heapq.heappush(free, (at + busy, window_id))

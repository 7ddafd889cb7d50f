"""One simulated hall day under one policy: an event loop around the real engine.

The loop owns only what the engine cannot know: when visitors arrive, how long
each one takes at a window, who never shows up, when staff take breaks. Every
decision the hall makes (which ticket a window calls, what the balancer moves)
is the engine's. The loop keeps a count of callable tickets per service only to
avoid asking windows to call when nobody is there; `empty_calls` counts the
times it was wrong, which should be never.
"""

from __future__ import annotations

import heapq
import itertools
import time as timer
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hallq.core.waits.predictor import WaitPredictor

from ..core.errors import HallError
from .engine import EngineHall
from .layouts import Layout, engine_policy, make_balancer, speed, window_services
from .scenario import Scenario, WindowPlan
from .visitors import Visitor

# Event kinds, in the order they are handled when they fall on the same moment.
DONE, SKIP, RESUME, AVAILABLE, ARRIVE, BREAK, TICK, SAMPLE, PRECLOSE, CLOSE = range(10)


@dataclass
class Window:
    plan: WindowPlan
    services: set[str]
    state: str = "idle"  # idle | busy | break
    visitor: Visitor | None = None
    ticket: str | None = None
    since: datetime | None = None
    started: datetime | None = None  # when "start" was pressed for the visitor at the window (before closing)
    break_due: float | None = None
    line: list = field(default_factory=list)  # assign-at-issue: this window's own waiting line
    busy: float = 0.0
    away: float = 0.0


@dataclass
class DayResult:
    layout: str
    day: int
    waits: list[tuple[str, str, float]]  # (service, priority, minutes) of visitors who came
    expired: int
    refused: int
    no_shows: int
    busy_minutes: float
    duty_minutes: float
    predictions: list[tuple[float, float, float]]  # (predicted, simple estimate, actual wait)
    backlog: dict[str, list[int]]  # waiting per service, each minute from opening
    moves: int
    empty_calls: int
    seconds: float
    handling: list[float] = field(default_factory=list)  # minutes from the call to completion, each visitor served
    ticket_waits: list[float] = field(default_factory=list)  # minutes from issue to first call, each ticket called (no-shows too)
    reviews: dict[int, int] = field(default_factory=dict)  # score → reviews given on the review boxes


class DayRun:
    def __init__(
        self, scenario: Scenario, layout: Layout, visitors: list[Visitor], day: int, *, predict: bool | None = None, predict_every: int = 1,
        db_url: str | None = None,
    ):
        self.scenario = scenario
        self.layout = layout
        self.visitors = visitors
        self.day = day
        self.midnight = scenario.midnight(scenario.day(day))
        self.opening, self.closing = scenario.open_minutes()
        self.spans = scenario.spans()
        layout_services = window_services(layout, scenario)
        self.engine = EngineHall(scenario.hall_with(layout_services), self.moment(self.opening - 1), db_url=db_url)
        self.engine.service.policy = engine_policy(layout, scenario, self.engine)
        self.balancer = make_balancer(layout, scenario, layout_services)
        self.interval = float(scenario.balancer.get("interval_minutes", 2.0))
        self.predict = layout.hallq if predict is None else predict
        self.predict_every = max(int(predict_every), 1)
        self.predictor = WaitPredictor(no_show_rate=scenario.spec.no_show, no_show_minutes=scenario.spec.no_show_minutes) if self.predict else None
        self.windows = {p.number: Window(p, set(layout_services[p.number])) for p in scenario.windows}
        self.waiting = {c: 0 for c in scenario.services}  # issued and not yet called
        self.callable = {c: 0 for c in scenario.services}  # of those, callable now
        self.tickets: dict[str, Visitor] = {}
        self.called: dict[int, float] = {}  # visitor index → minute of the answered call
        self.issued: dict[int, tuple[float | None, float | None]] = {}  # visitor index → (prediction, simple)
        self.heap: list = []
        self.seq = itertools.count()
        self.now = self.moment(self.opening)
        self.refused = self.moves = self.empty_calls = 0
        self.closed = False
        self.backlog = {c: [] for c in scenario.services}
        self.handling: list[float] = []
        self.first_calls: dict[int, float] = {}  # visitor index → minute of the first call (no-shows too)
        self.reviews: dict[int, int] = {}

    # -- time ---------------------------------------------------------------

    def moment(self, minute: float) -> datetime:
        return self.midnight + timedelta(minutes=minute)

    def minute(self, moment: datetime) -> float:
        return (moment - self.midnight).total_seconds() / 60.0

    def at(self, moment: datetime, kind: int, arg=None) -> None:
        heapq.heappush(self.heap, (moment, kind, next(self.seq), arg))

    # -- the day --------------------------------------------------------------

    def run(self) -> DayResult:
        started = timer.perf_counter()
        try:
            self._open()
            while self.heap:
                moment, kind, _, arg = heapq.heappop(self.heap)
                self.now = moment
                self.engine.at(moment)
                HANDLERS[kind](self, arg)
            return self._result(timer.perf_counter() - started)
        finally:
            self.engine.close()

    def _open(self) -> None:
        self.engine.at(self.moment(self.opening))
        for w in self.windows.values():
            self.engine.action(w.plan.number, "open")
            w.since = self.now
        for v in self.visitors:
            self.at(self.moment(v.arrival), ARRIVE, v)
        for b in self.scenario.breaks:
            if self.opening <= b.start < self.closing:
                self.at(self.moment(b.start), BREAK, (b.window, b.minutes))
        if self.balancer:
            self.at(self.moment(self.opening + self.interval), TICK)
        self.at(self.moment(self.opening), SAMPLE)
        self.at(self.moment(self.closing) - timedelta(milliseconds=1), PRECLOSE)
        self.at(self.moment(self.closing), CLOSE)

    # -- handlers -------------------------------------------------------------

    def on_arrive(self, v: Visitor) -> None:
        if not self.scenario.issuing(v.service, v.arrival):
            self.refused += 1
            return
        channel = "appointment" if v.priority == "appointment" else "kiosk"
        try:
            number, simple = self.engine.issue(v.service, str(v.priority), channel)
        except HallError:
            self.refused += 1  # quota reached, or the service just closed
            return
        self.tickets[number] = v
        self.waiting[v.service] += 1
        self.callable[v.service] += 1
        predicted = None
        if self.predict and v.index % self.predict_every == 0:
            predicted = self.predictor.predict_ticket(self.engine.service, self.engine.slug, number)
        self.issued[v.index] = (predicted, simple)
        if self.layout.assign_at_issue:
            w = self._least_loaded(v.service)
            if w is not None:
                heapq.heappush(w.line, (v.arrival, next(self.seq), number))
                self._try_call(w)
        else:
            self._wake({v.service})

    def on_done(self, number: int) -> None:
        w = self.windows[number]
        try:
            self.engine.complete(number)
        except HallError:
            pass  # the hall closed meanwhile and the engine already let the ticket go
        else:
            # The hall's handling runs from "start" when it was pressed, else from the call (docs/figures.md).
            self.handling.append((self.now - (w.started or w.since)).total_seconds() / 60.0)
            if w.visitor.score is not None:
                self.engine.review(number, w.ticket, w.visitor.score)
                self.reviews[w.visitor.score] = self.reviews.get(w.visitor.score, 0) + 1
        self._free(w)

    def on_skip(self, number: int) -> None:
        w = self.windows[number]
        v = w.visitor
        try:
            requeued = self.engine.skip(number)
        except HallError:
            requeued = False  # closed meanwhile: the engine expired the ticket
        if requeued:
            self.waiting[v.service] += 1
            grace = timedelta(minutes=self.scenario.hall.hall.requeue_grace_minutes)
            self.at(self.now + grace, AVAILABLE, (v, number, w.ticket))
        self._free(w)

    def on_available(self, arg) -> None:
        v, number, ticket = arg
        if self.closed:
            return  # the closing sweep has let the ticket go
        self.callable[v.service] += 1
        if self.layout.assign_at_issue:
            # Back in the same window's line, at its original place.
            w = self.windows[number]
            heapq.heappush(w.line, (v.arrival, next(self.seq), ticket))
            self._try_call(w)
        else:
            self._wake({v.service})

    def on_break(self, arg) -> None:
        number, minutes = arg
        w = self.windows[number]
        if w.state == "idle":
            self._pause(w, minutes)
        elif w.state == "busy":
            w.break_due = minutes

    def on_resume(self, number: int) -> None:
        w = self.windows[number]
        self.engine.action(number, "resume")
        w.away += self._clipped(w.since, self.now)
        w.state, w.since = "idle", self.now
        self._try_call(w)

    def on_tick(self, _) -> None:
        for suggestion in self.balancer.tick(self.engine.service, self.engine.slug):
            for change in suggestion.changes:
                self.moves += 1
                w = self.windows[change.window]
                w.services = set(change.after)
                self._try_call(w)
        if self.now + timedelta(minutes=self.interval) < self.moment(self.closing):
            self.at(self.now + timedelta(minutes=self.interval), TICK)

    def on_sample(self, _) -> None:
        for code, n in self.waiting.items():
            self.backlog[code].append(n)
        if self.now + timedelta(minutes=1) < self.moment(self.closing):
            self.at(self.now + timedelta(minutes=1), SAMPLE)

    def on_preclose(self, _) -> None:
        # Staff press "start" once the visitor is at the window, so the engine's
        # closing sweep (which lets go of tickets merely called) keeps them.
        for w in self.windows.values():
            if w.state == "busy" and w.visitor is not None and not w.visitor.no_show:
                self.engine.action(w.plan.number, "start")
                w.started = self.now

    def on_close(self, _) -> None:
        self.engine.sweep()
        self.closed = True
        for code in self.waiting:
            self.waiting[code] = self.callable[code] = 0
        for w in self.windows.values():
            w.line.clear()

    # -- windows --------------------------------------------------------------

    def _least_loaded(self, service: str) -> Window | None:
        serving = [w for w in self.windows.values() if service in w.services]
        working = [w for w in serving if w.state != "break"] or serving
        if not working:
            return None
        return min(working, key=lambda w: (len(w.line) + (w.state == "busy"), w.plan.number))

    def _wake(self, services: set[str]) -> None:
        idle = [w for w in self.windows.values() if w.state == "idle" and w.services & services]
        idle.sort(key=lambda w: (w.since, w.plan.number))
        for w in idle:
            if not any(self.callable[c] for c in services):
                return
            self._try_call(w)

    def _try_call(self, w: Window) -> None:
        if w.state != "idle":
            return
        if self.layout.assign_at_issue:
            number = self._next_in_line(w)
            if number is None:
                return
            self.engine.call(w.plan.number, number)
        else:
            if not any(self.callable[c] for c in w.services):
                return
            number = self.engine.call_next(w.plan.number)
            if number is None:
                self.empty_calls += 1
                return
        self._called(w, number)

    def _next_in_line(self, w: Window) -> str | None:
        return heapq.heappop(w.line)[2] if w.line else None

    def _called(self, w: Window, number: str) -> None:
        v = self.tickets[number]
        self.waiting[v.service] -= 1
        self.callable[v.service] -= 1
        w.state, w.visitor, w.ticket, w.since = "busy", v, number, self.now
        self.first_calls.setdefault(v.index, self.minute(self.now))
        if v.no_show:
            self.at(self.now + timedelta(minutes=self.scenario.spec.no_show_minutes), SKIP, w.plan.number)
            return
        self.called.setdefault(v.index, self.minute(self.now))
        minutes = v.minutes / speed(self.layout, self.scenario, w.plan, v.service)
        self.at(self.now + timedelta(minutes=minutes), DONE, w.plan.number)

    def _free(self, w: Window) -> None:
        w.busy += self._clipped(w.since, self.now)
        w.state, w.visitor, w.ticket, w.since, w.started = "idle", None, None, self.now, None
        if w.break_due is not None:
            minutes, w.break_due = w.break_due, None
            self._pause(w, minutes)
        else:
            self._try_call(w)

    def _pause(self, w: Window, minutes: float) -> None:
        self.engine.action(w.plan.number, "pause", reason="break")
        w.state, w.since = "break", self.now
        self.at(self.now + timedelta(minutes=minutes), RESUME, w.plan.number)

    def _clipped(self, start: datetime, end: datetime) -> float:
        """Minutes of [start, end] that fall within the hall's opening hours."""
        a, b = self.minute(start), self.minute(end)
        return sum(max(min(b, hi) - max(a, lo), 0.0) for lo, hi in self.spans)

    # -- the outcome ----------------------------------------------------------

    def _result(self, seconds: float) -> DayResult:
        waits, predictions, no_shows, expired = [], [], 0, 0
        for v in self.visitors:
            if v.index not in self.issued:
                continue
            if v.no_show:
                no_shows += 1
                continue
            called = self.called.get(v.index)
            expired += called is None
            wait = max((called if called is not None else self.closing) - v.arrival, 0.0)  # µs rounding
            waits.append((v.service, str(v.priority), wait))
            predicted, simple = self.issued[v.index]
            if called is not None and predicted is not None and simple is not None:
                predictions.append((predicted, simple, wait))
        duty = busy = 0.0
        for w in self.windows.values():
            if w.state == "busy":
                w.busy += self._clipped(w.since, self.moment(self.closing))
            duty += sum(hi - lo for lo, hi in self.spans) - w.away
            busy += w.busy
        return DayResult(
            layout=self.layout.name,
            day=self.day,
            waits=waits,
            expired=expired,
            refused=self.refused,
            no_shows=no_shows,
            busy_minutes=busy,
            duty_minutes=duty,
            predictions=predictions,
            backlog=self.backlog,
            moves=self.moves,
            empty_calls=self.empty_calls,
            seconds=seconds,
            handling=self.handling,
            ticket_waits=[max(at - v.arrival, 0.0) for v in self.visitors if (at := self.first_calls.get(v.index)) is not None],
            reviews=self.reviews,
        )


HANDLERS = {
    DONE: DayRun.on_done,
    SKIP: DayRun.on_skip,
    RESUME: DayRun.on_resume,
    AVAILABLE: DayRun.on_available,
    ARRIVE: DayRun.on_arrive,
    BREAK: DayRun.on_break,
    TICK: DayRun.on_tick,
    SAMPLE: DayRun.on_sample,
    PRECLOSE: DayRun.on_preclose,
    CLOSE: DayRun.on_close,
}

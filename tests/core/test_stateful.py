"""Random sequences of everything a hall does, against the real HallService and
a small model of what should happen; the hall's invariants are checked after
every step, on SQLite and on PostgreSQL.

The model mirrors the engine's rules (see windows.py and tickets.py), including
its lazy sweep: closing time and day end are applied by the first read or
successful write after them, and a refused write leaves everything as it was.
"""

from __future__ import annotations

import copy
import itertools
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlmodel import select

from hallq.core.accounts import users as accounts
from hallq.core.clock import FixedClock
from hallq.core.errors import Conflict, Forbidden, HallError, Invalid, NotFound, Refused
from hallq.core.hallfile import HallFile
from hallq.core.models import Hall, Ticket, User, Window
from hallq.core.service import HallService
from hallq.db import Database
from support.halls import MONDAY_10AM

SHANGHAI = timezone(timedelta(hours=8))  # no daylight saving: a fixed offset is exact
OPENING = [(time(8, 30), time(12, 0)), (time(13, 30), time(17, 30))]
STOP_ISSUING = 15
RECALL_LIMIT = 1
GRACE = 5
SERVICES = {"SI": ("A", 4), "MI": ("B", None), "HR": ("C", None)}  # code: (prefix, daily quota)
WINDOWS = {1: {"SI": 2.0, "MI": 1.0}, 2: {"MI": 2.0, "SI": 1.0}, 3: {"HR": 1.0}}
BOOST = {"normal": 0.0, "appointment": 10.0, "green": 20.0}
OPEN_STATUSES = ("waiting", "called", "serving")
_halls = itertools.count(1)


def hall_spec(code: str, slug: str) -> HallFile:
    return HallFile.model_validate(
        {
            "hall": {
                "id": code,
                "slug": slug,
                "name": "状态机大厅",
                "hours": [f"{a:%H:%M}-{b:%H:%M}" for a, b in OPENING],
                "recall_limit": RECALL_LIMIT,
                "requeue_skipped": True,
                "requeue_grace_minutes": GRACE,
                "stop_issuing_minutes_before_close": STOP_ISSUING,
                # Open every day: the machine's days run on past weekends, and the model knows
                # hours, not holidays (the calendar has its own tests: test_core_calendar.py).
                "calendar": "every_day",
            },
            "services": [
                {"code": c, "name": c, "prefix": p, "handling_minutes": 10, "daily_quota": q}
                for c, (p, q) in SERVICES.items()
            ],
            "windows": [{"number": n, "name": f"{n}号窗口", "services": s} for n, s in WINDOWS.items()],
        }
    )


# -- the model -------------------------------------------------------------------


class Expected(Exception):
    """The model's prediction that the engine refuses, with this class and code."""

    def __init__(self, kind: type[HallError], code: str):
        super().__init__(code)
        self.kind, self.code = kind, code


def local_day(moment: datetime) -> date:
    return moment.astimezone(SHANGHAI).date()


def at_local(day: date, t: time) -> datetime:
    return datetime.combine(day, t, tzinfo=SHANGHAI).astimezone(timezone.utc)


@dataclass
class MTicket:
    id: str
    seq: int
    number: str
    service: str
    priority: str
    day: date
    queued_at: datetime
    available_at: datetime
    status: str = "waiting"
    window: int | None = None
    recalls: int = 0
    requeues: int = 0


@dataclass
class MWindow:
    services: dict
    state: str = "closed"
    staff: str | None = None
    ticket: str | None = None
    since: datetime | None = None
    version: int = 0


@dataclass
class Model:
    tickets: dict = field(default_factory=dict)  # public id → MTicket
    windows: dict = field(default_factory=lambda: {n: MWindow(dict(s)) for n, s in WINDOWS.items()})
    counters: Counter = field(default_factory=Counter)  # (prefix, day) → last number
    sweep_after: datetime | None = None

    # The engine's sweep, run at the start of every write.
    def sweep(self, now: datetime) -> None:
        if self.sweep_after is not None and now < self.sweep_after:
            return
        today = local_day(now)
        closing = at_local(today, OPENING[-1][1])
        expired = set()
        for t in self.tickets.values():
            if t.status in OPEN_STATUSES and t.day < today:
                t.status = "expired"
                expired.add(t.id)
            elif now >= closing and t.day == today and t.status in ("waiting", "called"):
                t.status = "expired"
                expired.add(t.id)
        for w in self.windows.values():
            if w.since is not None and local_day(w.since) < today and w.state != "closed":
                self.reset(w, "closed", now)
            elif w.ticket in expired:
                self.reset(w, "idle", now, keep_staff=True)
        self.sweep_after = closing if now < closing else at_local(today + timedelta(days=1), time(0))

    @staticmethod
    def reset(w: MWindow, state: str, now: datetime, keep_staff: bool = False) -> None:
        w.state, w.ticket, w.since = state, None, now
        if not keep_staff:
            w.staff = None
        w.version += 1

    @staticmethod
    def touch(w: MWindow, now: datetime, state: str | None = None) -> None:
        if state is not None and state != w.state:
            w.state, w.since = state, now
        w.version += 1

    @staticmethod
    def require(w: MWindow, *states: str) -> None:
        if w.state not in states:
            code = {"closed": "window_closed", "paused": "window_paused", "serving": "window_busy", "idle": "window_idle"}
            raise Expected(Conflict, code[w.state])

    def current(self, w: MWindow, *statuses: str) -> MTicket:
        t = self.tickets[w.ticket]
        if t.status not in statuses:
            raise Expected(Conflict, "bad_ticket_state")
        return t

    def no_show(self, w: MWindow, t: MTicket, now: datetime) -> None:
        w.ticket = None
        self.touch(w, now, "idle")
        if t.requeues == 0:
            t.status, t.requeues, t.window, t.recalls = "waiting", 1, None, 0
            t.available_at = now + timedelta(minutes=GRACE)
        else:
            t.status = "no_show"

    def claim(self, n: int, t: MTicket, now: datetime) -> None:
        t.status, t.window = "called", n
        w = self.windows[n]
        w.ticket = t.id
        self.touch(w, now, "serving")
        w.since = now

    def best_for(self, n: int, now: datetime) -> MTicket | None:
        weights = self.windows[n].services
        today = local_day(now)
        callable_ = [
            t for t in self.tickets.values()
            if t.status == "waiting" and t.day == today and t.service in weights and t.available_at <= now
        ]

        def key(t: MTicket):
            waited = (now - t.queued_at).total_seconds() / 60.0
            return (-(weights[t.service] * (BOOST[t.priority] + waited)), t.queued_at, t.seq)

        return min(callable_, key=key, default=None)

    def ahead_of_new(self, service: str, priority: str, now: datetime) -> int:
        """People ahead of a ticket issued now (its id is the largest, so ties go to the others)."""
        mine = now - timedelta(minutes=BOOST[priority])
        return sum(
            1 for t in self.tickets.values()
            if t.status == "waiting" and t.service == service and t.day == local_day(now)
            and t.queued_at <= mine + timedelta(minutes=BOOST[t.priority])
        )


def may_issue(now: datetime) -> bool:
    t = now.astimezone(SHANGHAI).time()
    for start, end in OPENING:
        last = (datetime.combine(date.today(), end) - timedelta(minutes=STOP_ISSUING)).time()
        if start <= t < last:
            return True
    return False


# -- the machine -----------------------------------------------------------------


# Mostly the window's own staff member, so that windows get work done; now and then someone else.
WHO = st.sampled_from(["own"] * 8 + ["other", "boss"])
WINDOW = st.sampled_from([1, 1, 2, 2, 3])


class HallMachine(RuleBasedStateMachine):
    url: str = ""  # set by the test that runs the machine

    def __init__(self):
        super().__init__()
        n = next(_halls)
        self.slug = f"sm{n}"
        self.clock = FixedClock(MONDAY_10AM)
        self.service = self._connect()
        self.service.load_hall(hall_spec(f"state-machine-{n}", self.slug))
        self.model = Model()
        self.seq = itertools.count()
        self.versions = {w: 0 for w in WINDOWS}
        with self.service.db.write() as session:
            hall_id = session.exec(select(Hall.id).where(Hall.slug == self.slug)).one()
            users = [User(name=f"{self.slug}-s{w}", role="staff", hall_id=hall_id, created_at=MONDAY_10AM) for w in WINDOWS]
            users += [
                User(name=f"{self.slug}-boss", role="manager", hall_id=hall_id, created_at=MONDAY_10AM),
                User(name=f"{self.slug}-kiosk", role="device", hall_id=hall_id, created_at=MONDAY_10AM),
            ]
            session.add_all(users)
            session.flush()
            self.actors = {u.name: accounts.actor_for(u) for u in users}
            self.user_names = {u.id: u.name for u in users}
        self.hall_id = hall_id

    def _connect(self) -> HallService:
        db = Database.from_url(self.url)
        return HallService(db, clock_=self.clock)

    def teardown(self):
        self.service.db.dispose()

    # -- running one operation against engine and model --------------------------

    def attempt(self, engine_call, model_op):
        """Run model_op on a swept copy of the model and engine_call on the hall; they must agree."""
        trial = copy.deepcopy(self.model)
        trial.sweep(self.clock.now())
        try:
            prediction = model_op(trial)
            expected = None
        except Expected as exc:
            expected = exc
        try:
            result = engine_call()
        except HallError as exc:
            assert expected is not None, f"engine refused with {exc.as_dict()}, model expected success"
            assert (type(exc), exc.code) == (expected.kind, expected.code), (exc.as_dict(), expected.code)
            return None, None
        # Any other exception propagates and fails the test: the core raises only HallErrors on purpose.
        assert expected is None, f"engine accepted, model expected {expected.code}"
        self.model = trial
        return result, prediction

    def name(self, n: int, who: str) -> str:
        """own: whoever is signed in at window n (else its usual staff member); other: another window's."""
        if who == "boss":
            return f"{self.slug}-boss"
        if who == "own":
            return self.model.windows[n].staff or f"{self.slug}-s{n}"
        return f"{self.slug}-s{n % len(WINDOWS) + 1}"

    def window_op(self, n: int, who: str, action: str, model_action, **params):
        actor_name = self.name(n, who)

        def model_op(m: Model):
            w = m.windows[n]
            is_staff = actor_name != f"{self.slug}-boss"  # "own" may be the manager who opened the window
            if is_staff and action != "open" and w.staff != actor_name:
                raise Expected(Forbidden, "not_your_window")
            return model_action(m, w, actor_name)

        return self.attempt(
            lambda: self.service.window_action(self.slug, n, action, actor=self.actors[actor_name], **params),
            model_op,
        )

    # -- the rules: a working morning, then random steps ----------------------------

    @initialize(issued=st.lists(st.tuples(st.sampled_from(sorted(SERVICES)), st.sampled_from(sorted(BOOST))), max_size=6))
    def morning(self, issued):
        """Start from a working hall: every window open, some tickets issued."""
        for n in sorted(WINDOWS):
            self.open(n, "own")
        for service, priority in issued:
            self.issue(service, priority)

    def issue(self, service, priority):
        now = self.clock.now()

        def model_op(m: Model):
            if not may_issue(now):
                raise Expected(Refused, "service_closed")
            prefix, quota = SERVICES[service]
            n = m.counters[(prefix, local_day(now))] + 1
            if quota is not None and n > quota:
                raise Expected(Refused, "quota_reached")
            m.counters[(prefix, local_day(now))] = n
            return f"{prefix}{n:03d}", m.ahead_of_new(service, priority, now)

        view, predicted = self.attempt(
            lambda: self.service.issue_ticket(self.slug, service=service, priority=priority, actor=self.actors[f"{self.slug}-kiosk"]),
            model_op,
        )
        if view is not None:
            number, ahead = predicted
            assert (view["number"], view["ahead"], view["status"]) == (number, ahead, "waiting")
            self.model.tickets[view["id"]] = MTicket(
                view["id"], next(self.seq), number, service, priority, local_day(now), now, now
            )

    # One rule choosing among weighted steps: with separate rules, Hypothesis' swarm
    # testing often switches off the ones that open windows or issue tickets, and
    # the sequences never reach the deep states (called, served, requeued...).
    STEPS = (
        ["call_next"] * 6 + ["issue"] * 5 + ["complete", "open", "skip"] * 3
        + ["start", "recall", "transfer", "call_ticket"] * 2 + ["close", "pause", "resume"]
        + ["advance"] * 3 + ["long_wait", "jump_to", "next_day", "restart"]
    )
    # Drawn by index modulo: Hypothesis favours the first and last choices of a
    # sampled_from, which would swamp the weights above.
    STEP = st.integers(min_value=0, max_value=2**16 - 1).map(lambda i: HallMachine.STEPS[i % len(HallMachine.STEPS)])

    @rule(data=st.data())
    def step(self, data):
        action = data.draw(self.STEP, label="step")
        if action == "issue":
            self.issue(data.draw(st.sampled_from(sorted(SERVICES)), label="service"), data.draw(st.sampled_from(sorted(BOOST)), label="priority"))
        elif action in ("advance", "long_wait"):
            minutes = data.draw(st.integers(min_value=1, max_value=20), label="minutes")
            self.advance(minutes if action == "advance" else minutes * 15)
        elif action == "jump_to":
            self.jump_to(data.draw(st.sampled_from(["08:29", "08:30", "11:44", "11:45", "12:30", "17:14", "17:15", "17:29", "17:30", "23:59"]), label="to"))
        elif action in ("next_day", "restart"):
            getattr(self, action)()
        else:
            n, who = data.draw(WINDOW, label="window"), data.draw(WHO, label="who")
            if action == "pause":
                self.pause(n, who, data.draw(st.sampled_from(["午休", "系统故障", "", "   ", "长" * 101]), label="reason"))
            elif action == "transfer":
                self.transfer(n, who, data.draw(st.sampled_from(["SI", "MI", "HR", "XX"]), label="service"))
            elif action == "call_ticket":
                self.call_ticket(n, who, data.draw(st.integers(min_value=0, max_value=10_000), label="pick"))
            else:
                getattr(self, action)(n, who)

    # -- the steps, each run on the engine and on the model ----------------------

    def open(self, n, who):
        def act(m, w, actor_name):
            if w.state != "closed":
                if w.staff == actor_name:
                    return
                raise Expected(Conflict, "window_taken")
            if actor_name != f"{self.slug}-boss" and any(
                o.staff == actor_name and o.state != "closed" for o in m.windows.values()
            ):
                raise Expected(Conflict, "already_at_window")  # staff are at one window at a time
            w.staff = actor_name
            m.touch(w, self.clock.now(), "idle")

        self.window_op(n, who, "open", act)

    def close(self, n, who):
        def act(m, w, _):
            m.require(w, "idle", "paused", "closed")
            if w.state != "closed":
                m.reset(w, "closed", self.clock.now())

        self.window_op(n, who, "close", act)

    def pause(self, n, who, reason):
        def act(m, w, _):
            if not reason.strip():
                raise Expected(Invalid, "reason_required")
            if len(reason) > 100:
                raise Expected(Invalid, "reason_too_long")
            m.require(w, "idle")
            m.touch(w, self.clock.now(), "paused")

        self.window_op(n, who, "pause", act, reason=reason)

    def resume(self, n, who):
        def act(m, w, _):
            m.require(w, "paused")
            m.touch(w, self.clock.now(), "idle")

        self.window_op(n, who, "resume", act)

    def call_next(self, n, who):
        now = self.clock.now()

        def act(m, w, _):
            m.require(w, "idle")
            best = m.best_for(n, now)
            if best is None:
                raise Expected(Conflict, "queue_empty")
            m.claim(n, best, now)
            return best.id

        view, expected_id = self.window_op(n, who, "call-next", act)
        if view is not None:
            assert view["ticket"]["id"] == expected_id, (view["ticket"]["number"], self.model.tickets[expected_id].number)

    def call_ticket(self, n, who, pick):
        ids = sorted(self.model.tickets, key=lambda i: self.model.tickets[i].seq)
        ref = ids[pick % len(ids)] if ids else "Z999"
        now = self.clock.now()

        def act(m, w, _):
            m.require(w, "idle")
            t = m.tickets.get(ref)
            if t is None:
                raise Expected(NotFound, "unknown_ticket")
            if t.status != "waiting":
                raise Expected(Conflict, "ticket_not_waiting")
            if self.name(n, who) != f"{self.slug}-boss" and t.service not in w.services:
                raise Expected(Conflict, "service_not_served")
            m.claim(n, t, now)

        view, _ = self.window_op(n, who, "call", act, ticket=ref)
        if view is not None:
            assert view["ticket"]["id"] == ref

    def recall(self, n, who):
        def act(m, w, _):
            m.require(w, "serving")
            t = m.current(w, "called")
            if t.recalls >= RECALL_LIMIT:
                m.no_show(w, t, self.clock.now())
            else:
                t.recalls += 1
                m.touch(w, self.clock.now())

        self.window_op(n, who, "recall", act)

    def skip(self, n, who):
        def act(m, w, _):
            m.require(w, "serving")
            m.no_show(w, m.current(w, "called"), self.clock.now())

        self.window_op(n, who, "skip", act)

    def start(self, n, who):
        def act(m, w, _):
            m.require(w, "serving")
            m.current(w, "called").status = "serving"
            m.touch(w, self.clock.now())

        self.window_op(n, who, "start", act)

    def complete(self, n, who):
        def act(m, w, _):
            m.require(w, "serving")
            m.current(w, "called", "serving").status = "done"
            w.ticket = None
            m.touch(w, self.clock.now(), "idle")

        self.window_op(n, who, "complete", act)

    def transfer(self, n, who, to):
        now = self.clock.now()

        def act(m, w, _):
            m.require(w, "serving")
            t = m.current(w, "called", "serving")
            if to not in SERVICES:
                raise Expected(NotFound, "unknown_service")
            if to == t.service:
                raise Expected(Conflict, "same_service")
            t.service, t.status, t.available_at, t.window, t.recalls = to, "waiting", now, None, 0
            w.ticket = None
            m.touch(w, now, "idle")

        self.window_op(n, who, "transfer", act, service=to)

    def restart(self):
        """A new server process on the same database."""
        self.service.db.dispose()
        self.service = self._connect()

    def advance(self, minutes):
        self.clock.advance(minutes=minutes)

    def jump_to(self, hhmm):
        """Later today, to the minute of an edge in the opening hours."""
        target = at_local(local_day(self.clock.now()), time.fromisoformat(hhmm))
        if target > self.clock.now():
            self.clock.set(target)

    def next_day(self):
        self.clock.set(at_local(local_day(self.clock.now()) + timedelta(days=1), time(10)))

    # -- invariants -----------------------------------------------------------

    @invariant()
    def hall_is_consistent(self):
        # Reading the queue first: like any read or write, it applies a sweep the clock has made due.
        shown = {q["service"]: q["waiting"] for q in self.service.queue(self.slug)}
        self.model.sweep(self.clock.now())
        with self.service.db.read() as session:
            windows = session.exec(select(Window).where(Window.hall_id == self.hall_id)).all()
            rows = {w.number: (w.id, str(w.state), w.staff_id, w.current_ticket_id, w.version) for w in windows}
            tickets = session.exec(select(Ticket).where(Ticket.hall_id == self.hall_id)).all()
            by_id = {t.id: (t.public_id, str(t.status), t.window_id) for t in tickets}
            ticket_rows = {t.public_id: (str(t.status), t.number, t.business_date) for t in tickets}
        # Each window holds at most one ticket, called or serving, that points back at it; no ticket at two windows.
        held = [r[3] for r in rows.values() if r[3] is not None]
        assert len(held) == len(set(held))
        for number, (wid, state, staff_id, ticket_id, version) in rows.items():
            m = self.model.windows[number]
            held_id = None
            if ticket_id is not None:
                held_id, status, points_at = by_id[ticket_id]
                assert status in ("called", "serving") and points_at == wid and state == "serving"
            assert version >= self.versions[number], "a window's version went down"
            self.versions[number] = version
            assert (state, self.user_names.get(staff_id), held_id, version) == (m.state, m.staff, m.ticket, m.version), number
        # Every issued ticket is still there, in the status the model expects; numbers are unique per day.
        assert set(ticket_rows) == set(self.model.tickets)
        for public_id, (status, number, day) in ticket_rows.items():
            t = self.model.tickets[public_id]
            assert (status, number, day) == (t.status, t.number, t.day), t.number
        per_day = Counter((day, number) for (_, number, day) in ticket_rows.values())
        assert all(c == 1 for c in per_day.values())
        # The queue the hall shows matches the model's count of today's waiting tickets.
        today = local_day(self.clock.now())
        expected = Counter(t.service for t in self.model.tickets.values() if t.status == "waiting" and t.day == today)
        assert shown == {code: expected.get(code, 0) for code in SERVICES}


def run_machine(url: str, examples: int) -> None:
    HallMachine.url = url
    db = Database.from_url(url)
    db.create_all()
    db.dispose()
    run_state_machine_as_test(
        HallMachine,
        settings=settings(
            max_examples=examples,
            stateful_step_count=40,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )


@pytest.mark.slow
def test_hall_state_machine_on_sqlite(sqlite_url):
    run_machine(sqlite_url, examples=40)


@pytest.mark.slow
@pytest.mark.postgres
def test_hall_state_machine_on_postgres(pg_url):
    run_machine(pg_url, examples=30)

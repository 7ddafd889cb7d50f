"""The hall engine's front door: one method per thing a user can do.

Each write is one unit of work (work.py): find the hall, close what the clock has
left open, do the operation, commit, and only then publish its events. HTTP
routes, Socket.IO handlers, MQTT handlers, the CLI and the simulator all come
through here, so they share one behaviour.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial

from sqlmodel import select

from hallq_protocol.live import public

from hallq.core import calendar, clock, hallfile, shapes
from hallq.core.accounts import users as accounts
from hallq.core.calling.policy import AgingPriorityPolicy, CallingPolicy
from hallq.core.derived import QueueSummaries
from hallq.core.errors import Conflict, Forbidden, HallError, Invalid, NotFound
from hallq.core.events import DomainEvent, FanOutPublisher, Publisher
from hallq.core.models import Hall, Ticket, Window
from hallq.core.tickets import issue as tickets
from hallq.core.tickets import journey
from hallq.core.tickets.group_commit import GroupCommit, Item
from hallq.core.waits import live as live_waits
from hallq.core.waits.live import LiveWaits
from hallq.core.txn import SYSTEM, Actor, Txn, find_hall
from hallq.core.windows import actions as windows
from hallq.core.work import UnitOfWork

log = logging.getLogger("hallq")


@dataclass(frozen=True)
class _IssueRequest:
    slug: str
    service: str
    priority: object
    actor: Actor | None  # None: nobody signed in, refused
    channel: str


@dataclass(frozen=True)
class _WindowRequest:
    slug: str
    number: int
    action: str
    actor: Actor
    params: dict


def _deliver(item: Item, outcome) -> None:
    if isinstance(outcome, HallError):
        item.fail(outcome)
    else:
        item.succeed(outcome)


class HallService:
    def __init__(self, db, *, publisher: Publisher | None = None, clock_=None, policy: CallingPolicy | None = None,
                 waits: LiveWaits | None = None):
        self.db = db
        self.clock = clock_ or clock.SystemClock()
        self.work = UnitOfWork(db, self.clock, publisher)
        self.policy = policy or AgingPriorityPolicy()
        self._issues = GroupCommit(self._issue_batch)
        self._window_actions = GroupCommit(self._window_batch)
        # Derived state, computed once after commit for every transport (see derived).
        self.summaries = QueueSummaries(self.work.publisher, self.queue, self.clock.now,
                                        behind=lambda slug: None if self.waits is None else self.waits.behind(slug))
        self.waits: LiveWaits | None = None
        if waits is not None:
            self.use_waits(waits)

    # -- plumbing ---------------------------------------------------------

    @property
    def boost(self) -> dict:
        return getattr(self.policy, "boost", {})

    @property
    def publisher(self) -> FanOutPublisher:
        """Where every committed change's events go: transports add themselves to it."""
        return self.work.publisher

    def subscribe(self, transport: Publisher) -> None:
        """A transport hears every committed event and, after changes, each hall's `queue.summary`."""
        self.publisher.add(transport)
        self.summaries.add(transport)

    def unsubscribe(self, transport: Publisher) -> None:
        self.summaries.remove(transport)
        self.publisher.remove(transport)

    def use_waits(self, waits: LiveWaits) -> None:
        """Tell visitors the predictor's waits (see waits/live.py) rather than the simple estimate's."""
        self.waits = waits
        self.publisher.add(waits)

    def close(self) -> None:
        """Start no more background work (queue summaries) and let the one under way end:
        after this the database may be closed or dropped."""
        self.summaries.close()

    def _play(self, slug: str):
        """The hall's latest play of the predictor, brought up to date if it is due; None without one.
        A prediction is advice: when it fails, the last play answers while it is young enough (else
        the simple estimate), and the hall goes on."""
        if self.waits is None:
            return None
        try:
            return self.waits.current(self, slug)
        except HallError:
            return None  # no such hall: the operation itself says so
        except Exception:
            log.exception("wait prediction failed for hall %s", slug)
            return self.waits.fallback(slug, self.clock.now())

    def _last_play(self, slug: str):
        """The hall's play as it is (never made here: inside a transaction); none once a failing
        predictor has left it too old."""
        return None if self.waits is None else self.waits.fallback(slug, self.clock.now())

    def sweep(self, slug: str) -> None:
        """Close what the clock left open (also done by every write)."""
        self.work.write(slug, lambda tx: None)

    # -- configuration ----------------------------------------------------

    def load_hall(self, spec: hallfile.HallFile, actor: Actor = SYSTEM) -> dict:
        def audit(tx: Txn) -> dict:
            tx.audit("hall.load", tx.hall.slug, services=len(spec.services), windows=len(spec.windows))
            tx.emit("hall.configured")
            return {"hall": tx.hall.slug, "services": len(spec.services), "windows": len(spec.windows)}

        return self.work.configure(lambda session, now: hallfile.load_hall(session, spec, now), audit, actor=actor)

    # -- tickets ----------------------------------------------------------

    def issue_ticket(self, slug: str, *, service: str, priority=None, actor: Actor | None = None, channel: str = "api") -> dict:
        """Issue a ticket; the answer says how many are ahead and the estimated wait.

        Tickets asked for at the same moment are issued together, in one
        transaction (see group_commit): each gets its own number, answer or
        refusal, exactly as if issued alone one after another.
        """
        self._play(slug)  # brought up to date before, never inside, the write transaction
        return self._issues.submit(_IssueRequest(slug, service, priority, actor, channel))

    def issue_ticket_in(self, tx: Txn, *, service: str, priority=None, actor: Actor | None, channel: str) -> dict:
        """Issue one ticket in a transaction the caller runs (see run), on its own rather than in a group."""
        outcome = self._issue_in(tx, [_IssueRequest(tx.hall.slug, service, priority, actor, channel)])[0]
        if isinstance(outcome, HallError):
            raise outcome
        return outcome

    def _issue_batch(self, items: list[Item]) -> None:
        """Issue the tickets of one group commit: one transaction per hall."""
        by_hall: dict = {}
        for item in items:
            by_hall.setdefault(item.request.slug, []).append(item)
        for slug, group in by_hall.items():
            try:
                outcomes = self.work.write(slug, lambda tx: self._issue_in(tx, [item.request for item in group]))
            except Exception as exc:
                if len(group) == 1:
                    group[0].fail(exc)
                    continue
                # Nothing of the batch was committed. Run each on its own, so
                # that one request's unforeseen failure is not its neighbours'.
                for item in group:
                    try:
                        outcomes = self.work.write(slug, lambda tx: self._issue_in(tx, [item.request]))
                    except Exception as single:
                        item.fail(single)
                    else:
                        _deliver(item, outcomes[0])
                continue
            for item, outcome in zip(group, outcomes):
                _deliver(item, outcome)

    def _issue_in(self, tx: Txn, requests: list["_IssueRequest"]) -> list:
        """Issue tickets in this transaction: each one's view, or the HallError refusing it (which took no number)."""
        outcomes: list = [None] * len(requests)
        allowed = []
        for i, req in enumerate(requests):
            try:
                accounts.require_issue(req.actor, tx.hall)
            except HallError as exc:
                outcomes[i] = exc
            else:
                allowed.append(i)
        play = self._last_play(tx.hall.slug)
        issued = tickets.issue_tickets(tx, [(requests[i].service, requests[i].priority, requests[i].channel) for i in allowed], boost=self.boost,
                                       promise=None if play is None else partial(live_waits.promise, play))
        audit = []
        for i, result in zip(allowed, issued):
            if isinstance(result, HallError):
                outcomes[i] = result
                continue
            ticket, ahead, wait = result
            view = shapes.ticket_view(tx.session, tx.hall, ticket, tx.services, tx.now, boost=self.boost, known=(ahead, wait))
            tx.emit("ticket.issued", ticket=ticket.public_id, number=ticket.number, service=view["service"], priority=view["priority"])
            audit.append((requests[i].actor, "ticket.issue", ticket.number,
                          {"service": view["service"], "priority": view["priority"], "channel": requests[i].channel}))
            outcomes[i] = view
        tx.audit_many(audit)
        return outcomes

    def ticket(self, slug: str, ref: str, *, viewer: Actor | None = SYSTEM) -> dict:
        """A ticket's view, by public id (or number within today). Its tracking id only for its
        holder (who named it) and for those `accounts.sees_tracking_ids` allows."""

        play = self._play(slug)

        def read(tx: Txn) -> dict:
            view = shapes.ticket_view(tx.session, tx.hall, tickets.find_ticket(tx, ref), tx.services, tx.now, boost=self.boost, play=play)
            if view["id"] != ref and not accounts.sees_tracking_ids(viewer, tx.hall):
                del view["id"]
            return view

        return self.work.read(slug, read)

    def journey(self, slug: str, ref: str, *, viewer: Actor | None) -> dict:
        """A ticket's journey for the hall's staff and managers: every step (when, where, who) and what
        it measures (see tickets/journey.py)."""

        def read(tx: Txn) -> dict:
            if not accounts.sees_tracking_ids(viewer, tx.hall):
                raise Forbidden("staff_only", f"only the staff and managers of hall {tx.hall.slug} see a ticket's journey")
            ticket = tickets.find_ticket(tx, ref)
            return shapes.journey_view(tx.session, tx.hall, ticket, journey.steps_of(tx, ticket.id), tx.services)

        return self.work.read(slug, read)

    def move_ticket(self, slug: str, ref: str, *, service: str, actor: Actor, number: str | None = None) -> dict:
        """Manager: move a waiting ticket to another service (refused if `number` is given and is not the ticket's)."""

        def op(tx: Txn):
            accounts.require_manager(actor, tx.hall)
            ticket = tickets.find_ticket(tx, ref)
            # A page names the ticket twice (id in the address, number in the body): a
            # page showing one ticket's row must never move another.
            if number is not None and number.strip().upper() != ticket.number:
                raise Conflict("ticket_mismatch", f"ticket {ref} is {ticket.number}, not {number}")
            ticket = tickets.move_ticket(tx, ticket, service)
            return shapes.ticket_view(tx.session, tx.hall, ticket, tx.services, tx.now, boost=self.boost, play=self._last_play(tx.hall.slug))

        return self.work.write(slug, op, actor=actor)

    # -- windows ----------------------------------------------------------

    def window_action(self, slug: str, number: int, action: str, *, actor: Actor, **params) -> dict:
        """Run one window action (open, call-next, recall, ...) and return the window's new view.

        Actions asked at several windows at the same moment run together, as tickets
        are issued (see group_commit): one transaction, each action in a savepoint of
        its own, so each one's outcome, a refusal included, is exactly as if run alone
        one after another, and no ticket is called at two windows.
        """
        return self._window_actions.submit(_WindowRequest(slug, number, action, actor, params))

    def _window_batch(self, items: list[Item]) -> None:
        """Run the window actions of one group commit: one transaction per hall."""
        by_hall: dict = {}
        for item in items:
            by_hall.setdefault(item.request.slug, []).append(item)
        for slug, group in by_hall.items():
            if len(group) > 1:
                try:
                    outcomes = self.work.write(slug, lambda tx: [self._window_action_apart(tx, item.request) for item in group])
                except Exception:
                    pass  # nothing of the batch was committed: each runs on its own below, so that
                    # one action's unforeseen failure is not its neighbours'
                else:
                    for item, outcome in zip(group, outcomes):
                        _deliver(item, outcome)
                    continue
            for item in group:
                self._window_action_alone(item)

    def _window_action_alone(self, item: Item) -> None:
        req = item.request
        try:
            view = self.work.write(req.slug, lambda tx: self.window_action_in(tx, req.number, req.action, actor=req.actor, **req.params),
                                   actor=req.actor)
        except Exception as exc:
            item.fail(exc)
        else:
            item.succeed(view)

    def _window_action_apart(self, tx: Txn, req: _WindowRequest):
        """One action of a batch in a savepoint: its view, or the HallError refusing it (and nothing of it kept)."""
        events = len(tx.events)
        tx.actor = req.actor
        try:
            with tx.session.begin_nested():
                return self.window_action_in(tx, req.number, req.action, actor=req.actor, **req.params)
        except HallError as exc:
            del tx.events[events:]
            return exc

    def window_action_in(self, tx: Txn, number: int, action: str, *, actor: Actor, **params) -> dict:
        """window_action's work, in a transaction the caller runs (see run)."""
        fn = windows.ACTIONS.get(action)
        if fn is None:
            raise NotFound("unknown_action", f"no window action {action!r}; known: {', '.join(windows.ACTIONS)}")
        window = windows.get_window(tx, number)
        accounts.require_window(actor, tx.hall, window, action)
        if action == "call-next":
            ticket = fn(tx, window, self.policy)
        elif action == "call":
            ticket = fn(tx, window, _required(params, "ticket"))
        elif action == "transfer":
            ticket = fn(tx, window, _required(params, "service"))
        elif action == "pause":
            ticket = fn(tx, window, params.get("reason") or "")
        else:
            ticket = fn(tx, window)
        view = shapes.window_view(tx.session, window, tx.services, tx.now, tx.window_services(window))
        if isinstance(ticket, Ticket):
            view["last_ticket"] = shapes.ticket_view(tx.session, tx.hall, ticket, tx.services, tx.now, boost=self.boost, play=self._last_play(tx.hall.slug))
        self._attach_window_view(tx, window.number, view)
        return view

    def set_window_services(self, slug: str, number: int, services: dict, *, actor: Actor) -> dict:
        def op(tx: Txn):
            accounts.require_manager(actor, tx.hall)
            window = windows.get_window(tx, number)
            windows.set_services(tx, window, services)
            view = shapes.window_view(tx.session, window, tx.services, tx.now, tx.window_services(window))
            self._attach_window_view(tx, window.number, view)
            return view

        return self.work.write(slug, op, actor=actor)

    @staticmethod
    def _attach_window_view(tx: Txn, number: int, view: dict) -> None:
        """Give this window's events its full new state, so listeners need not ask."""
        public = {k: v for k, v in view.items() if k != "last_ticket"}
        for i, event in enumerate(tx.events):
            if event.window == number and "window_state" not in event.data:
                tx.events[i] = DomainEvent(event.kind, event.hall, event.at, event.window, {**event.data, "window_state": public})

    # -- reading ----------------------------------------------------------

    def halls(self) -> list[dict]:
        with self.db.read() as session:
            return [{"slug": h.slug, "id": h.code, "name": h.name, "name_en": h.name_en} for h in session.exec(select(Hall)).all()]

    def hall_info(self, slug: str) -> dict:
        with self.db.read() as session:
            hall = find_hall(session, slug)
            return {
                "slug": hall.slug,
                "id": hall.code,
                "name": hall.name,
                "name_en": hall.name_en,
                "timezone": hall.timezone,
                "hours": hall.hours,
                "weekday_hours": hall.weekday_hours,
                "hours_today": calendar.hours_on(hall, clock.business_date(self.clock.now(), hall.timezone)),
                "recall_limit": hall.recall_limit,
                "calendar": self._calendar_view(hall),
            }

    def _calendar_view(self, hall: Hall) -> dict:
        """Whether the hall works today, and the years whose holidays are not known yet: this one, and in
        December the coming one (the State Council publishes it in November or December)."""
        today = clock.business_date(self.clock.now(), hall.timezone)
        days = calendar.of_hall(hall)
        years = [today.year, today.year + 1] if today.month == 12 else [today.year]
        return {"kind": hall.calendar, "today": today.isoformat(), "working_today": days.is_working_day(today),
                "closed_because": days.why_closed(today), "missing_years": days.missing_years(years),
                "closed_days": hall.closed_days, "extra_working_days": hall.extra_working_days}

    def queue(self, slug: str) -> list[dict]:
        play = self._play(slug)
        return self.work.read(
            slug, lambda tx: shapes.queue_view(tx.session, tx.hall, tx.services, tx.now, clock.business_date(tx.now, tx.hall.timezone), play=play)
        )

    def windows(self, slug: str, *, viewer: Actor | None = SYSTEM) -> list[dict]:
        """The hall's windows; their tickets' tracking ids only for `viewer`s who may see them."""

        def read(tx: Txn):
            rows = tx.session.exec(
                select(Window).where(Window.hall_id == tx.hall.id, Window.active == True).order_by(Window.number)  # noqa: E712
            ).all()
            views = [shapes.window_view(tx.session, w, tx.services, tx.now) for w in rows]
            return views if accounts.sees_tracking_ids(viewer, tx.hall) else public(views)

        return self.work.read(slug, read)

    def window(self, slug: str, number: int, *, viewer: Actor | None = SYSTEM) -> dict:
        def read(tx: Txn):
            view = shapes.window_view(tx.session, windows.get_window(tx, number, lock=False), tx.services, tx.now)
            return view if accounts.sees_tracking_ids(viewer, tx.hall) else public(view)

        return self.work.read(slug, read)


def _required(params: dict, key: str):
    value = params.get(key)
    if value is None or value == "":
        raise Invalid("missing_field", f"this action needs {key!r}", field=key)
    if not isinstance(value, str):
        raise Invalid("bad_field", f"{key!r} must be a string", field=key)
    return value



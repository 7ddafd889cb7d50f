"""The hall engine's front door: one method per thing a user can do.

Each write runs in one transaction: find the hall, close what the clock has
left open, do the operation, commit, and only then publish its events. HTTP
routes, Socket.IO handlers, MQTT handlers, the CLI and the simulator all come
through here, so they share one behaviour.
"""

from __future__ import annotations


import time
from dataclasses import dataclass

from sqlmodel import select

from . import accounts, admin, clock, dashboards, hallfile, tickets, views, windows
from .errors import Conflict, HallError, Invalid, NotFound
from .events import DomainEvent, NullPublisher, Publisher
from .group_commit import GroupCommit, Item
from .models import Hall, Ticket, Window
from .policy import AgingPriorityPolicy, CallingPolicy
from .txn import SYSTEM, Actor, Txn, find_hall, hall_row


TOKEN_CACHE_SECONDS = 5.0
HALL_CACHE_SECONDS = 2.0
# Events after which the hall's row, services and window capacity are as they
# were: tickets move, reviews and device reports come in, but no window opens,
# pauses, closes or changes its services (a called or finished window still
# counts as working).
KEEPS_HALL_CACHE = frozenset(
    {
        "ticket.issued",
        "ticket.called",
        "ticket.recalled",
        "ticket.started",
        "ticket.completed",
        "ticket.requeued",
        "ticket.no_show",
        "ticket.transferred",
        "review.recorded",
        "device.paper",
        "device.status",
    }
)


@dataclass(frozen=True)
class _IssueRequest:
    slug: str
    service: str
    priority: object
    actor: Actor | None  # None: nobody signed in, refused
    channel: str


def _deliver(item: Item, outcome) -> None:
    if isinstance(outcome, HallError):
        item.fail(outcome)
    else:
        item.succeed(outcome)


class HallService:
    def __init__(self, db, *, publisher: Publisher | None = None, clock_=None, policy: CallingPolicy | None = None):
        self.db = db
        self.publisher = publisher or NullPublisher()
        self.clock = clock_ or clock.SystemClock()
        self.policy = policy or AgingPriorityPolicy()
        self._token_cache: dict[str, tuple[float, Actor | None]] = {}
        self._hall_cache: dict[str, tuple] = {}
        self._issues = GroupCommit(self._issue_batch)

    # -- plumbing ---------------------------------------------------------

    @property
    def boost(self) -> dict:
        return getattr(self.policy, "boost", {})

    def _write(self, slug: str, actor: Actor, fn):
        """Run fn(tx) in a write transaction; publish its events after commit.

        The hall's row, services and window capacity are kept for up to
        HALL_CACHE_SECONDS between writes that only move tickets (issue, call,
        complete...: they change none of them), which saves three queries on the
        busiest path. Any other change made here drops them at once; a change
        made by another server process is seen within HALL_CACHE_SECONDS
        (estimates and opening hours only: ticket numbers, quotas and claims
        never come from the cache).
        """
        now_mono = time.monotonic()
        cached = self._hall_cache.get(slug) if isinstance(slug, str) else None
        if cached is not None and cached[0] < now_mono:
            cached = None
        with self.db.write() as session:
            if cached is None:
                tx = Txn(session=session, hall=hall_row(session, slug), now=self.clock.now(), actor=actor)
            else:
                _, hall, services, capacity = cached
                tx = Txn(session=session, hall=hall, now=self.clock.now(), actor=actor, _services=services, _capacity=capacity)
            swept = tickets.sweep(tx)
            result = fn(tx)
            events = list(tx.events)
        if swept or any(e.kind not in KEEPS_HALL_CACHE for e in events):
            self._hall_cache.pop(slug, None)
        elif tx._services is not None and (cached is None or (cached[3] is None and tx._capacity is not None)):
            # Keep what this write loaded (capacity may still be missing: a call
            # does not need it; the next write that loads it fills it in).
            expires = cached[0] if cached is not None else now_mono + HALL_CACHE_SECONDS
            self._hall_cache[slug] = (expires, tx.hall, tx._services, tx._capacity)
        self._publish(events)
        return result

    def run(self, slug: str, fn, *, actor: Actor = SYSTEM):
        """Run fn(tx) in one write transaction of hall `slug`, its events published
        after commit: for a caller that makes several steps one atomic change
        (the device bridge logs a request, acts and stores the answer together).
        The *_in methods do the public actions' work inside it."""
        return self._write(slug, actor, fn)

    def _publish(self, events: list[DomainEvent]) -> None:
        for event in events:
            self.publisher.publish(event)

    def sweep(self, slug: str) -> None:
        """Close what the clock left open (also done by every write)."""
        self._write(slug, SYSTEM, lambda tx: None)

    # -- configuration ----------------------------------------------------

    def load_hall(self, spec: hallfile.HallFile, actor: Actor = SYSTEM) -> dict:
        now = self.clock.now()
        with self.db.write() as session:
            hall = hallfile.load_hall(session, spec, now)
            tx = Txn(session=session, hall=hall, now=now, actor=actor)
            tx.audit("hall.load", hall.slug, services=len(spec.services), windows=len(spec.windows))
            tx.emit("hall.configured")
            slug, events = hall.slug, list(tx.events)
        self._hall_cache.pop(slug, None)
        self._publish(events)
        return {"hall": slug, "services": len(spec.services), "windows": len(spec.windows)}

    # -- tickets ----------------------------------------------------------

    def issue_ticket(self, slug: str, *, service: str, priority=None, actor: Actor | None = None, channel: str = "api") -> dict:
        """Issue a ticket; the answer says how many are ahead and the estimated wait.

        Tickets asked for at the same moment are issued together, in one
        transaction (see group_commit): each gets its own number, answer or
        refusal, exactly as if issued alone one after another.
        """
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
                outcomes = self._write(slug, SYSTEM, lambda tx: self._issue_in(tx, [item.request for item in group]))
            except Exception as exc:
                if len(group) == 1:
                    group[0].fail(exc)
                    continue
                # Nothing of the batch was committed. Run each on its own, so
                # that one request's unforeseen failure is not its neighbours'.
                for item in group:
                    try:
                        outcomes = self._write(slug, SYSTEM, lambda tx: self._issue_in(tx, [item.request]))
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
        issued = tickets.issue_tickets(tx, [(requests[i].service, requests[i].priority, requests[i].channel) for i in allowed], boost=self.boost)
        for i, result in zip(allowed, issued):
            if isinstance(result, HallError):
                outcomes[i] = result
                continue
            ticket, ahead, wait = result
            view = views.ticket_view(tx.session, tx.hall, ticket, tx.services, tx.now, boost=self.boost, known=(ahead, wait))
            tx.emit("ticket.issued", ticket=ticket.public_id, number=ticket.number, service=view["service"], priority=view["priority"])
            outcomes[i] = view
        return outcomes

    def ticket(self, slug: str, ref: str) -> dict:
        """A ticket's view, by public id (or number within today)."""
        return self._read(slug, lambda tx: views.ticket_view(tx.session, tx.hall, tickets.find_ticket(tx, ref), tx.services, tx.now, boost=self.boost))

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
            return views.ticket_view(tx.session, tx.hall, ticket, tx.services, tx.now, boost=self.boost)

        return self._write(slug, actor, op)

    # -- windows ----------------------------------------------------------

    def window_action(self, slug: str, number: int, action: str, *, actor: Actor, **params) -> dict:
        """Run one window action (open, call-next, recall, ...) and return the window's new view."""
        return self._write(slug, actor, lambda tx: self.window_action_in(tx, number, action, actor=actor, **params))

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
        view = views.window_view(tx.session, window, tx.services, tx.now)
        if isinstance(ticket, Ticket):
            view["last_ticket"] = views.ticket_view(tx.session, tx.hall, ticket, tx.services, tx.now, boost=self.boost)
        self._attach_window_view(tx, window.number, view)
        return view

    def set_window_services(self, slug: str, number: int, services: dict, *, actor: Actor) -> dict:
        def op(tx: Txn):
            accounts.require_manager(actor, tx.hall)
            window = windows.get_window(tx, number)
            windows.set_services(tx, window, services)
            view = views.window_view(tx.session, window, tx.services, tx.now)
            self._attach_window_view(tx, window.number, view)
            return view

        return self._write(slug, actor, op)

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
                "recall_limit": hall.recall_limit,
            }

    def _read(self, slug: str, fn):
        """Run fn(tx) in a read transaction, after the sweep if the clock has made one due,
        so nobody reads tickets as waiting after the hall has closed."""
        with self.db.read() as session:
            hall = find_hall(session, slug)
            now = self.clock.now()
            if hall.sweep_after is not None and now < hall.sweep_after:
                return fn(Txn(session=session, hall=hall, now=now))
        self.sweep(slug)
        with self.db.read() as session:
            return fn(Txn(session=session, hall=find_hall(session, slug), now=self.clock.now()))

    def queue(self, slug: str) -> list[dict]:
        return self._read(
            slug, lambda tx: views.queue_view(tx.session, tx.hall, tx.services, tx.now, clock.business_date(tx.now, tx.hall.timezone))
        )

    def windows(self, slug: str) -> list[dict]:
        def read(tx: Txn):
            rows = tx.session.exec(
                select(Window).where(Window.hall_id == tx.hall.id, Window.active == True).order_by(Window.number)  # noqa: E712
            ).all()
            return [views.window_view(tx.session, w, tx.services, tx.now) for w in rows]

        return self._read(slug, read)

    def window(self, slug: str, number: int) -> dict:
        return self._read(slug, lambda tx: views.window_view(tx.session, windows.get_window(tx, number, lock=False), tx.services, tx.now))

    # -- accounts ---------------------------------------------------------

    def add_user(self, *, name: str, role: str, password: str, hall: str | None = None, display_name: str = "", staff_no: str = "") -> dict:
        """An account (the CLI's `user add`): refused, never cut, when a name is too long."""
        admin.check_names({"display_name": display_name, "staff_no": staff_no}, admin.USER_LIMITS)
        with self.db.write() as session:
            hall_row = find_hall(session, hall) if hall else None
            user = accounts.create_user(
                session, name=name, role=role, password=password, now=self.clock.now(), hall=hall_row,
                display_name=display_name, staff_no=staff_no,
            )
            return {"name": user.name, "role": str(user.role), "hall": hall_row.slug if hall_row else None}

    def create_token(self, name: str, label: str = "") -> str:
        with self.db.write() as session:
            return accounts.create_token(session, user_name=name, now=self.clock.now(), label=label)

    def actor_for_token(self, token: str) -> Actor | None:
        """The token's owner. Answers are remembered for TOKEN_CACHE_SECONDS, so a
        revoked token or deactivated account stops working within that time."""
        now = time.monotonic()
        hit = self._token_cache.get(token)
        if hit is not None and hit[0] > now:
            return hit[1]
        with self.db.read() as session:
            actor = accounts.actor_for_token(session, token)
        if len(self._token_cache) > 10_000:
            self._token_cache.clear()
        self._token_cache[token] = (now + TOKEN_CACHE_SECONDS, actor)
        return actor

    def actor_for_login(self, name: str, password: str) -> Actor | None:
        with self.db.read() as session:
            user = accounts.authenticate(session, name, password)
            return accounts.actor_for(user) if user else None

    # -- pages: staff figures, trends, layout, administration --------------

    def _read_hall(self, slug: str, fn):
        with self.db.read() as session:
            return fn(session, find_hall(session, slug))

    def hall_id(self, slug: str) -> int:
        """The hall's database id (what an Actor's hall_id refers to)."""
        return self._read_hall(slug, lambda session, hall: hall.id)

    def staff_today(self, slug: str, user_id: int) -> dict:
        """A staff member's figures for today: served, no-shows, mean handling time."""
        return self._read_hall(slug, lambda session, hall: dashboards.staff_today(session, hall, user_id, self.clock.now()))

    def staff_window(self, slug: str, user_id: int) -> int | None:
        """The window this staff member has open in the hall, if any."""
        return self._read_hall(slug, lambda session, hall: dashboards.staff_window(session, hall, user_id))

    def service_trends(self, slug: str) -> dict:
        return self._read_hall(slug, lambda session, hall: dashboards.service_trends(session, hall, self.clock.now()))

    def waiting_tickets(self, slug: str) -> list[dict]:
        return self._read_hall(slug, lambda session, hall: dashboards.waiting_tickets(session, hall, self.clock.now()))

    def layout(self, slug: str) -> dict:
        """The hall's zones and services (names, prefixes, zone of each service)."""
        return self._read_hall(slug, dashboards.layout)

    def hall_spec(self, slug: str, *, actor: Actor) -> hallfile.HallFile:
        """Administration: the hall's configuration as an editable hall file."""

        def read(session, hall):
            admin.require_admin(actor, hall)
            return admin.export_hall(session, hall)

        return self._read_hall(slug, read)

    def apply_hall_spec(self, slug: str, spec: hallfile.HallFile, *, actor: Actor) -> dict:
        """Administration: apply an edited hall file to this hall (same rules as `hallq hall load`)."""

        def op(tx: Txn):
            admin.require_admin(actor, tx.hall)
            if spec.hall.id != tx.hall.code:
                raise Invalid("other_hall", "this hall file describes another hall")
            hallfile.load_hall(tx.session, spec, tx.now)
            tx.audit("hall.edit", tx.hall.slug, services=len(spec.services), windows=len(spec.windows))
            tx.emit("hall.configured")
            return {"hall": tx.hall.slug, "services": len(spec.services), "windows": len(spec.windows)}

        return self._write(slug, actor, op)

    def users(self, slug: str, *, actor: Actor) -> list[dict]:
        def read(session, hall):
            admin.require_admin(actor, hall)
            return admin.list_users(session, hall)

        return self._read_hall(slug, read)

    def create_hall_user(self, slug: str, *, actor: Actor, name: str, role: str, password: str, display_name: str = "", staff_no: str = "") -> dict:
        """Administration: a new account of this hall."""

        def op(tx: Txn):
            admin.require_admin(actor, tx.hall)
            admin.check_names({"display_name": display_name, "staff_no": staff_no}, admin.USER_LIMITS)
            user = accounts.create_user(
                tx.session, name=name, role=admin.check_role(actor, role), password=password, now=tx.now,
                hall=tx.hall, display_name=display_name, staff_no=staff_no,
            )
            tx.audit("user.create", user.name, role=str(user.role))
            return {"name": user.name, "role": str(user.role)}

        return self._write(slug, actor, op)

    def update_hall_user(self, slug: str, name: str, *, actor: Actor, password: str | None = None, **changes) -> dict:
        """Administration: change an account's role, state, names, or set a new password."""

        def op(tx: Txn):
            admin.require_admin(actor, tx.hall)
            user = admin.update_user(tx.session, tx.hall, actor, name, **changes)
            if password:
                accounts.set_password(tx.session, name=user.name, password=password)
            tx.audit("user.update", user.name, **{k: v for k, v in changes.items() if v is not None}, password_reset=bool(password))
            return {"name": user.name, "role": str(user.role), "active": user.active}

        return self._write(slug, actor, op)


def _required(params: dict, key: str):
    value = params.get(key)
    if value is None or value == "":
        raise Invalid("missing_field", f"this action needs {key!r}", field=key)
    if not isinstance(value, str):
        raise Invalid("bad_field", f"{key!r} must be a string", field=key)
    return value



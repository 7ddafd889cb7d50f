"""What happens at a window: open, call, recall, skip, start, complete,
transfer, pause, resume, close; and the manager's change of its services."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

from sqlalchemy import bindparam, union_all, update
from sqlmodel import select

from hallq.core import clock
from hallq.core.calling.policy import CallingPolicy, Candidate
from hallq.core.enums import (
    AT_WINDOW_STATUSES,
    Priority,
    Role,
    Step,
    TicketStatus,
    WindowState,
)
from hallq.core.errors import Conflict, Invalid, NotFound
from hallq.core.models import Ticket, Window, WindowService
from hallq.core.shapes import iso
from hallq.core.sql import constant
from hallq.core.tickets import journey
from hallq.core.tickets.issue import find_ticket
from hallq.core.txn import Txn
from hallq.core.windows.state import reset_window
from hallq_protocol import privacy

MAX_WEIGHT = 100.0
MAX_REASON = 100
CLAIM_ATTEMPTS = 50


# Built once: every window action starts here, and building the statement cost more than running it.
_WINDOW = select(Window).where(
    Window.hall_id == bindparam("hall_id"), Window.number == bindparam("number"), Window.active == True  # noqa: E712
)
_WINDOW_LOCKED = _WINDOW.with_for_update()


def get_window(tx: Txn, number: int, *, lock: bool = True) -> Window:
    """The hall's window by number; locked for the rest of the transaction on PostgreSQL."""
    q = _WINDOW_LOCKED if lock else _WINDOW
    window = tx.session.exec(q, params={"hall_id": tx.hall.id, "number": number}).first()
    if window is None:
        raise NotFound("unknown_window", f"no window {number} in hall {tx.hall.slug}")
    return window


def _touch(tx: Txn, window: Window, state: WindowState | None = None) -> None:
    if state is not None and state != window.state:
        window.state = state
        window.since = tx.now
    window.version += 1
    tx.session.add(window)


def _current(tx: Txn, window: Window, allowed=AT_WINDOW_STATUSES) -> Ticket:
    if window.current_ticket_id is None:
        raise Conflict("no_current_ticket", f"window {window.number} has no ticket")
    ticket = tx.session.get(Ticket, window.current_ticket_id)
    if ticket.status not in allowed:
        raise Conflict("bad_ticket_state", f"ticket {ticket.number} is {ticket.status}")
    return ticket


def _require_state(window: Window, *states: WindowState) -> None:
    if window.state in states:
        return
    messages = {
        WindowState.CLOSED: ("window_closed", f"window {window.number} is closed; open it first"),
        WindowState.PAUSED: ("window_paused", f"window {window.number} is paused; resume it first"),
        WindowState.SERVING: ("window_busy", f"window {window.number} still has a ticket; complete, skip or transfer it first"),
        WindowState.IDLE: ("window_idle", f"window {window.number} has no ticket"),
    }
    code, message = messages[window.state]
    raise Conflict(code, message, state=str(window.state))


def _emit_window(tx: Txn, kind: str, window: Window, **data) -> None:
    tx.emit(kind, window=window.number, state=str(window.state), version=window.version, **data)


# What of a ticket event at a window goes into its audit line besides the window.
_AUDITED = ("how", "recalls", "reason", "from_service")


def _emit_ticket(tx: Txn, kind: str, window: Window, ticket: Ticket, **data) -> None:
    """One event about a ticket at a window: who, which number, which service, and the window's
    new version; and its audit line (every call, recall, skip, start, completion and transfer)."""
    tx.audit(kind, ticket.number, window=window.number, service=tx.services[ticket.service_id].code,
             **{k: v for k, v in data.items() if k in _AUDITED})
    tx.emit(
        kind,
        window=window.number,
        ticket=ticket.public_id,
        number=ticket.number,
        service=tx.services[ticket.service_id].code,
        window_name=window.name,
        version=window.version,
        **data,
    )


def open_window(tx: Txn, window: Window) -> Window:
    """Open a window and sign the actor in at it."""
    if window.state != WindowState.CLOSED:
        if window.staff_id == tx.actor.user_id:
            return window  # already open by the same person: nothing to do
        raise Conflict("window_taken", f"window {window.number} is already open by someone else")
    if tx.actor.role == Role.STAFF:
        elsewhere = tx.session.exec(
            select(Window.number).where(
                Window.hall_id == tx.hall.id, Window.staff_id == tx.actor.user_id, Window.state != WindowState.CLOSED
            )
        ).first()
        if elsewhere is not None:
            raise Conflict("already_at_window", f"you are signed in at window {elsewhere}; close it first")
    window.staff_id = tx.actor.user_id
    window.pause_reason = None
    _touch(tx, window, WindowState.IDLE)
    tx.audit("window.open", f"window {window.number}")
    _emit_window(tx, "window.opened", window)
    return window


def close_window(tx: Txn, window: Window) -> Window:
    _require_state(window, WindowState.IDLE, WindowState.PAUSED, WindowState.CLOSED)
    if window.state == WindowState.CLOSED:
        return window
    reset_window(window, WindowState.CLOSED, tx.now)
    tx.session.add(window)
    tx.audit("window.close", f"window {window.number}")
    _emit_window(tx, "window.closed", window)
    return window


def pause_window(tx: Txn, window: Window, reason: str) -> Window:
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("reason_required", "a pause needs a reason")
    if len(reason) > MAX_REASON:
        raise Invalid("reason_too_long", f"a pause reason has at most {MAX_REASON} characters")
    _require_state(window, WindowState.IDLE)
    # Shown on the hall's screens, the API, MQTT and the audit: masked once, here, for all of them.
    reason = privacy.mask(reason)
    window.pause_reason = reason
    _touch(tx, window, WindowState.PAUSED)
    tx.audit("window.pause", f"window {window.number}", reason=reason)
    _emit_window(tx, "window.paused", window, reason=reason)
    return window


def resume_window(tx: Txn, window: Window) -> Window:
    _require_state(window, WindowState.PAUSED)
    window.pause_reason = None
    _touch(tx, window, WindowState.IDLE)
    tx.audit("window.resume", f"window {window.number}")
    _emit_window(tx, "window.resumed", window)
    return window


@lru_cache(maxsize=128)
def _heads_statement(groups: int, excluding: bool):
    """UNION ALL of one index seek per (service, priority) group: the oldest callable ticket of each.

    Each member walks ix_ticket_queue to its first row, so the cost grows with
    the number of groups a window serves, not with the length of the queue.
    `excluding` leaves out tickets another window holds locked right now.
    """
    members = []
    for i in range(groups):
        head = (
            select(Ticket.id, Ticket.service_id, Ticket.priority, Ticket.queued_at)
            .where(
                Ticket.hall_id == bindparam("hall_id"),
                Ticket.status == constant(Ticket.__table__.c.status, TicketStatus.WAITING),
                Ticket.service_id == bindparam(f"service_{i}"),
                Ticket.priority == bindparam(f"priority_{i}"),
                Ticket.business_date == bindparam("day"),
                Ticket.available_at <= bindparam("now"),
                *([Ticket.id.not_in(bindparam("excluded", expanding=True))] if excluding else []),
            )
            .order_by(Ticket.queued_at, Ticket.id)
            .limit(1)
            .subquery()
        )
        members.append(select(head))
    return union_all(*members) if groups > 1 else members[0]


def queue_heads(tx: Txn, weights: dict[int, float], excluded: frozenset[int] = frozenset()) -> list[Candidate]:
    """The oldest callable ticket of each (service, priority) group the window serves."""
    if not weights:
        return []
    groups = [(sid, p) for sid in weights for p in Priority]
    params = {"hall_id": tx.hall.id, "day": clock.business_date(tx.now, tx.hall.timezone), "now": tx.now}
    for i, (sid, p) in enumerate(groups):
        params[f"service_{i}"] = sid
        params[f"priority_{i}"] = p
    if excluded:
        params["excluded"] = list(excluded)
    rows = tx.session.connection().execute(_heads_statement(len(groups), bool(excluded)), params).all()
    return [Candidate(r[0], r[1], Priority(r[2]), r[3], weights[r[1]]) for r in rows]


_LOCK_IF_FREE = (
    select(Ticket.id)
    .where(Ticket.id == bindparam("ticket_id"), Ticket.status == TicketStatus.WAITING)
    .with_for_update(skip_locked=True)
)
# A Core UPDATE (the ORM's bulk UPDATE costs more and synchronises nothing here).
_CLAIM = (
    update(Ticket.__table__)
    .where(Ticket.__table__.c.id == bindparam("ticket_id"), Ticket.__table__.c.status == TicketStatus.WAITING)
    .values(status=TicketStatus.CALLED, window_id=bindparam("window_id"), staff_id=bindparam("staff_id"), called_at=bindparam("now"))
)


def _claim(tx: Txn, window: Window, ticket_id: int) -> bool:
    """Take a waiting ticket for this window; False if another window has it.

    The claim is one conditional UPDATE (status must still be 'waiting'). On
    PostgreSQL the row is first locked with SKIP LOCKED, so a window never
    queues behind another window's uncommitted claim: it moves on to the next
    candidate at once. (SQLite's BEGIN IMMEDIATE already runs one writer at a time.)
    """
    tx.session.flush()  # what the ORM's UPDATE did first: the claim sees this transaction's own changes
    connection = tx.session.connection()
    if connection.dialect.name == "postgresql":
        if connection.execute(_LOCK_IF_FREE, {"ticket_id": ticket_id}).first() is None:
            return False
    params = {"ticket_id": ticket_id, "window_id": window.id, "staff_id": window.staff_id, "now": tx.now}
    return connection.execute(_CLAIM, params).rowcount == 1


def _after_call(tx: Txn, window: Window, ticket_id: int, how: str) -> Ticket:
    # populate_existing: one SELECT that also refreshes a copy loaded before the claim.
    ticket = tx.session.get(Ticket, ticket_id, populate_existing=True)
    window.current_ticket_id = ticket.id
    _touch(tx, window, WindowState.SERVING)
    journey.at_window(tx, ticket, Step.CALLED, window, how)
    _emit_ticket(tx, "ticket.called", window, ticket, how=how)
    return ticket


def call_next(tx: Txn, window: Window, policy: CallingPolicy) -> Ticket:
    """Call the best waiting ticket among every service the window serves."""
    _require_state(window, WindowState.IDLE)
    weights = tx.window_services(window)
    if not weights:
        raise Conflict("no_services", f"window {window.number} serves no service")
    taken: set[int] = set()
    for _ in range(CLAIM_ATTEMPTS):
        choice = policy.choose(queue_heads(tx, weights, frozenset(taken)), tx.now, window.id)
        if choice is None:
            raise Conflict("queue_empty", f"no one is waiting for the services of window {window.number}")
        if _claim(tx, window, choice.ticket_id):
            return _after_call(tx, window, choice.ticket_id, "next")
        taken.add(choice.ticket_id)
    raise Conflict("busy", "the queue is changing too fast; try again")


def call_ticket(tx: Txn, window: Window, ref: str) -> Ticket:
    """Call one particular waiting ticket, by number or id."""
    _require_state(window, WindowState.IDLE)
    ticket = find_ticket(tx, ref)
    if ticket.status != TicketStatus.WAITING:
        raise Conflict("ticket_not_waiting", f"ticket {ticket.number} is {ticket.status}, not waiting")
    staff_like = tx.actor.role == Role.STAFF
    if staff_like and ticket.service_id not in tx.window_services(window):
        raise Conflict("service_not_served", f"window {window.number} does not serve {tx.services[ticket.service_id].code}")
    if not _claim(tx, window, ticket.id):
        raise Conflict("ticket_taken", f"ticket {ticket.number} was just called by another window")
    return _after_call(tx, window, ticket.id, "direct")


def recall(tx: Txn, window: Window) -> Ticket:
    """Call the current ticket again; past the hall's recall limit it becomes a no-show."""
    _require_state(window, WindowState.SERVING)
    ticket = _current(tx, window, (TicketStatus.CALLED,))
    if ticket.recalls >= tx.hall.recall_limit:
        return _no_show(tx, window, ticket, reason="recall_limit")
    ticket.recalls += 1
    ticket.called_at = tx.now  # its latest call; its first is in its journey
    tx.session.add(ticket)
    _touch(tx, window)
    journey.at_window(tx, ticket, Step.RECALLED, window)
    _emit_ticket(tx, "ticket.recalled", window, ticket, recalls=ticket.recalls)
    return ticket


def skip(tx: Txn, window: Window) -> Ticket:
    """The called visitor did not come (过号)."""
    _require_state(window, WindowState.SERVING)
    ticket = _current(tx, window, (TicketStatus.CALLED,))
    return _no_show(tx, window, ticket, reason="skipped")


def _no_show(tx: Txn, window: Window, ticket: Ticket, *, reason: str) -> Ticket:
    hall = tx.hall
    window.current_ticket_id = None
    _touch(tx, window, WindowState.IDLE)
    requeue = hall.requeue_skipped and ticket.requeues == 0
    journey.at_window(tx, ticket, Step.REQUEUED if requeue else Step.NO_SHOW, window, reason)
    if requeue:
        # Back to the queue once, at its original place, after a grace period.
        ticket.status = TicketStatus.WAITING
        ticket.requeues += 1
        ticket.available_at = tx.now + timedelta(minutes=hall.requeue_grace_minutes)
        ticket.window_id = None
        ticket.staff_id = None
        ticket.called_at = None
        ticket.recalls = 0
        kind = "ticket.requeued"
    else:
        ticket.status = TicketStatus.NO_SHOW
        ticket.finished_at = tx.now
        ticket.close_reason = reason
        kind = "ticket.no_show"
    tx.session.add(ticket)
    _emit_ticket(tx, kind, window, ticket, reason=reason)
    return ticket


def start(tx: Txn, window: Window) -> Ticket:
    """The visitor has arrived: service begins."""
    _require_state(window, WindowState.SERVING)
    ticket = _current(tx, window, (TicketStatus.CALLED,))
    ticket.status = TicketStatus.SERVING
    ticket.started_at = tx.now
    tx.session.add(ticket)
    _touch(tx, window)
    journey.at_window(tx, ticket, Step.STARTED, window)
    _emit_ticket(tx, "ticket.started", window, ticket)
    return ticket


def complete(tx: Txn, window: Window) -> Ticket:
    """Service done (办结); completing a called ticket starts and ends it at once."""
    _require_state(window, WindowState.SERVING)
    ticket = _current(tx, window)
    journey.at_window(tx, ticket, Step.COMPLETED, window)
    if ticket.started_at is None:  # its column says so; its journey measures from the call (journey.py)
        ticket.started_at = tx.now
    ticket.status = TicketStatus.DONE
    ticket.finished_at = tx.now
    tx.session.add(ticket)
    window.current_ticket_id = None
    _touch(tx, window, WindowState.IDLE)
    # It is now the ticket last completed here (derived state the review box shows: see derived).
    last = {"ticket": ticket.public_id, "number": ticket.number, "window": window.number, "at": iso(tx.now), "reviewed": False}
    _emit_ticket(tx, "ticket.completed", window, ticket, staff_id=ticket.staff_id, last_completed=last)
    return ticket


def transfer(tx: Txn, window: Window, service_code: str) -> Ticket:
    """Send the current ticket to another service (转办); it keeps its place by issue time."""
    _require_state(window, WindowState.SERVING)
    ticket = _current(tx, window)
    target = tx.service_by_code(service_code) if isinstance(service_code, str) else None
    if target is None or not target.active:
        raise NotFound("unknown_service", f"no service {service_code!r} in hall {tx.hall.slug}")
    if target.id == ticket.service_id:
        raise Conflict("same_service", f"ticket {ticket.number} is already in {target.code}")
    source = tx.services[ticket.service_id]
    journey.at_window(tx, ticket, Step.TRANSFERRED, window, target.code)  # the leg it ends
    ticket.service_id = target.id
    ticket.status = TicketStatus.WAITING
    ticket.available_at = tx.now
    ticket.window_id = None
    ticket.staff_id = None
    ticket.called_at = None
    ticket.started_at = None
    ticket.recalls = 0
    ticket.transfers += 1
    tx.session.add(ticket)
    window.current_ticket_id = None
    _touch(tx, window, WindowState.IDLE)
    _emit_ticket(tx, "ticket.transferred", window, ticket, from_service=source.code)
    return ticket


def set_services(tx: Txn, window: Window, weights: dict[str, float]) -> dict[str, float]:
    """Replace the services a window serves (code → weight); audited with before and after."""
    if not isinstance(weights, dict):
        raise Invalid("bad_services", "services must map service codes to weights")
    new: dict[int, float] = {}
    for code, weight in weights.items():
        service = tx.service_by_code(code)
        if service is None or not service.active:
            raise NotFound("unknown_service", f"no service {code!r} in hall {tx.hall.slug}")
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 < weight <= MAX_WEIGHT:
            raise Invalid("bad_weight", f"the weight of {code} must be a number above 0 and at most {MAX_WEIGHT:g}")
        new[service.id] = float(weight)
    before = {tx.services[sid].code: w for sid, w in tx.window_services(window).items()}
    existing = tx.session.exec(select(WindowService).where(WindowService.window_id == window.id)).all()
    for link in existing:
        if link.service_id in new:
            link.weight = new.pop(link.service_id)
            tx.session.add(link)
        else:
            tx.session.delete(link)
    for sid, weight in new.items():
        tx.session.add(WindowService(window_id=window.id, service_id=sid, weight=weight))
    tx.forget_window_services(window)
    _touch(tx, window)
    after = {code: float(w) for code, w in weights.items()}
    tx.audit("window.services", f"window {window.number}", before=before, after=after)
    _emit_window(tx, "window.services_changed", window, services=after)
    return after


ACTIONS = {
    "open": open_window,
    "close": close_window,
    "pause": pause_window,
    "resume": resume_window,
    "call-next": call_next,
    "call": call_ticket,
    "recall": recall,
    "skip": skip,
    "start": start,
    "complete": complete,
    "transfer": transfer,
}

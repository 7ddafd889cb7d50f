"""How many are ahead of a ticket, and how long it will wait.

Position is exact for the aging policy: within one service every window weighs
all tickets alike, so they are called in order of their *virtual time*
`queued_at − boost[priority]`, which does not change as time passes.

The wait estimate is deliberately simple here (the balancing work replaces it):
people ahead × the service's handling minutes ÷ the service's capacity, where
capacity counts each open window serving the service by its share of that
window's weights (a window splitting its time over three equal services gives
each a third). When no window is open yet, the configured windows stand in.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import bindparam, func, tuple_
from sqlmodel import Session, select

from hallq.core.enums import Priority, TicketStatus, WindowState
from hallq.core.models import Ticket, Window, WindowService
from hallq.core.sql import constant, run_prepared

WORKING_STATES = (WindowState.IDLE, WindowState.SERVING)


def _ahead_statement():
    """Count of waiting tickets of a service called before a given one; built once, run with parameters.

    A ticket of class p is ahead when (queued_at, id) comes before
    (my virtual time + boost[p], my id). One count per class, each a range of
    ix_ticket_queue (hall, status, service, class, day, queued_at; the id
    rides along as SQLite's rowid), so the count reads the index alone, never
    the tickets themselves, however long the queue.
    """
    columns = Ticket.__table__.c
    counts = []
    for p in Priority:
        limit = bindparam(f"limit_{p.value}", type_=columns.queued_at.type)
        counts.append(
            select(func.count())
            .select_from(Ticket.__table__)
            .where(
                columns.hall_id == bindparam("hall_id"),
                columns.status == constant(columns.status, TicketStatus.WAITING),
                columns.service_id == bindparam("service_id"),
                columns.priority == constant(columns.priority, p),
                columns.business_date == bindparam("day"),
                tuple_(columns.queued_at, columns.id) < tuple_(limit, bindparam("ticket_id", type_=columns.id.type)),
            )
            .scalar_subquery()
        )
    total = counts[0]
    for count in counts[1:]:
        total = total + count
    return select(total)


_AHEAD = _ahead_statement()
NO_TICKET = 2**31 - 1  # stands in for the id of a ticket not yet inserted: it sorts after every real one


def people_ahead(
    session: Session,
    *,
    hall_id: int,
    service_id: int,
    day: date,
    queued_at: datetime,
    priority: Priority,
    ticket_id: int | None,
    boost: dict,
) -> int:
    """Waiting tickets of the same service that will be called before this one."""
    mine = queued_at - timedelta(minutes=boost.get(priority, 0.0))
    params = {f"limit_{p.value}": mine + timedelta(minutes=boost.get(p, 0.0)) for p in Priority}
    params.update(hall_id=hall_id, service_id=service_id, day=day, ticket_id=ticket_id if ticket_id is not None else NO_TICKET)
    return run_prepared(session, _AHEAD, params).scalar_one()


_CAPACITY = (
    select(WindowService.window_id, WindowService.service_id, WindowService.weight, Window.state)
    .join(Window, Window.id == WindowService.window_id)
    .where(Window.hall_id == bindparam("hall_id"), Window.active == True)  # noqa: E712
)


def service_capacity(session: Session, hall_id: int) -> dict[int, tuple[float, float]]:
    """service id → (capacity of open windows, capacity of all configured windows)."""
    rows = run_prepared(session, _CAPACITY, {"hall_id": hall_id}).all()
    totals: dict[int, float] = defaultdict(float)
    for window_id, _, weight, _ in rows:
        totals[window_id] += weight
    cap: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for window_id, service_id, weight, state in rows:
        share = weight / totals[window_id] if totals[window_id] else 0.0
        cap[service_id][1] += share
        if state in WORKING_STATES:
            cap[service_id][0] += share
    return {k: (v[0], v[1]) for k, v in cap.items()}


def estimate_minutes(ahead: int, handling_minutes: float, capacity: tuple[float, float] | None) -> float | None:
    """Minutes until a ticket with `ahead` people before it is called, or None if no window serves it."""
    if not capacity:
        return None
    open_cap, planned_cap = capacity
    cap = open_cap if open_cap > 0 else planned_cap
    if cap <= 0:
        return None
    return round(ahead * handling_minutes / cap, 1)

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

from sqlalchemy import and_, func, or_
from sqlmodel import Session, select

from .enums import Priority, TicketStatus, WindowState
from .models import Ticket, Window, WindowService

WORKING_STATES = (WindowState.IDLE, WindowState.SERVING)


def _ahead_condition(queued_at: datetime, priority: Priority, ticket_id: int | None, boost: dict):
    """SQL condition: a waiting ticket that will be called before this one."""
    mine = queued_at - timedelta(minutes=boost.get(priority, 0.0))
    parts = []
    for p in Priority:
        theirs_limit = mine + timedelta(minutes=boost.get(p, 0.0))
        if ticket_id is None:
            earlier = Ticket.queued_at <= theirs_limit
        else:
            earlier = or_(
                Ticket.queued_at < theirs_limit,
                and_(Ticket.queued_at == theirs_limit, Ticket.id < ticket_id),
            )
        parts.append(and_(Ticket.priority == p, earlier))
    return or_(*parts)


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
    q = select(func.count()).select_from(Ticket).where(
        Ticket.hall_id == hall_id,
        Ticket.status == TicketStatus.WAITING,
        Ticket.service_id == service_id,
        Ticket.business_date == day,
        _ahead_condition(queued_at, priority, ticket_id, boost),
    )
    if ticket_id is not None:
        q = q.where(Ticket.id != ticket_id)
    return session.exec(q).one()


def service_capacity(session: Session, hall_id: int) -> dict[int, tuple[float, float]]:
    """service id → (capacity of open windows, capacity of all configured windows)."""
    rows = session.exec(
        select(WindowService.window_id, WindowService.service_id, WindowService.weight, Window.state)
        .join(Window, Window.id == WindowService.window_id)
        .where(Window.hall_id == hall_id, Window.active == True)  # noqa: E712
    ).all()
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

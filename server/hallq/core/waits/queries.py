"""What the wait predictor reads, as statements built once and run with parameters.

The predictor looks at the whole hall each time it plays it forward; building
these statements anew each time cost more than running them.
"""

from __future__ import annotations

from sqlalchemy import bindparam, func
from sqlmodel import select

from hallq.core.enums import TicketStatus, WindowState
from hallq.core.models import Service, Ticket, Window, WindowService

ON_DUTY = (WindowState.IDLE, WindowState.SERVING, WindowState.PAUSED)

FINISHED = select(Ticket.service_id, Ticket.window_id, Ticket.called_at, Ticket.finished_at).where(
    Ticket.hall_id == bindparam("hall_id"), Ticket.business_date == bindparam("day"), Ticket.status == TicketStatus.DONE
)  # cases finished today
FINISHED_SINCE = FINISHED.where(Ticket.finished_at > bindparam("since"))  # ...since the last look

SERVICES = select(Service.id, Service.handling_minutes, Service.hours).where(Service.hall_id == bindparam("hall_id"))

WAITING = (
    select(Ticket.id, Ticket.number, Ticket.service_id, Ticket.priority, Ticket.queued_at, Ticket.available_at)
    .where(Ticket.hall_id == bindparam("hall_id"), Ticket.status == TicketStatus.WAITING, Ticket.business_date == bindparam("day"))
    .order_by(Ticket.queued_at, Ticket.id)
)

WINDOWS_ON_DUTY = select(Window.id, Window.current_ticket_id, Window.state, Window.since).where(
    Window.hall_id == bindparam("hall_id"), Window.active == True, Window.state.in_(ON_DUTY)  # noqa: E712
)

LINKS_ON_DUTY = (
    select(WindowService.window_id, WindowService.service_id, WindowService.weight)
    .join(Window, Window.id == WindowService.window_id)
    .where(Window.hall_id == bindparam("hall_id"), Window.active == True, Window.state.in_(ON_DUTY))  # noqa: E712
)

CURRENT = select(Ticket.id, Ticket.service_id, Ticket.called_at).where(Ticket.id.in_(bindparam("ids", expanding=True)))

ISSUED_SINCE = (
    select(Ticket.service_id, Ticket.priority, func.count(), func.min(Ticket.issued_at))
    .where(Ticket.hall_id == bindparam("hall_id"), Ticket.business_date == bindparam("day"), Ticket.issued_at > bindparam("since"))
    .group_by(Ticket.service_id, Ticket.priority)
)

"""Plain-dict views of tickets, windows and queues: what the API, the live pages
and the devices show. Nothing personal about visitors is ever in them."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import func
from sqlmodel import Session, select

from . import estimate
from .enums import TicketStatus
from .models import Hall, Service, Ticket, User, Window, WindowService, Zone


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def minutes_between(start: datetime | None, end: datetime) -> float | None:
    return None if start is None else round((end - start).total_seconds() / 60.0, 1)


def ticket_view(
    session: Session,
    hall: Hall,
    ticket: Ticket,
    services: dict[int, Service],
    now: datetime,
    *,
    boost: dict,
    capacity: dict | None = None,
    known: tuple[int, float | None] | None = None,
) -> dict:
    """A ticket as the visitor, the staff and the displays see it (`known`: ahead and wait, when already computed)."""
    service = services[ticket.service_id]
    view = {
        "id": ticket.public_id,
        "number": ticket.number,
        "hall": hall.slug,
        "service": service.code,
        "service_name": service.name,
        "service_name_en": service.name_en,
        "priority": str(ticket.priority),
        "status": str(ticket.status),
        "business_date": ticket.business_date.isoformat(),
        "issued_at": iso(ticket.issued_at),
        "called_at": iso(ticket.called_at),
        "started_at": iso(ticket.started_at),
        "finished_at": iso(ticket.finished_at),
        "recalls": ticket.recalls,
        "close_reason": ticket.close_reason,
        "window": None,
        "ahead": None,
        "estimated_wait_minutes": None,
    }
    if ticket.window_id is not None:
        window = session.get(Window, ticket.window_id)
        view["window"] = {"number": window.number, "name": window.name}
    if known is not None:
        view["ahead"], view["estimated_wait_minutes"] = known
    elif ticket.status == TicketStatus.WAITING:
        ahead = estimate.people_ahead(
            session,
            hall_id=hall.id,
            service_id=ticket.service_id,
            day=ticket.business_date,
            queued_at=ticket.queued_at,
            priority=ticket.priority,
            ticket_id=ticket.id,
            boost=boost,
        )
        if capacity is None:
            capacity = estimate.service_capacity(session, hall.id)
        view["ahead"] = ahead
        view["estimated_wait_minutes"] = estimate.estimate_minutes(
            ahead, service.handling_minutes, capacity.get(ticket.service_id)
        )
    return view


def window_view(session: Session, window: Window, services: dict[int, Service], now: datetime) -> dict:
    """A window's state, its ticket, its staff member and the services it serves."""
    staff = session.get(User, window.staff_id) if window.staff_id else None
    ticket = session.get(Ticket, window.current_ticket_id) if window.current_ticket_id else None
    zone = session.get(Zone, window.zone_id) if window.zone_id else None
    links = session.exec(select(WindowService).where(WindowService.window_id == window.id)).all()
    return {
        "number": window.number,
        "name": window.name,
        "zone": zone.code if zone else None,
        "state": str(window.state),
        "since": iso(window.since),
        "minutes_in_state": minutes_between(window.since, now),
        "pause_reason": window.pause_reason,
        "version": window.version,
        "staff": None if staff is None else {"name": staff.display_name or staff.name, "staff_no": staff.staff_no},
        "ticket": None
        if ticket is None
        else {
            "id": ticket.public_id,
            "number": ticket.number,
            "service": services[ticket.service_id].code,
            "status": str(ticket.status),
            "priority": str(ticket.priority),
            "called_at": iso(ticket.called_at),
            "started_at": iso(ticket.started_at),
            "recalls": ticket.recalls,
        },
        "services": sorted(
            ({"code": services[l.service_id].code, "weight": l.weight} for l in links if l.service_id in services),
            key=lambda s: s["code"],
        ),
    }


def queue_view(session: Session, hall: Hall, services: dict[int, Service], now: datetime, day) -> list[dict]:
    """Per service: waiting count, oldest wait, and the estimate for a ticket taken now."""
    rows = session.exec(
        select(Ticket.service_id, func.count(), func.min(Ticket.queued_at))
        .where(Ticket.hall_id == hall.id, Ticket.status == TicketStatus.WAITING, Ticket.business_date == day)
        .group_by(Ticket.service_id)
    ).all()
    waiting = {sid: (count, oldest) for sid, count, oldest in rows}
    capacity = estimate.service_capacity(session, hall.id)
    out = []
    for service in sorted(services.values(), key=lambda s: s.code):
        if not service.active:
            continue
        count, oldest = waiting.get(service.id, (0, None))
        cap = capacity.get(service.id)
        out.append(
            {
                "service": service.code,
                "name": service.name,
                "name_en": service.name_en,
                "prefix": service.prefix,
                "waiting": count,
                "oldest_wait_minutes": minutes_between(oldest, now),
                "estimated_wait_minutes": estimate.estimate_minutes(count, service.handling_minutes, cap),
                "open_windows": round(cap[0], 2) if cap else 0.0,
            }
        )
    return out

"""Tickets, windows and queues as the API, the live pages and the devices show them:
the dicts of hallq_protocol.shapes, where their shapes are defined, built from the
database. Nothing personal about visitors is ever in them."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import bindparam, func
from sqlmodel import Session, select

from hallq.core import clock
from hallq.core.enums import Priority, TicketStatus
from hallq.core.models import Hall, Service, Ticket, User, Window, Zone
from hallq.core.sql import run_prepared
from hallq.core.txn import WINDOW_SERVICES
from hallq.core.waits import estimate, live
from hallq.core.waits.predictor import Play
from hallq_protocol import shapes as protocol


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
    play: Play | None = None,
) -> protocol.Ticket:
    """A ticket as the visitor, the staff and the displays see it (`known`: ahead and wait, when already
    computed; `play`: the wait predictor's latest play of the hall, whose wait is shown when it has one)."""
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
        view["ahead"] = ahead
        wait = live.ticket_wait(play, ticket.id, ticket.service_id, now)
        if (wait is None and play is not None and ticket.id > play.newest and not ticket.transfers and not ticket.requeues
                and ticket.estimated_wait_minutes is not None):
            # Issued since the play and waiting ever since (never called back to the queue, moved
            # or transferred): its promise, less the time since.
            wait = live.since_promised(ticket.estimated_wait_minutes, clock.as_utc(ticket.issued_at), now)
        if wait is None:
            if capacity is None:
                capacity = estimate.service_capacity(session, hall.id)
            wait = estimate.estimate_minutes(ahead, service.handling_minutes, capacity.get(ticket.service_id))
        view["estimated_wait_minutes"] = wait
    return view


# Built once: every window action answers with its window's view, and the
# snapshot of a hall has one per window. One joined row and the window's
# services, in plain SQL, instead of four ORM look-ups.
_WINDOW_PARTS = (
    select(
        User.display_name, User.name, User.staff_no, Zone.code,
        Ticket.public_id, Ticket.number, Ticket.service_id, Ticket.status, Ticket.priority,
        Ticket.called_at, Ticket.started_at, Ticket.recalls,
    )
    .select_from(Window)
    .outerjoin(User, User.id == Window.staff_id)
    .outerjoin(Zone, Zone.id == Window.zone_id)
    .outerjoin(Ticket, Ticket.id == Window.current_ticket_id)
    .where(Window.id == bindparam("window_id"))
)


def window_view(session: Session, window: Window, services: dict[int, Service], now: datetime,
                links: dict[int, float] | None = None) -> protocol.Window:
    """A window's state, its ticket, its staff member and the services it serves (`links`, service
    id → weight, if the caller has them: Txn.window_services)."""
    parts = run_prepared(session, _WINDOW_PARTS, {"window_id": window.id}).one()
    if links is None:
        links = dict(run_prepared(session, WINDOW_SERVICES, {"window_id": window.id}).all())
    display_name, user_name, staff_no, zone, public_id, number, service_id, status, priority, called_at, started_at, recalls = parts
    return {
        "number": window.number,
        "name": window.name,
        "zone": zone,
        "state": str(window.state),
        "since": iso(window.since),
        "minutes_in_state": minutes_between(window.since, now),
        "pause_reason": window.pause_reason,
        "version": window.version,
        "staff": None if window.staff_id is None or user_name is None else {"name": display_name or user_name, "staff_no": staff_no},
        "ticket": None
        if window.current_ticket_id is None or public_id is None
        else {
            "id": public_id,
            "number": number,
            "service": services[service_id].code,
            "status": str(status),
            "priority": str(priority),
            "called_at": iso(called_at),
            "started_at": iso(started_at),
            "recalls": recalls,
        },
        "services": sorted(
            ({"code": services[sid].code, "weight": weight} for sid, weight in links.items() if sid in services),
            key=lambda s: s["code"],
        ),
    }


def queue_view(session: Session, hall: Hall, services: dict[int, Service], now: datetime, day, *,
               play: Play | None = None) -> list[protocol.QueueEntry]:
    """Per service: waiting count, oldest wait, and the wait a (normal) ticket taken now would be
    promised: the predictor's (`play`) when it has one, else the simple estimate."""
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
        wait = live.promise(play, service.id, Priority.NORMAL, count, estimate.estimate_minutes(1, service.handling_minutes, cap))
        out.append(
            {
                "service": service.code,
                "name": service.name,
                "name_en": service.name_en,
                "prefix": service.prefix,
                "waiting": count,
                "oldest_wait_minutes": minutes_between(oldest, now),
                "estimated_wait_minutes": estimate.estimate_minutes(count, service.handling_minutes, cap) if wait is None else wait,
                "open_windows": round(cap[0], 2) if cap else 0.0,
            }
        )
    return out


def journey_view(session: Session, hall: Hall, ticket: Ticket, steps: list, services: dict[int, Service]) -> protocol.Journey:
    """A ticket's steps and what they measure (hallq.core.tickets.journey), for the hall's staff and managers."""
    from hallq.core.tickets.journey import measure

    window_ids = {s.window_id for s in steps if s.window_id is not None}
    staff_ids = {s.staff_id for s in steps if s.staff_id is not None}
    windows = dict(session.exec(select(Window.id, Window.number).where(Window.id.in_(window_ids))).all()) if window_ids else {}
    staff = {uid: shown or name for uid, shown, name in session.exec(
        select(User.id, User.display_name, User.name).where(User.id.in_(staff_ids))).all()} if staff_ids else {}

    def code(service_id: int | None) -> str | None:
        return services[service_id].code if service_id in services else None

    m = measure(steps)
    return {
        "number": ticket.number,
        "business_date": ticket.business_date.isoformat(),
        "status": str(ticket.status),
        "outcome": m.outcome,
        "wait_minutes": _rounded(m.wait_minutes),
        "handling_minutes": _rounded(m.handling_minutes),
        "calls": m.calls,
        "requeues": m.requeues,
        "transfers": m.transfers,
        "legs": [{"leg": leg.number, "service": code(leg.service_id if leg.service_id is not None else ticket.service_id),
                  "wait_minutes": _rounded(leg.wait_minutes), "handling_minutes": _rounded(leg.handling_minutes),
                  "window": windows.get(leg.window_id), "ended": leg.ended} for leg in m.legs],
        "steps": [{"at": iso(s.at), "step": s.step, "leg": s.leg, "service": code(s.service_id), "window": windows.get(s.window_id),
                   "staff": staff.get(s.staff_id), "detail": s.detail} for s in steps],
    }


def _rounded(minutes: float | None) -> float | None:
    return None if minutes is None else round(minutes, 2)

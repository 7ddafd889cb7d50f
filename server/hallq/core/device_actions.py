"""What devices do beyond the staff's and visitors' own actions: reserve number
blocks for offline issuing, hand in the tickets issued offline, record reviews.
DeviceService is the front door, like HallService, and shares its database,
clock and publisher."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlmodel import select

from . import admin, clock, devices, tickets
from .enums import Role, TicketStatus
from .errors import Conflict, Invalid, NotFound
from .events import DomainEvent
from .models import Hall, Ticket, Window
from .service import HallService
from .txn import SYSTEM, Actor, Txn, find_hall
from .views import iso

MAX_BLOCK = 200
SCORES = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}


def device_actor(hall: Hall, device: devices.Device) -> Actor:
    return Actor(name=f"device:{device.name}", role=Role.DEVICE, hall_id=hall.id)


def reserve_block(tx: Txn, device: devices.Device, service_code: str, count: int) -> dict:
    """Take `count` numbers of a service's prefix from today's counter for one dispenser."""
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_BLOCK:
        raise Invalid("bad_count", f"a block has 1–{MAX_BLOCK} numbers")
    service = tx.service_by_code(service_code) if isinstance(service_code, str) else None
    if service is None or not service.active:
        raise NotFound("unknown_service", f"no service {service_code!r} in hall {tx.hall.slug}")
    day = clock.business_date(tx.now, tx.hall.timezone)
    last = tickets.next_number(tx, service.prefix, day, count=count)
    first = last - count + 1
    if service.daily_quota is not None:
        if first > service.daily_quota:
            raise Conflict("quota_reached", f"today's {service.daily_quota} tickets for {service.code} have all been issued")
        last = min(last, service.daily_quota)
    block = devices.NumberBlock(
        hall_id=tx.hall.id, device_id=device.id, service_id=service.id, prefix=service.prefix,
        business_date=day, first=first, last=last, reserved_at=tx.now,
    )
    tx.session.add(block)
    tx.audit("device.block", device.name, service=service.code, first=first, last=last)
    return {"service": service.code, "prefix": service.prefix, "business_date": day.isoformat(), "first": first, "last": last}


def hand_in_offline_ticket(tx: Txn, device: devices.Device, *, service_code: str, number: str, issued_at: datetime, priority=None) -> dict:
    """Enter a ticket a dispenser issued offline from one of its blocks; a repeat returns the same ticket."""
    service = tx.service_by_code(service_code) if isinstance(service_code, str) else None
    if service is None:
        raise NotFound("unknown_service", f"no service {service_code!r} in hall {tx.hall.slug}")
    day = clock.business_date(tx.now, tx.hall.timezone)
    if not isinstance(number, str) or not number.startswith(service.prefix) or not number[len(service.prefix):].isdigit():
        raise Invalid("bad_number", f"{number!r} is not a number of service {service.code}")
    n = int(number[len(service.prefix):])
    block = tx.session.exec(
        select(devices.NumberBlock).where(
            devices.NumberBlock.device_id == device.id,
            devices.NumberBlock.service_id == service.id,
            devices.NumberBlock.business_date == day,
            devices.NumberBlock.first <= n,
            devices.NumberBlock.last >= n,
        )
    ).first()
    if block is None:
        raise Conflict("not_in_block", f"{number} is in no block this dispenser reserved today")
    existing = tx.session.exec(
        select(Ticket).where(Ticket.hall_id == tx.hall.id, Ticket.business_date == day, Ticket.number == number)
    ).first()
    if existing is not None:
        return _handed_in(existing)
    # It keeps its place by its offline issue time, but never one in the future
    # (a device clock running ahead would jump the queue) or on another day.
    issued_at = min(issued_at, tx.now)
    if clock.business_date(issued_at, tx.hall.timezone) != day:
        issued_at = tx.now
    ticket = Ticket(
        public_id=secrets.token_urlsafe(12), hall_id=tx.hall.id, business_date=day, number=number,
        service_id=service.id, priority=tickets._parse_priority(priority), status=TicketStatus.WAITING,
        issued_at=issued_at, queued_at=issued_at, available_at=tx.now, channel="dispenser",
    )
    tx.session.add(ticket)
    tx.session.flush()
    tx.audit("ticket.offline", number, device=device.name)
    tx.emit("ticket.issued", ticket=ticket.public_id, number=number, service=service.code, priority=str(ticket.priority), offline=True)
    return _handed_in(ticket)


def _handed_in(ticket: Ticket) -> dict:
    return {"ticket": ticket.public_id, "number": ticket.number, "status": str(ticket.status)}


def record_review(tx: Txn, device: devices.Device, *, ticket_ref: str, score: int) -> dict:
    """Store a visitor's rating of a ticket just served at the review box's window."""
    if isinstance(score, bool) or score not in SCORES:
        raise Invalid("bad_score", "a review's score is 1 (非常不满意) to 5 (非常满意)")
    ticket = tickets.find_ticket(tx, ticket_ref)
    window = tx.session.get(Window, ticket.window_id) if ticket.window_id else None
    if window is None or window.number != device.window_number:
        raise Conflict("other_window", f"ticket {ticket.number} was not served at window {device.window_number}")
    if ticket.status != TicketStatus.DONE:
        raise Conflict("not_served", f"ticket {ticket.number} is {ticket.status}, not served")
    if tx.session.exec(select(devices.Review).where(devices.Review.ticket_id == ticket.id)).first():
        raise Conflict("already_reviewed", f"ticket {ticket.number} has been reviewed")
    review = devices.Review(
        hall_id=tx.hall.id, ticket_id=ticket.id, window_id=window.id, staff_id=ticket.staff_id,
        score=score, at=tx.now, device_id=device.id,
    )
    tx.session.add(review)
    tx.emit("review.recorded", window=window.number, ticket=ticket.public_id, number=ticket.number, score=score, level=SCORES[score])
    return {"ticket": ticket_ref, "score": score, "level": SCORES[score], "window": device.window_number}


def report_status(tx: Txn, device: devices.Device, *, paper: str | None = None, detail: dict | None = None) -> dict:
    """Record what a device reports; a change of paper is a device.paper event, any other report device.status."""
    before = device.paper
    devices.set_status(tx.session, device, now=tx.now, paper=paper, detail=detail)
    view = devices.device_view(device, tx.hall.slug)
    # The whole device view rides along (its last_seen too), so a page updates without asking again.
    tx.emit("device.paper" if view["paper"] != before else "device.status", device=view)
    return view


def last_completed(session, hall: Hall, window_number: int, now: datetime) -> dict | None:
    """The ticket most recently completed at a window today, and whether it was reviewed."""
    day = clock.business_date(now, hall.timezone)
    row = session.exec(
        select(Ticket)
        .join(Window, Window.id == Ticket.window_id)
        .where(Ticket.hall_id == hall.id, Ticket.business_date == day, Ticket.status == TicketStatus.DONE, Window.number == window_number)
        .order_by(Ticket.finished_at.desc(), Ticket.id.desc())
    ).first()
    if row is None:
        return None
    reviewed = session.exec(select(devices.Review.id).where(devices.Review.ticket_id == row.id)).first() is not None
    return {"ticket": row.public_id, "number": row.number, "window": window_number, "at": iso(row.finished_at), "reviewed": reviewed}


class DeviceService:
    """The devices' front door: registry, requests, blocks, offline tickets, reviews."""

    def __init__(self, halls: HallService):
        self.halls = halls
        self.db = halls.db

    @property
    def clock(self):
        return self.halls.clock

    def _write(self, slug: str, device_name: str, fn):
        """Run fn(tx, device) as the device in one write transaction; publish after commit."""
        with self.db.write() as session:
            device = devices.find_device(session, hall=slug, name=device_name)
            hall = session.get(Hall, device.hall_id)
            tx = Txn(session=session, hall=hall, now=self.clock.now(), actor=device_actor(hall, device))
            tickets.sweep(tx)
            result = fn(tx, device)
            events = list(tx.events)
        for event in events:
            self.halls.publisher.publish(event)
        return result

    # -- registry ---------------------------------------------------------

    def _registry(self, slug: str, actor: Actor, fn):
        """Run fn(tx) as `actor` (an administrator of the hall, or the system for the CLI), audited by fn."""
        with self.db.write() as session:
            hall = find_hall(session, slug)
            if not actor.is_system:
                admin.require_admin(actor, hall)
            tx = Txn(session=session, hall=hall, now=self.clock.now(), actor=actor)
            result = fn(tx)
            events = list(tx.events)
        for event in events:
            self.halls.publisher.publish(event)
        return result

    def add(self, *, hall: str, name: str, role: str, window: int | None = None, actor: Actor = SYSTEM) -> dict:
        """Register a device; the answer holds its password, shown this once."""

        def op(tx: Txn) -> dict:
            device, password = devices.add_device(tx.session, hall=hall, name=name, role=role, window=window, now=tx.now)
            tx.audit("device.add", device.name, role=role, window=window)
            tx.emit("device.registered", device=devices.device_view(device, hall))
            return {"device": device.name, "username": device.username, "password": password, **_brief(device)}

        return self._registry(hall, actor, op)

    def renew(self, *, hall: str, name: str, actor: Actor = SYSTEM) -> dict:
        """New credentials for a registered device; the answer holds the password, shown this once."""

        def op(tx: Txn) -> dict:
            device, password = devices.renew_device(tx.session, hall=hall, name=name)
            tx.audit("device.renew", device.name)
            return {"device": device.name, "username": device.username, "password": password, **_brief(device)}

        return self._registry(hall, actor, op)

    def revoke(self, *, hall: str, name: str, actor: Actor = SYSTEM) -> dict:
        """Withdraw a device's credentials (audited); its history stays."""

        def op(tx: Txn) -> dict:
            view = devices.device_view(devices.revoke_device(tx.session, hall=hall, name=name, now=tx.now), hall)
            tx.audit("device.revoke", name, role=view["role"], window=view["window"])
            tx.emit("device.revoked", device=view)
            return view

        return self._registry(hall, actor, op)

    def list(self, hall: str, *, include_revoked: bool = False) -> list[dict]:
        with self.db.read() as session:
            return [devices.device_view(d, hall) for d in devices.devices(session, hall, include_revoked=include_revoked)]

    def get(self, hall: str, name: str) -> dict:
        with self.db.read() as session:
            return devices.device_view(devices.find_device(session, hall=hall, name=name, active=False), hall)

    def printer(self, hall: str, name: str) -> dict:
        """The dispenser a kiosk prints on: refused unless it is an active dispenser of this hall."""
        with self.db.read() as session:
            try:
                device = devices.find_device(session, hall=hall, name=name)
            except NotFound as exc:
                if exc.code != "unknown_device":
                    raise
                raise NotFound("unknown_printer", f"no dispenser {name!r} in hall {hall}") from None
            if device.role != "dispenser":
                raise Invalid("not_a_dispenser", f"device {name} is a {device.role}, not a dispenser: it has no printer")
            return devices.device_view(device, hall)

    def set_availability(self, hall: str, name: str, online: bool) -> dict:
        """Record a device going online or offline; managers hear of it at once (device.availability)."""
        now = self.clock.now()
        with self.db.write() as session:
            device = devices.find_device(session, hall=hall, name=name)
            devices.set_availability(session, device, online, now)
            view = devices.device_view(device, hall)
        self._tell("device.availability", hall, now, view)
        return view

    def set_status(self, hall: str, name: str, *, paper: str | None = None, detail: dict | None = None) -> dict:
        """Record what a device reports (see report_status)."""
        return self._write(hall, name, lambda tx, device: report_status(tx, device, paper=paper, detail=detail))

    def _tell(self, kind: str, hall: str, now: datetime, view: dict) -> None:
        # The whole device view rides along (its last_seen too), so a page updates without asking again.
        self.halls.publisher.publish(DomainEvent(kind=kind, hall=hall, at=now, data={"device": view}))

    # -- device actions ---------------------------------------------------

    def review(self, hall: str, name: str, *, ticket: str, score: int) -> dict:
        return self._write(hall, name, lambda tx, device: record_review(tx, device, ticket_ref=ticket, score=score))

    def last_completed(self, hall: str, window: int) -> dict | None:
        with self.db.read() as session:
            hall_row = find_hall(session, hall)
            return last_completed(session, hall_row, window, self.clock.now())

    def prune_requests(self, *, before: datetime) -> int:
        """Forget device requests received before `before` (by the clock that stamped them)."""
        with self.db.write() as session:
            return devices.prune_requests(session, before)


def _brief(device: devices.Device) -> dict:
    return {"role": device.role, "window": device.window_number}

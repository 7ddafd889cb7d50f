"""What devices do beyond the staff's and visitors' own actions: reserve number
blocks for offline issuing, hand in the tickets issued offline, record reviews
and status reports. Their front door is DeviceService (service.py)."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlmodel import select

from hallq.core import clock
from hallq.core.devices import registry as devices
from hallq.core.devices.models import Device, NumberBlock
from hallq.core.reviews import ratings
from hallq.core.reviews.ratings import last_completed  # noqa: F401  (DeviceService's)
from hallq.core.enums import Role, Step, TicketStatus
from hallq.core.errors import Conflict, Invalid, NotFound
from hallq.core.models import Hall, Ticket, Window
from hallq.core.tickets import issue as tickets
from hallq.core.tickets import journey
from hallq.core.txn import Actor, Txn

MAX_BLOCK = 200


def device_actor(hall: Hall, device: Device) -> Actor:
    return Actor(name=f"device:{device.name}", role=Role.DEVICE, hall_id=hall.id)


def reserve_block(tx: Txn, device: Device, service_code: str, count: int) -> dict:
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
    block = NumberBlock(
        hall_id=tx.hall.id, device_id=device.id, service_id=service.id, prefix=service.prefix,
        business_date=day, first=first, last=last, reserved_at=tx.now,
    )
    tx.session.add(block)
    tx.audit("device.block", device.name, service=service.code, first=first, last=last)
    return {"service": service.code, "prefix": service.prefix, "business_date": day.isoformat(), "first": first, "last": last}


def hand_in_offline_ticket(tx: Txn, device: Device, *, service_code: str, number: str, issued_at: datetime, priority=None) -> dict:
    """Enter a ticket a dispenser issued offline from one of its blocks; a repeat returns the same ticket."""
    service = tx.service_by_code(service_code) if isinstance(service_code, str) else None
    if service is None:
        raise NotFound("unknown_service", f"no service {service_code!r} in hall {tx.hall.slug}")
    day = clock.business_date(tx.now, tx.hall.timezone)
    if not isinstance(number, str) or not number.startswith(service.prefix) or not number[len(service.prefix):].isdigit():
        raise Invalid("bad_number", f"{number!r} is not a number of service {service.code}")
    n = int(number[len(service.prefix):])
    block = tx.session.exec(
        select(NumberBlock).where(
            NumberBlock.device_id == device.id,
            NumberBlock.service_id == service.id,
            NumberBlock.business_date == day,
            NumberBlock.first <= n,
            NumberBlock.last >= n,
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
        service_id=service.id, priority=tickets.parse_priority(priority), status=TicketStatus.WAITING,
        issued_at=issued_at, queued_at=issued_at, available_at=tx.now, channel="dispenser",
    )
    tx.session.add(ticket)
    tx.session.flush()
    journey.record(tx, ticket, Step.ISSUED, detail="offline", at=issued_at)
    tx.audit("ticket.offline", number, device=device.name)
    tx.emit("ticket.issued", ticket=ticket.public_id, number=number, service=service.code, priority=str(ticket.priority), offline=True)
    return _handed_in(ticket)


def _handed_in(ticket: Ticket) -> dict:
    return {"ticket": ticket.public_id, "number": ticket.number, "status": str(ticket.status)}


def record_review(tx: Txn, device: Device, *, ticket_ref: str, score: int) -> dict:
    """Store a visitor's rating of the leg of a ticket just served at the review box's window."""
    ticket = tickets.find_ticket(tx, ticket_ref)
    window = tx.session.exec(select(Window).where(Window.hall_id == tx.hall.id, Window.number == device.window_number)).first()
    if window is None:
        raise Conflict("other_window", f"ticket {ticket.number} was not served at window {device.window_number}")
    review = ratings.rate(tx, ticket, channel="review_box", score=score, window=window, device_id=device.id)
    ratings.emit_recorded(tx, review, ticket)
    return {"ticket": ticket_ref, "score": review.score, "level": ratings.LEVELS[review.score], "window": device.window_number}


def report_status(tx: Txn, device: Device, *, paper: str | None = None, detail: dict | None = None) -> dict:
    """Record what a device reports; a change of paper is a device.paper event, any other report device.status."""
    before = device.paper
    devices.set_status(tx.session, device, now=tx.now, paper=paper, detail=detail)
    view = devices.device_view(device, tx.hall.slug)
    # The whole device view rides along (its last_seen too), so a page updates without asking again.
    tx.emit("device.paper" if view["paper"] != before else "device.status", device=view)
    return view

"""The hall's devices (dispensers, call screens, review boxes, window callers):
their registry and credentials, the requests they sent, the number blocks they
hold for offline issuing, and the reviews (好差评) they collected.

A device's password is stored as a Mosquitto-compatible PBKDF2-SHA512 hash
(`$7$...`), so `hallq broker-config` can write Mosquitto's password file from
the registry without ever knowing a password, and the embedded broker checks
the same hash.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import JSON, Column, UniqueConstraint, bindparam, insert, update
from sqlmodel import Field, Session, SQLModel, select

from .errors import Conflict, Invalid, NotFound
from .models import Hall, Window
from .txn import find_hall

ROLES = ("dispenser", "screen", "review", "caller")
WINDOW_ROLES = ("review", "caller")  # bound to one window; a screen may be
PAPER = ("ok", "low", "out")
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
# Mosquitto's $7$ format; passwords are 24 random bytes, so a modest count suffices.
PBKDF2_ITERATIONS = 1000


class Device(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("hall_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id", index=True)
    name: str = Field(max_length=32)  # the device id in topics
    role: str = Field(max_length=16)
    window_number: int | None = None
    username: str = Field(unique=True, max_length=64)  # MQTT user name: "{hall}.{name}"
    password_hash: str = Field(max_length=200)
    created_at: datetime
    revoked_at: datetime | None = None
    online: bool = False
    last_seen: datetime | None = None
    paper: str | None = Field(default=None, max_length=8)  # dispensers: ok, low, out
    status: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class DeviceRequest(SQLModel, table=True):
    """One request a device sent, with the answer it got: a repeat gets the same answer."""

    __table_args__ = (UniqueConstraint("device_id", "request_id"),)
    id: int | None = Field(default=None, primary_key=True)
    device_id: int = Field(foreign_key="device.id", index=True)
    request_id: str = Field(max_length=64)
    action: str = Field(max_length=32)
    received_at: datetime = Field(index=True)
    answer: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))  # None: being handled


class NumberBlock(SQLModel, table=True):
    """Numbers a dispenser took from the counter in advance, to issue while offline."""

    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id", index=True)
    device_id: int = Field(foreign_key="device.id", index=True)
    service_id: int = Field(foreign_key="service.id")
    prefix: str = Field(max_length=2)
    business_date: date
    first: int
    last: int
    reserved_at: datetime


class Review(SQLModel, table=True):
    """One visitor's rating (好差评) of one served ticket: 5 非常满意 … 1 非常不满意."""

    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id", index=True)
    ticket_id: int = Field(foreign_key="ticket.id", unique=True)  # one review per ticket (一次一评)
    window_id: int = Field(foreign_key="window.id", index=True)
    staff_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    score: int
    at: datetime
    channel: str = Field(default="review_box", max_length=16)
    device_id: int | None = Field(default=None, foreign_key="device.id")


# -- credentials ----------------------------------------------------------


def hash_password(password: str, *, salt: bytes | None = None, iterations: int = PBKDF2_ITERATIONS) -> str:
    """A Mosquitto `$7$` hash: PBKDF2-HMAC-SHA512, 12-byte salt, base64 parts."""
    salt = salt or secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """True when `password` matches a `$7$` hash (constant-time comparison)."""
    try:
        _, kind, iterations, salt, digest = stored.split("$")
        if kind != "7":
            return False
        want = base64.b64decode(digest)
        got = hashlib.pbkdf2_hmac("sha512", (password or "").encode(), base64.b64decode(salt), int(iterations))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(want, got)


def username_for(hall_slug: str, name: str) -> str:
    return f"{hall_slug}.{name}"


# -- registry -------------------------------------------------------------


def add_device(session: Session, *, hall: str, name: str, role: str, now: datetime, window: int | None = None) -> tuple[Device, str]:
    """Register a device; return it with its password, which is stored only as a hash."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise Invalid("bad_device_id", "a device id has 1–32 lower-case letters, digits or dashes")
    if role not in ROLES:
        raise Invalid("bad_role", f"a device role is one of {', '.join(ROLES)}")
    hall_row = find_hall(session, hall)
    if role in WINDOW_ROLES and window is None:
        raise Invalid("window_required", f"a {role} belongs to a window: give --window")
    if role == "dispenser" and window is not None:
        raise Invalid("no_window", "a dispenser serves the whole hall, not one window")
    if window is not None:
        found = session.exec(select(Window).where(Window.hall_id == hall_row.id, Window.number == window)).first()
        if found is None:
            raise NotFound("unknown_window", f"no window {window} in hall {hall}")
    if session.exec(select(Device).where(Device.hall_id == hall_row.id, Device.name == name)).first():
        raise Conflict("device_exists", f"device {name} already exists in hall {hall}; revoke it or choose another id")
    password = secrets.token_urlsafe(24)
    device = Device(
        hall_id=hall_row.id, name=name, role=role, window_number=window,
        username=username_for(hall, name), password_hash=hash_password(password), created_at=now,
    )
    session.add(device)
    session.flush()
    return device, password


def find_device(session: Session, *, hall: str, name: str, active: bool = True) -> Device:
    """The device `name` of `hall`; revoked ones count as unknown unless active=False."""
    hall_row = find_hall(session, hall)
    device = session.exec(select(Device).where(Device.hall_id == hall_row.id, Device.name == name)).first()
    if device is None or (active and device.revoked_at is not None):
        raise NotFound("unknown_device", f"no device {name!r} in hall {hall}")
    return device


def device_by_username(session: Session, username: str) -> Device | None:
    """The active device with this MQTT user name, or None."""
    device = session.exec(select(Device).where(Device.username == username)).first()
    return device if device is not None and device.revoked_at is None else None


def password_hashes(session: Session, usernames: set[str]) -> dict[str, str]:
    """User name → current password hash, for those of these devices that are still active."""
    rows = session.exec(
        select(Device.username, Device.password_hash).where(Device.username.in_(list(usernames)), Device.revoked_at == None)  # noqa: E711
    ).all()
    return dict(rows)


def revoke_device(session: Session, *, hall: str, name: str, now: datetime) -> Device:
    """Withdraw a device's credentials; its history stays."""
    device = find_device(session, hall=hall, name=name)
    device.revoked_at = now
    device.online = False
    session.add(device)
    return device


def renew_device(session: Session, *, hall: str, name: str) -> tuple[Device, str]:
    """Give a device a new password (the old one stops working at its next connect)."""
    device = find_device(session, hall=hall, name=name)
    password = secrets.token_urlsafe(24)
    device.password_hash = hash_password(password)
    session.add(device)
    return device, password


def devices(session: Session, hall: str, *, include_revoked: bool = False) -> list[Device]:
    """The hall's devices, by name."""
    hall_row = find_hall(session, hall)
    q = select(Device).where(Device.hall_id == hall_row.id)
    if not include_revoked:
        q = q.where(Device.revoked_at == None)  # noqa: E711
    return list(session.exec(q.order_by(Device.name)).all())


@dataclass(frozen=True)
class DeviceInfo:
    """A device as plain data, safe to use after its session is gone."""

    hall: str
    name: str
    role: str
    window: int | None
    username: str
    password_hash: str


def all_active(session: Session, hall: str | None = None) -> list[DeviceInfo]:
    """Every active device of every hall (or of one), as plain data."""
    q = select(Hall.slug, Device).join(Device, Device.hall_id == Hall.id).where(Device.revoked_at == None)  # noqa: E711
    if hall is not None:
        q = q.where(Hall.slug == hall)
    rows = session.exec(q.order_by(Hall.slug, Device.name)).all()
    return [DeviceInfo(slug, d.name, d.role, d.window_number, d.username, d.password_hash) for slug, d in rows]


def device_view(device: Device, hall: str) -> dict:
    """What the admin pages and the CLI show of a device (never its hash)."""
    from .views import iso

    return {
        "hall": hall,
        "device": device.name,
        "role": device.role,
        "window": device.window_number,
        "username": device.username,
        "online": device.online,
        "last_seen": iso(device.last_seen),
        "paper": device.paper,
        "status": device.status,
        "revoked": device.revoked_at is not None,
        "created_at": iso(device.created_at),
    }


def set_availability(session: Session, device: Device, online: bool, now: datetime) -> None:
    device.online = online
    device.last_seen = now
    session.add(device)


def set_status(session: Session, device: Device, *, now: datetime, paper: str | None = None, detail: dict | None = None) -> None:
    """Record what a device reports about itself (paper, firmware, …)."""
    if paper is not None:
        if paper not in PAPER:
            raise Invalid("bad_paper", f"paper is one of {', '.join(PAPER)}")
        device.paper = paper
    if detail:
        device.status = {**device.status, **detail}
    device.last_seen = now
    session.add(device)


# -- requests: one effect per request id -----------------------------------


@dataclass(frozen=True)
class Sender:
    """The device a request came from: what the request log and the checks need."""

    device_id: int
    hall_id: int
    name: str
    role: str
    window: int | None
    last_seen: datetime | None


# The request log's statements, built once and run with parameters: they are on
# every device request's path, where building them cost more than running them.
_SENDER = (
    select(Device.id, Device.hall_id, Device.name, Device.role, Device.window_number, Device.last_seen)
    .join(Hall, Hall.id == Device.hall_id)
    .where(Hall.slug == bindparam("hall"), Device.name == bindparam("name"), Device.revoked_at == None)  # noqa: E711
)
_THIS_REQUEST = (DeviceRequest.device_id == bindparam("dev"), DeviceRequest.request_id == bindparam("rid"))
_EARLIER = select(DeviceRequest.answer).where(*_THIS_REQUEST)
_LOG = insert(DeviceRequest).values(
    device_id=bindparam("dev"), request_id=bindparam("rid"), action=bindparam("act"), received_at=bindparam("at")
)
_SEEN = update(Device).where(Device.id == bindparam("dev")).values(last_seen=bindparam("at"))
_ANSWER = update(DeviceRequest).where(*_THIS_REQUEST).values(answer=bindparam("ans"))


def sender(session: Session, *, hall: str, name: str) -> Sender:
    """The active device `name` of `hall`, read in one query (this is on every request's path)."""
    row = session.execute(_SENDER, {"hall": hall, "name": name}).first()
    if row is None:
        raise NotFound("unknown_device", f"no device {name!r} in hall {hall}")
    return Sender(*row)


def earlier_request(session: Session, device_id: int, request_id: str):
    """The log row of a request seen before (its `.answer`), or None.

    The answer is stored in the transaction that logs the request, so it is
    None only in a log written by an earlier HallQ, which logged a request
    first and stored its answer in a later transaction."""
    return session.execute(_EARLIER, {"dev": device_id, "rid": request_id}).first()


def log_request(session: Session, who: Sender, request_id: str, action: str, now: datetime) -> None:
    """Log a request before acting on it, in the transaction that acts: its unique
    key makes a concurrent repeat (another server process) fail or wait."""
    session.execute(_LOG, {"dev": who.device_id, "rid": request_id, "act": action, "at": now})
    if who.last_seen is None or (now - who.last_seen).total_seconds() > 30:  # no write per request just for this
        session.execute(_SEEN, {"dev": who.device_id, "at": now})


def settle_request(session: Session, device_id: int, request_id: str, answer: dict) -> None:
    """Store a logged request's answer, which a repeat gets instead of a second effect."""
    session.execute(_ANSWER, {"dev": device_id, "rid": request_id, "ans": answer})


def prune_requests(session: Session, before: datetime) -> int:
    """Forget requests received before `before` (their age alone now refuses a repeat)."""
    rows = session.exec(select(DeviceRequest).where(DeviceRequest.received_at < before)).all()
    for row in rows:
        session.delete(row)
    return len(rows)

"""The hall's registry of devices (dispensers, call screens, review boxes, window
callers): adding, renewing and revoking them, their availability and reports,
and the log of the requests they sent (a repeat gets the same answer)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, insert, update
from sqlmodel import Session, select

from hallq.core.devices.credentials import hash_password, username_for
from hallq.core.devices.models import Device, DeviceRequest
from hallq.core.errors import Conflict, Invalid, NotFound
from hallq.core.models import Hall, Window
from hallq.core.txn import find_hall
from hallq_protocol import privacy

ROLES = ("dispenser", "screen", "review", "caller")
WINDOW_ROLES = ("review", "caller")  # bound to one window; a screen may be
PAPER = ("ok", "low", "out")
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")


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
    from hallq.core.shapes import iso

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
    if detail:  # free text from the device, shown to managers and in events: masked (hallq_protocol.privacy)
        device.status = {**device.status, **privacy.mask_values(detail)}
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
_ACTIVE_DEVICE = (Hall.slug == bindparam("hall"), Device.name == bindparam("name"), Device.revoked_at == None)  # noqa: E711
_SENDER = (
    select(Device.id, Device.hall_id, Device.name, Device.role, Device.window_number, Device.last_seen)
    .join(Hall, Hall.id == Device.hall_id).where(*_ACTIVE_DEVICE)
)
_SENDING_DEVICE = select(Device).join(Hall, Hall.id == Device.hall_id).where(*_ACTIVE_DEVICE)
_THIS_REQUEST = (DeviceRequest.device_id == bindparam("dev"), DeviceRequest.request_id == bindparam("rid"))
_EARLIER = select(DeviceRequest.answer, DeviceRequest.digest).where(*_THIS_REQUEST)
_LOG = insert(DeviceRequest).values(
    device_id=bindparam("dev"), request_id=bindparam("rid"), action=bindparam("act"), received_at=bindparam("at"),
    digest=bindparam("dig"), answer=bindparam("ans"),
)
_SEEN = update(Device).where(Device.id == bindparam("dev")).values(last_seen=bindparam("at"))


def sender(session: Session, *, hall: str, name: str) -> Sender:
    """The active device `name` of `hall`, read in one query (this is on every request's path)."""
    row = session.execute(_SENDER, {"hall": hall, "name": name}).first()
    if row is None:
        raise NotFound("unknown_device", f"no device {name!r} in hall {hall}")
    return Sender(*row)


def sending_device(session: Session, *, hall: str, name: str) -> tuple[Sender, Device]:
    """Like `sender`, with the device's row to change (a status report, a review…), in the same one query."""
    device = session.execute(_SENDING_DEVICE, {"hall": hall, "name": name}).scalar_one_or_none()
    if device is None:
        raise NotFound("unknown_device", f"no device {name!r} in hall {hall}")
    return Sender(device.id, device.hall_id, device.name, device.role, device.window_number, device.last_seen), device


def earlier_request(session: Session, device_id: int, request_id: str):
    """The log row of a request seen before (its `.answer` and `.digest`), or None.

    The answer is logged with the request, in the transaction that acts on it,
    so it is None only in a log written by an earlier HallQ, which logged a
    request first and stored its answer in a later transaction."""
    return session.execute(_EARLIER, {"dev": device_id, "rid": request_id}).first()


def log_request(session: Session, who: Sender, request_id: str, action: str, now: datetime, digest: str | None = None,
                answer: dict | None = None, device: Device | None = None) -> None:
    """Log a request and its answer, in the transaction that acted on it (one INSERT).

    Its unique key stops a concurrent repeat (another server process that acted
    on the same request meanwhile): the later of the two fails here and rolls
    back its action with it, so the request has one effect. Flush the action's
    own changes first, so that an IntegrityError raised here is the log's.
    With `device` (its row, loaded by `sending_device`), a last-seen time the
    action has just written counts."""
    seen = device.last_seen if device is not None else who.last_seen
    session.execute(_LOG, {"dev": who.device_id, "rid": request_id, "act": action, "at": now, "dig": digest, "ans": answer})
    if seen is None or (now - seen).total_seconds() > 30:  # no write per request just for this
        session.execute(_SEEN, {"dev": who.device_id, "at": now})


def prune_requests(session: Session, before: datetime) -> int:
    """Forget requests received before `before` (their age alone now refuses a repeat)."""
    rows = session.exec(select(DeviceRequest).where(DeviceRequest.received_at < before)).all()
    for row in rows:
        session.delete(row)
    return len(rows)

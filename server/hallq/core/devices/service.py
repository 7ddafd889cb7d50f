"""DeviceService: the devices' front door, like HallService (whose unit of work,
clock and publisher it shares): the registry for administrators and the CLI, and
what devices report and do."""

from __future__ import annotations

from datetime import datetime

from hallq.core.accounts import admin
from hallq.core.devices import registry as devices
from hallq.core.devices.actions import (
    device_actor,
    last_completed,
    record_review,
    report_status,
)
from hallq.core.devices.models import Device
from hallq.core.errors import Invalid, NotFound
from hallq.core.service import HallService
from hallq.core.txn import SYSTEM, Actor, Txn, find_hall


class DeviceService:
    """The devices' front door: registry, requests, blocks, offline tickets, reviews."""

    def __init__(self, halls: HallService):
        self.halls = halls
        self.db = halls.db

    @property
    def clock(self):
        return self.halls.clock

    def _as_device(self, slug: str, device_name: str, fn):
        """Run fn(tx, device) as the device, in one unit of work."""

        def op(tx: Txn):
            device = devices.find_device(tx.session, hall=slug, name=device_name)
            tx.actor = device_actor(tx.hall, device)
            return fn(tx, device)

        return self.halls.work.write(slug, op)

    # -- registry ---------------------------------------------------------

    def _registry(self, slug: str, actor: Actor, fn):
        """Run fn(tx) as `actor` (an administrator of the hall, or the system for the CLI), audited by fn."""

        def op(tx: Txn):
            if not actor.is_system:
                admin.require_admin(actor, tx.hall)
            return fn(tx)

        return self.halls.work.write(slug, op, actor=actor)

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

        def op(tx: Txn) -> dict:
            device = devices.find_device(tx.session, hall=hall, name=name)
            devices.set_availability(tx.session, device, online, tx.now)
            view = devices.device_view(device, hall)
            # The whole device view rides along (its last_seen too), so a page updates without asking again.
            tx.emit("device.availability", device=view)
            return view

        return self.halls.work.write(hall, op)

    def set_status(self, hall: str, name: str, *, paper: str | None = None, detail: dict | None = None) -> dict:
        """Record what a device reports (see report_status)."""
        return self._as_device(hall, name, lambda tx, device: report_status(tx, device, paper=paper, detail=detail))

    # -- device actions ---------------------------------------------------

    def review(self, hall: str, name: str, *, ticket: str, score: int) -> dict:
        return self._as_device(hall, name, lambda tx, device: record_review(tx, device, ticket_ref=ticket, score=score))

    def last_completed(self, hall: str, window: int) -> dict | None:
        with self.db.read() as session:
            hall_row = find_hall(session, hall)
            return last_completed(session, hall_row, window, self.clock.now())

    def prune_requests(self, *, before: datetime) -> int:
        """Forget device requests received before `before` (by the clock that stamped them)."""
        return self.halls.work.change(lambda session: devices.prune_requests(session, before))


def _brief(device: Device) -> dict:
    return {"role": device.role, "window": device.window_number}

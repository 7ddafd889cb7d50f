"""Publishes the hall's state to devices: domain events in, retained MQTT out.

The database is the only source of truth. Each window's state goes out
retained with its version, and a version older than one already sent is never
sent; calls go out once per call or recall; the queue summary and the ticket last
completed at each window come with the events (core.derived), so nothing is read
back from the database per change. After every (re)connect to the broker
everything retained is republished from the database (republish_all), so a
restarted broker, or a device that was away, catches up.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Callable

from hallq.core.devices import registry as devices
from hallq.core.devices.service import DeviceService
from hallq.core.shapes import iso
from hallq_protocol import topics
from hallq_protocol.live import public
from hallq_protocol.shapes import BLOCK_SIZE, REQUEST_MAX_AGE

from ..core.clock import utcnow
from ..core.derived import QUEUE_SUMMARY
from ..core.events import DomainEvent
from ..core.service import HallService
from . import schemas

log = logging.getLogger("hallq.mqtt.publisher")
# What hall_info says of today only: left out of the retained device config (device_config).
DAY_FACTS = ("hours_today", "calendar")
CALL_KINDS = ("ticket.called", "ticket.recalled")


class MqttPublisher:
    def __init__(self, halls: HallService, device_service: DeviceService, send, *, request_max_age: float = REQUEST_MAX_AGE,
                 block_size: int = BLOCK_SIZE, public_base_url: str = "", now: Callable[[], datetime] = utcnow):
        self.halls = halls
        self.devices = device_service
        self.send = send  # send(topic, payload_bytes, retain)
        self.request_max_age = request_max_age
        self.block_size = block_size
        self.public_base_url = public_base_url.rstrip("/")
        self.now = now  # the transport's clock (the hall's time is halls.clock)
        self._versions: dict[tuple[str, int], int] = {}
        self._sent: dict[str, int] = {}  # topic → the version last sent there (queue, completed, config)
        self._lock = threading.Lock()

    # -- events -----------------------------------------------------------

    def publish(self, event: DomainEvent) -> None:
        """Turn one committed domain event (or a queue summary) into the MQTT messages devices need."""
        if event.kind == QUEUE_SUMMARY:
            self.send_queue(event.hall, event.data["services"], event.at)
            return
        state = event.data.get("window_state")
        if state is not None and event.window is not None:
            self.window_state(event.hall, state)
        if event.kind in CALL_KINDS and event.window is not None:
            self._call(event)
        last = event.data.get("last_completed")
        if last is not None and event.window is not None:
            self.send_completed(event.hall, last)
        if event.kind == "hall.configured":
            self.republish_hall(event.hall)

    def window_state(self, hall: str, state: dict, *, again: bool = False) -> bool:
        """Publish a window's state unless a newer version already went out."""
        key = (hall, int(state["number"]))
        with self._lock:
            last = self._versions.get(key, -1)
            if state["version"] < last or (state["version"] == last and not again):
                return False
            self._versions[key] = state["version"]
            # Devices and screens see numbers; tracking ids stay with the ticket's holder.
            self.send(topics.window_state(hall, state["number"]), schemas.encode(public(state)), True)
        return True

    def _call(self, event: DomainEvent) -> None:
        d = event.data
        message = schemas.checked(schemas.CALL, dict(
            hall=event.hall, window=event.window, window_name=d.get("window_name", ""), number=d["number"],
            service=d.get("service"), how="recall" if event.kind == "ticket.recalled" else d.get("how", "next"),
            recalls=d.get("recalls", 0), version=d.get("version", 0), at=event.as_dict()["at"],
        ))
        self.send(topics.calls(event.hall), schemas.encode(message), False)

    def send_completed(self, hall: str, last: dict) -> None:
        """The ticket last completed at a window and whether it was reviewed (retained, for its review box)."""
        topic = topics.window_completed(hall, last["window"])
        with self._lock:
            message = schemas.checked(schemas.COMPLETED, {"hall": hall, **last, "version": self._next_version(topic, self.now())})
            self.send(topic, schemas.encode(message), True)

    def send_queue(self, hall: str, services: list[dict], at: datetime) -> None:
        """The hall's queue summary (retained)."""
        topic = topics.queue(hall)
        with self._lock:
            body = {"hall": hall, "services": services, "at": iso(at), "version": self._next_version(topic, self.now())}
            self.send(topic, schemas.encode(body), True)

    def _next_version(self, topic: str, at: datetime) -> int:
        """A version for the next retained message on `topic`: the transport's time in milliseconds, so
        that it keeps growing across server restarts, and always above the last one sent (caller holds _lock)."""
        version = max(self._sent.get(topic, 0) + 1, int(at.timestamp() * 1000))
        self._sent[topic] = version
        return version

    # -- device configuration ----------------------------------------------

    def device_config(self, hall: str, device: devices.DeviceInfo) -> dict:
        """What a device needs to know, sent retained on its config topic. Retained until the next
        config, so nothing in it may change at midnight: the hall's facts without today's (its hours
        and whether it works today: a refusal says those when they matter)."""
        info = {k: v for k, v in self.halls.hall_info(hall).items() if k not in DAY_FACTS}
        services = []
        if device.role == "dispenser":
            services = [
                {"code": s["service"], "name": s["name"], "name_en": s.get("name_en", ""), "prefix": s["prefix"]}
                for s in self.halls.queue(hall)
            ]
        return schemas.checked(schemas.CONFIG, dict(
            device=device.name, role=device.role, hall=info, window=device.window, services=services,
            request_max_age=self.request_max_age, block_size=self.block_size,
            # The phone tracker's page; dispensers print it as the ticket's QR code.
            tracker_url=f"{self.public_base_url}/t/{hall}/{{ticket}}" if self.public_base_url else "",
            server_time=iso(self.now()),  # the transport's clock: lets a device check its own
            version=0,  # set as it is sent (publish_config)
        ))

    def publish_config(self, hall: str, device: devices.DeviceInfo) -> None:
        topic = topics.config(hall, device.name)
        config = self.device_config(hall, device)
        with self._lock:
            config["version"] = self._next_version(topic, self.now())
            self.send(topic, schemas.encode(config), True)

    # -- everything, from the database --------------------------------------

    def republish_hall(self, hall: str) -> None:
        """Every retained message of one hall, read afresh from the database."""
        for state in self.halls.windows(hall):
            self.window_state(hall, state, again=True)
            last = self.devices.last_completed(hall, state["number"])
            if last is not None:
                self.send_completed(hall, last)
        self.send_queue(hall, self.halls.queue(hall), self.halls.clock.now())
        with self.halls.db.read() as session:
            hall_devices = devices.all_active(session, hall)
        for device in hall_devices:
            self.publish_config(hall, device)

    def republish_all(self) -> None:
        for info in self.halls.halls():
            try:
                self.republish_hall(info["slug"])
            except Exception:
                log.exception("could not republish hall %s", info["slug"])

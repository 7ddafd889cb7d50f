"""Device requests → HallService, answered on the device's response topic.

Each request is validated (schemas), checked against the device that sent it
(registered, in this hall, allowed this action, at this window), refused when
older than the configured age, and run exactly once: its id is logged before
the work and its answer stored after, so a QoS 1 repeat gets the same answer
and no second effect. Requests are handled one at a time on a worker thread,
so the MQTT link keeps reading while the database works.
"""

from __future__ import annotations

import logging
import queue
import threading
from datetime import datetime, timedelta, timezone
from typing import Callable

from sqlmodel import select

from ..core import devices
from ..core.device_actions import DeviceService, device_actor
from ..core.errors import HallError
from ..core.models import Hall
from ..core.service import HallService
from . import schemas, topics

log = logging.getLogger("hallq.mqtt.bridge")
CORE_ACTION = {"call_next": "call-next", "recall": "recall", "skip": "skip", "start": "start",
               "complete": "complete", "pause": "pause", "resume": "resume"}
DEFAULT_PAUSE_REASON = "暂停服务"


def _wall_clock() -> datetime:
    return datetime.now(timezone.utc)


class RequestBridge:
    def __init__(self, halls: HallService, device_service: DeviceService, *, send: Callable[[str, bytes], None],
                 max_age: float = 60.0, now: Callable[[], datetime] = _wall_clock):
        self.halls = halls
        self.devices = device_service
        self.send = send
        self.max_age = timedelta(seconds=max_age)
        self.now = now  # the real clock: a request's age is a transport matter, not the hall's time
        self._inbox: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None

    # -- threading ---------------------------------------------------------

    def submit(self, hall: str, device: str, payload: bytes) -> None:
        """Queue a request for the worker (called on the MQTT thread)."""
        self._inbox.put(("request", hall, device, payload))

    def submit_availability(self, hall: str, device: str, payload: bytes) -> None:
        self._inbox.put(("availability", hall, device, payload))

    def start(self) -> None:
        self._thread = threading.Thread(target=self._work, name="mqtt-bridge", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._inbox.put(None)
        if self._thread is not None:
            self._thread.join(10)

    def _work(self) -> None:
        while (item := self._inbox.get()) is not None:
            kind, hall, device, payload = item
            if kind == "availability":
                self._safely(self.availability, hall, device, payload)
                continue
            answer = self.handle(hall, device, payload)
            try:
                self.send(topics.response(hall, device), schemas.encode(answer))
            except Exception:
                log.exception("could not answer %s/%s", hall, device)

    @staticmethod
    def _safely(fn, *args) -> None:
        try:
            fn(*args)
        except Exception:
            log.exception("%s failed", fn.__name__)

    # -- one request -------------------------------------------------------

    def handle(self, hall: str, device_name: str, payload: bytes) -> dict:
        """The answer to one request payload from device `device_name` of `hall`."""
        try:
            req = schemas.parse_request(payload)
        except schemas.BadRequest as exc:
            return schemas.error(exc.request_id, exc.code, exc.message)
        now = self.now()
        try:
            earlier = self._claim(hall, device_name, req, now)
        except HallError as exc:
            return schemas.error(req.id, exc.code, exc.message, **exc.details)
        if earlier is not None:
            return earlier
        try:
            answer = schemas.ok(req.id, self._run(hall, device_name, req))
        except HallError as exc:
            answer = schemas.error(req.id, exc.code, exc.message, **exc.details)
        except Exception:
            log.exception("request %s of %s/%s failed", req.id, hall, device_name)
            self._forget(hall, device_name, req.id)  # nothing was committed: let a retry run it
            return schemas.error(req.id, "internal", "the server could not handle this request; try again")
        with self.halls.db.write() as session:
            device = devices.find_device(session, hall=hall, name=device_name, active=False)
            devices.store_answer(session, device.id, req.id, answer)
        return answer

    def _claim(self, hall: str, device_name: str, req, now: datetime) -> dict | None:
        """Log the request; return the stored answer of an earlier delivery, or refuse."""
        with self.halls.db.write() as session:
            device = devices.find_device(session, hall=hall, name=device_name)
            seen = session.exec(
                select(devices.DeviceRequest).where(
                    devices.DeviceRequest.device_id == device.id, devices.DeviceRequest.request_id == req.id
                )
            ).first()
            if seen is not None:
                if seen.answer is None:
                    return schemas.error(req.id, "in_doubt", "this request was interrupted; check the hall's state before repeating it")
                return seen.answer
            age = (now - req.at).total_seconds()
            if age > self.max_age.total_seconds():
                return schemas.error(req.id, "request_expired", f"the request is {age:.0f} s old; requests older than {self.max_age.total_seconds():.0f} s are refused")
            if -age > self.max_age.total_seconds():
                return schemas.error(req.id, "clock_skew", "the request is dated in the future; check the device's clock")
            if req.action not in schemas.ROLE_ACTIONS.get(device.role, ()):
                return schemas.error(req.id, "action_not_allowed", f"a {device.role} may not {req.action}")
            if req.window is not None and req.window != device.window_number:
                return schemas.error(req.id, "wrong_window", f"device {device.name} belongs to window {device.window_number}, not {req.window}")
            devices.claim_request(session, device, req.id, req.action, now)
        return None

    def _forget(self, hall: str, device_name: str, request_id: str) -> None:
        with self.halls.db.write() as session:
            device = devices.find_device(session, hall=hall, name=device_name, active=False)
            row = session.exec(
                select(devices.DeviceRequest).where(
                    devices.DeviceRequest.device_id == device.id, devices.DeviceRequest.request_id == request_id
                )
            ).first()
            if row is not None:
                session.delete(row)

    def _run(self, hall: str, name: str, req) -> dict:
        action = req.action
        if action == "issue_ticket":
            with self.halls.db.read() as session:
                device = devices.find_device(session, hall=hall, name=name)
                actor = device_actor(session.get(Hall, device.hall_id), device)
            return self.halls.issue_ticket(hall, service=req.service, priority=req.priority, actor=actor, channel="dispenser")
        if action in CORE_ACTION:
            window = self._window_of(hall, name)
            params = {"reason": req.reason or DEFAULT_PAUSE_REASON} if action == "pause" else {}
            return self.halls.window_action(hall, window, CORE_ACTION[action], actor=self.devices.window_actor(hall, name), **params)
        if action == "review":
            return self.devices.review(hall, name, ticket=req.ticket, score=req.score)
        if action == "reserve_block":
            return self.devices.reserve_block(hall, name, service=req.service, count=req.count)
        if action == "offline_ticket":
            return self.devices.hand_in_offline_ticket(hall, name, service=req.service, number=req.number,
                                                       issued_at=req.issued_at, priority=req.priority)
        if action == "status":
            return self.devices.set_status(hall, name, paper=req.paper, detail=req.detail)
        raise AssertionError(f"unhandled action {action}")  # schemas and ROLE_ACTIONS list every action

    def _window_of(self, hall: str, name: str) -> int:
        with self.halls.db.read() as session:
            return devices.find_device(session, hall=hall, name=name).window_number

    def availability(self, hall: str, device_name: str, payload: bytes) -> None:
        """Record a device's retained online/offline message (its Last Will says offline)."""
        state = payload.decode("utf-8", "replace").strip()
        if state not in ("online", "offline"):
            return
        try:
            self.devices.set_availability(hall, device_name, state == "online")
        except HallError:
            pass  # an unknown or revoked device: nothing to record

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

from sqlalchemy import bindparam
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from dataclasses import dataclass

from ..core import devices
from ..core.device_actions import DeviceService
from ..core.enums import Role
from ..core.errors import Conflict, HallError
from ..core.models import User, Window
from ..core.service import HallService
from ..core.txn import Actor
from . import schemas, topics

log = logging.getLogger("hallq.mqtt.bridge")
CORE_ACTION = {"call_next": "call-next", "recall": "recall", "skip": "skip", "start": "start",
               "complete": "complete", "pause": "pause", "resume": "resume"}
DEFAULT_PAUSE_REASON = "暂停服务"
# A request logged but not yet answered this recently is still being handled (by
# another server process); older, its handler died half-way: answer "in doubt".
IN_PROGRESS_SECONDS = 10.0
_STAFF_AT_WINDOW = (
    select(User.id, User.name).join(Window, Window.staff_id == User.id)
    .where(Window.hall_id == bindparam("hall_id"), Window.number == bindparam("window"))
)


class _HandledElsewhere(Exception):
    pass


@dataclass(frozen=True)
class Origin:
    """The device a request came from, as found when it was logged."""

    device_id: int
    name: str
    window: int | None
    actor: Actor | None  # the device itself, or for a caller the staff at its window


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
            try:
                answer = self.handle(hall, device, payload)
            except Exception:  # the worker must outlive any one request
                log.exception("request from %s/%s failed", hall, device)
                continue
            if answer is None:
                continue
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

    def handle(self, hall: str, device_name: str, payload: bytes) -> dict | None:
        """The answer to one request payload from device `device_name` of `hall` (None: not ours to answer)."""
        try:
            req = schemas.parse_request(payload)
        except schemas.BadRequest as exc:
            return schemas.error(exc.request_id, exc.code, exc.message)
        try:
            origin, earlier = self._claim(hall, device_name, req, self.now())
        except HallError as exc:
            return schemas.error(req.id, exc.code, exc.message, **exc.details)
        except (IntegrityError, _HandledElsewhere):
            return None  # another server process logged this id first: it acts and answers
        if earlier is not None:
            return earlier
        try:
            answer = schemas.ok(req.id, self._run(hall, origin, req))
        except HallError as exc:
            answer = schemas.error(req.id, exc.code, exc.message, **exc.details)
        except Exception:
            log.exception("request %s of %s/%s failed", req.id, hall, device_name)
            self._settle(origin, req.id, None)  # nothing was committed: let a retry run it
            return schemas.error(req.id, "internal", "the server could not handle this request; try again")
        self._settle(origin, req.id, answer)
        return answer

    def _claim(self, hall: str, device_name: str, req, now: datetime) -> tuple["Origin | None", dict | None]:
        """Log the request and say who sent it; or return the stored answer of an earlier delivery, or a refusal."""
        with self.halls.db.write() as session:
            who = devices.sender(session, hall=hall, name=device_name)
            seen = devices.earlier_request(session, who.device_id, req.id)
            if seen is not None:
                answer, received = seen
                if answer is not None:
                    return None, answer
                if (now - received).total_seconds() < IN_PROGRESS_SECONDS:
                    raise _HandledElsewhere  # another server process is at work on it and will answer
                return None, schemas.error(req.id, "in_doubt", "this request was interrupted; check the hall's state before repeating it")
            age = (now - req.at).total_seconds()
            limit = self.max_age.total_seconds()
            if age > limit:
                return None, schemas.error(req.id, "request_expired", f"the request is {age:.0f} s old; requests older than {limit:.0f} s are refused")
            if -age > limit:
                return None, schemas.error(req.id, "clock_skew", "the request is dated in the future; check the device's clock")
            if req.action not in schemas.ROLE_ACTIONS.get(who.role, ()):
                return None, schemas.error(req.id, "action_not_allowed", f"a {who.role} may not {req.action}")
            if req.window is not None and req.window != who.window:
                return None, schemas.error(req.id, "wrong_window", f"device {who.name} belongs to window {who.window}, not {req.window}")
            if req.action in CORE_ACTION:
                actor = self._staff_at_window(session, who)
            else:
                actor = Actor(name=f"device:{who.name}", role=Role.DEVICE, hall_id=who.hall_id)
            devices.log_request(session, who, req.id, req.action, now)
            return Origin(who.device_id, who.name, who.window, actor), None

    @staticmethod
    def _staff_at_window(session, who: devices.Sender) -> Actor | None:
        """The staff member signed in at a caller's window, acting through the caller (None: nobody)."""
        staff = session.execute(_STAFF_AT_WINDOW, {"hall_id": who.hall_id, "window": who.window}).first()
        if staff is None:
            return None
        return Actor(name=f"{staff.name}@{who.name}", role=Role.STAFF, user_id=staff.id, hall_id=who.hall_id)

    def _settle(self, origin: "Origin", request_id: str, answer: dict | None) -> None:
        """Store the answer for repeats, or forget the request when it had no effect."""
        with self.halls.db.write() as session:
            devices.settle_request(session, origin.device_id, request_id, answer)

    def _run(self, hall: str, origin: "Origin", req) -> dict:
        action, name = req.action, origin.name
        if action == "issue_ticket":
            return self.halls.issue_ticket(hall, service=req.service, priority=req.priority, actor=origin.actor, channel="dispenser")
        if action in CORE_ACTION:
            if origin.actor is None:
                raise Conflict("no_staff", f"no one is signed in at window {origin.window}; sign in on the staff terminal first")
            params = {"reason": req.reason or DEFAULT_PAUSE_REASON} if action == "pause" else {}
            return self.halls.window_action(hall, origin.window, CORE_ACTION[action], actor=origin.actor, **params)
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

    def availability(self, hall: str, device_name: str, payload: bytes) -> None:
        """Record a device's retained online/offline message (its Last Will says offline)."""
        state = payload.decode("utf-8", "replace").strip()
        if state not in ("online", "offline"):
            return
        try:
            self.devices.set_availability(hall, device_name, state == "online")
        except HallError:
            pass  # an unknown or revoked device: nothing to record

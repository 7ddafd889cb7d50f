"""Device requests → HallService, answered on the device's response topic.

Each request is validated (schemas), checked against the device that sent it
(registered, in this hall, allowed this action, at this window), refused when
older than the configured age, and run exactly once: its id is logged, the
work done and its answer stored in one transaction, so a QoS 1 repeat gets the
same answer and no second effect, and a server that dies half-way has done
nothing of it. Requests are handled one at a time on a worker thread,
so the MQTT link keeps reading while the database works, taking the devices in
turn (inbox.py): a device that floods the server waits behind itself, and past its
queue or its rate it is answered `rate_limited` at once. Those answers have a rate limit of
their own (twice the device's): past it a request is dropped unanswered, so a flooding device
cannot make the server spend on it what it saves by refusing it.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import bindparam
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from hallq.core.devices import actions as device_actions
from hallq.core.devices import registry as devices
from hallq.core.devices.models import Device
from hallq.core.devices.service import DeviceService
from hallq_protocol import topics

from ..core.clock import utcnow
from ..core.enums import Role
from ..core.errors import Conflict, HallError
from ..core.models import User, Window
from ..core.service import HallService
from ..core.txn import Actor, Txn
from . import schemas
from .inbox import STOP, FairInbox, RateLimit

log = logging.getLogger("hallq.mqtt.bridge")
CORE_ACTION = {"call_next": "call-next", "recall": "recall", "skip": "skip", "start": "start",
               "complete": "complete", "pause": "pause", "resume": "resume"}
DEFAULT_PAUSE_REASON = "暂停服务"
# The actions that change or read the device's own row (the others act as the device, on the hall).
DEVICE_ROW_ACTIONS = frozenset({"review", "reserve_block", "offline_ticket", "status"})
URGENT_ACTIONS = frozenset(set(CORE_ACTION) | {"issue_ticket", "review", "reserve_block", "offline_ticket"})
_STAFF_AT_WINDOW = (
    select(User.id, User.name).join(Window, Window.staff_id == User.id)
    .where(Window.hall_id == bindparam("hall_id"), Window.number == bindparam("window"))
)


class _HandledElsewhere(Exception):
    pass


def _housekeeping(payload: bytes) -> bool:
    """Is this request a device's report about itself (no one waits on it), to be handled after
    every call, ticket and rating queued? Unreadable ones count as such: they only get an error."""
    try:
        body = json.loads(payload)
    except (ValueError, RecursionError):
        return True
    return not isinstance(body, dict) or body.get("action") not in URGENT_ACTIONS


class RequestBridge:
    def __init__(self, halls: HallService, device_service: DeviceService, *, send: Callable[[str, bytes], None],
                 max_age: float = 60.0, now: Callable[[], datetime] = utcnow, rate: float = 50.0, burst: int = 100,
                 max_queued: int = 100, monotonic: Callable[[], float] = time.monotonic):
        self.halls = halls
        self.devices = device_service
        self.send = send
        self.max_age = timedelta(seconds=max_age)
        # The transport's clock (the one devices stamp requests with), not the
        # hall's: a request's age is a transport matter. Injected, like every clock.
        self.now = now
        self._inbox = FairInbox(rate=rate, burst=burst, max_queued=max_queued, clock=monotonic)
        # A device that waits for each answer is refused at most once per retry_after: twice its rate,
        # with room for a burst, is never met by one.
        self._refusals = RateLimit(rate=2 * rate, burst=max(burst, 20), clock=monotonic)
        self.dropped = 0  # requests past both limits, dropped unanswered
        self.answered = 0  # requests this bridge handled and answered
        self._thread: threading.Thread | None = None
        self._monotonic = monotonic
        self._warned: dict[tuple[str, str], float] = {}  # a flooding device is logged once in a while, not per message

    # -- threading ---------------------------------------------------------

    def submit(self, hall: str, device: str, payload: bytes) -> None:
        """Queue a request for the worker (called on the MQTT thread); one past the device's
        limits is answered `rate_limited` here and now."""
        wait = self._inbox.put((hall, device), ("request", hall, device, payload), urgent=not _housekeeping(payload))
        if wait:
            self._refuse(hall, device, payload, wait)

    def submit_availability(self, hall: str, device: str, payload: bytes) -> None:
        self._inbox.put((hall, device), ("availability", hall, device, payload), limited=False, urgent=False)

    def _refuse(self, hall: str, device: str, payload: bytes, wait: float) -> None:
        now = self._monotonic()
        if now - self._warned.get((hall, device), -60.0) >= 10:
            self._warned[(hall, device)] = now
            log.warning("%s/%s sends more requests than it may (%d queued): refusing them with rate_limited",
                        hall, device, self._inbox.queued((hall, device)))
        if self._refusals.take((hall, device)):  # refused that often already: not even read
            self.dropped += 1
            return
        answer = schemas.error(schemas.request_id(payload), "rate_limited",
                               f"too many requests from this device: try again in {wait:.2f} s", retry_after=math.ceil(wait * 100) / 100)
        try:
            self.send(topics.response(hall, device), schemas.encode(answer))
        except Exception:
            log.exception("could not answer %s/%s", hall, device)

    def forget_old_requests(self, older_than: timedelta = timedelta(days=1)) -> int:
        """Drop logged requests older than `older_than` on this bridge's clock (their age alone refuses a repeat)."""
        return self.devices.prune_requests(before=self.now() - older_than)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._work, name="mqtt-bridge", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._inbox.stop()
        if self._thread is not None:
            self._thread.join(10)

    def _work(self) -> None:
        while (item := self._inbox.get()) is not STOP:
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
                self.answered += 1
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
        now = self.now()
        try:
            return self.halls.work.write(hall, lambda tx: self._once(tx, device_name, req, now))
        except _HandledElsewhere:
            return None
        except HallError as exc:
            refusal = schemas.error(req.id, exc.code, exc.message, **exc.details)
        except Exception:
            log.exception("request %s of %s/%s failed", req.id, hall, device_name)
            # Nothing was committed, the request's log included: a retry runs it.
            return schemas.error(req.id, "internal", "the server could not handle this request; try again")
        # Refused: nothing of the action stays. Log the refusal as the request's
        # answer, so that a repeat gets it rather than a second try.
        try:
            return self.halls.work.write(hall, lambda tx: self._once(tx, device_name, req, now, answer=refusal))
        except _HandledElsewhere:
            return None
        except HallError:  # refused before the request was logged (no such hall)
            return refusal

    def _once(self, tx: Txn, device_name: str, req, now: datetime, answer: dict | None = None) -> dict:
        """Act on the request and log it with its answer, all in `tx`; or return
        an earlier delivery's answer, or a refusal of the request itself.

        With `answer`, store that instead of acting (the action was refused).
        One transaction, so either all of it happens or none does: a repeat finds
        the answer or runs the request afresh, never half of it.
        """
        session = tx.session
        try:
            if req.action in DEVICE_ROW_ACTIONS:  # the device's row comes in the same query
                who, device = devices.sending_device(session, hall=tx.hall.slug, name=device_name)
            else:
                who, device = devices.sender(session, hall=tx.hall.slug, name=device_name), None
        except HallError as exc:
            return schemas.error(req.id, exc.code, exc.message)
        seen = devices.earlier_request(session, who.device_id, req.id)
        digest = schemas.digest(req)
        if seen is not None:
            if seen.digest is not None and seen.digest != digest:
                return schemas.error(req.id, "id_reused", "this request id was used for another request: give every request an id of its own")
            return seen.answer or schemas.error(req.id, "in_doubt", "this request was interrupted; check the hall's state before repeating it")
        refusal = self._refusal(who, req, now)
        if refusal is not None:
            return refusal
        if answer is None:
            answer = schemas.ok(req.id, self._act(tx, who, device, req))
        session.flush()  # the action's own writes: a conflict there is the action's, not a repeat's
        try:
            devices.log_request(session, who, req.id, req.action, now, digest, answer, device)
        except IntegrityError:
            # Another server process acted on this id and logged it after we looked: it
            # answers. Raising rolls back what we did, so the request has one effect.
            raise _HandledElsewhere from None
        return answer

    def _refusal(self, who: devices.Sender, req, now: datetime) -> dict | None:
        """Why this device may not make this request now (None: it may)."""
        age = (now - req.at).total_seconds()
        limit = self.max_age.total_seconds()
        if age > limit:
            return schemas.error(req.id, "request_expired", f"the request is {age:.0f} s old; requests older than {limit:.0f} s are refused")
        if -age > limit:
            return schemas.error(req.id, "clock_skew", "the request is dated in the future; check the device's clock")
        if req.action not in schemas.ROLE_ACTIONS.get(who.role, ()):
            return schemas.error(req.id, "action_not_allowed", f"a {who.role} may not {req.action}")
        if req.window is not None and req.window != who.window:
            return schemas.error(req.id, "wrong_window", f"device {who.name} belongs to window {who.window}, not {req.window}")
        return None

    def _act(self, tx: Txn, who: devices.Sender, device: Device | None, req) -> dict:
        """Do what the request asks, in `tx`, as the device (or, for a caller, as the staff at its window)."""
        action = req.action
        if action in CORE_ACTION:
            staff = tx.session.execute(_STAFF_AT_WINDOW, {"hall_id": who.hall_id, "window": who.window}).first()
            if staff is None:
                raise Conflict("no_staff", f"no one is signed in at window {who.window}; sign in on the staff terminal first")
            tx.actor = Actor(name=f"{staff.name}@{who.name}", role=Role.STAFF, user_id=staff.id, hall_id=who.hall_id, origin="mqtt")
            params = {"reason": req.reason or DEFAULT_PAUSE_REASON} if action == "pause" else {}
            return self.halls.window_action_in(tx, who.window, CORE_ACTION[action], actor=tx.actor, **params)
        tx.actor = Actor(name=f"device:{who.name}", role=Role.DEVICE, hall_id=who.hall_id, origin="mqtt")
        if action == "issue_ticket":
            return self.halls.issue_ticket_in(tx, service=req.service, priority=req.priority, actor=tx.actor, channel="dispenser")
        if action == "review":
            return device_actions.record_review(tx, device, ticket_ref=req.ticket, score=req.score)
        if action == "reserve_block":
            return device_actions.reserve_block(tx, device, req.service, req.count)
        if action == "offline_ticket":
            return device_actions.hand_in_offline_ticket(tx, device, service_code=req.service, number=req.number,
                                                         issued_at=req.issued_at, priority=req.priority)
        if action == "status":
            return device_actions.report_status(tx, device, paper=req.paper, detail=req.detail)
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

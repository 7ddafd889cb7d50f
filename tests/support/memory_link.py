"""MemoryLink: a DeviceLink (edge/hallq_edge/link.py) without a broker, for fast tests
of each edge role.

It has the interface the roles use (subscribe, on_link, connected, call, request,
wait_answer, send_result, publish_raw, now, start, stop) and behaves as the real link
does where a role can tell the difference:

- what a role sends is encoded as DeviceLink encodes it (UTF-8 JSON, on the topics of
  hallq_protocol.topics) and recorded: `published` (everything), `requests`, `results`;
- requests are checked as the server's bridge checks them (hallq.mqtt.schemas: a bad
  one is answered `bad_request`; with `role`, an action that role may not take is
  answered `action_not_allowed`);
- answers come from `respond`, a scripted {action: reply} or a callable(request) → reply,
  where a reply is the answer's data, a whole answer (`MemoryLink.refused(...)`), or None
  for no answer (then `call` returns None at once, as the real one does after its timeout);
- messages a test delivers are encoded as the server encodes them, decoded as the link
  decodes them (what is not a JSON object is dropped) and handed to every matching
  subscription; link changes go to the `on_link` listeners; answers wake the waiting
  request. All of this happens on one thread of the link's own, as paho's network thread
  does it, and `deliver`, `start`, `drop` return once it is done;
- a handler's exception is logged and kept in `errors` (the real link logs it and goes
  on); a role waiting for an answer on that thread (it would never come) is an error too;
- a message delivered while the link is down is lost (a clean session), unless it is
  retained (`deliver(..., retain=True)`): retained ones reach a subscription made later,
  and every subscription again each time the link comes up, as a broker sends them;
- requests made while the link is down wait and go out when it comes up (paho queues
  QoS 1 messages), and `call` returns None at once while it is down.
"""

from __future__ import annotations

import json
import logging
import queue
import sys
import threading
import traceback
import uuid
from dataclasses import dataclass
from typing import Any, Callable

from hallq.mqtt import schemas
from hallq_edge.clock import utcnow
from hallq_protocol import topics
from support.waiting import WAIT

log = logging.getLogger("tests.memory_link")


@dataclass(frozen=True)
class Sent:
    """One message the role published: its topic, its payload as sent, and as JSON (None if it is not)."""

    topic: str
    payload: bytes
    retain: bool

    @property
    def body(self) -> Any:
        try:
            return json.loads(self.payload.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None


class MemoryLink:
    def __init__(self, *, hall: str = "district", device: str = "device-1", role: str | None = None,
                 respond: dict | Callable[[dict], Any] | None = None, now: Callable = utcnow):
        self.hall, self.device, self.role = hall, device, role
        self.now = now
        self.respond = respond if respond is not None else {}
        self.published: list[Sent] = []
        self.errors: list[BaseException] = []
        self._subs: dict[str, Callable[[dict], None]] = {}
        self._link_listeners: list[Callable[[bool], None]] = []
        self._retained: dict[str, bytes] = {}
        self._pending: dict[str, tuple[threading.Event, list]] = {}
        self._unsent: list[dict] = []  # requests made while down: paho sends them on reconnect
        self._lock = threading.Lock()
        self._up = threading.Event()
        self._work: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._network, name=f"memory-link-{device}", daemon=True)
        self._thread.start()

    # -- what a test reads --------------------------------------------------

    @property
    def requests(self) -> list[dict]:
        """Every request sent (in order), as the server would receive it."""
        return [m.body for m in self.published if m.topic == topics.request(self.hall, self.device)]

    def actions(self) -> list[str]:
        return [r.get("action") for r in self.requests]

    @property
    def results(self) -> list[dict]:
        """Every command result sent, in order."""
        return [m.body for m in self.published if m.topic == topics.result(self.hall, self.device)]

    @staticmethod
    def refused(code: str, message: str = "refused") -> dict:
        """A reply that refuses the request, as the server does (`status: error`)."""
        return schemas.error(None, code, message)

    # -- what a test does -----------------------------------------------------

    def deliver(self, topic: str, payload: dict | bytes | str, *, retain: bool = False) -> None:
        """A message published on `topic` (a dict is encoded as the server encodes it). It reaches the
        role now if the link is up; while it is down only a retained one is kept, for when it comes up."""
        if isinstance(payload, dict):
            data = schemas.encode(payload)
        elif isinstance(payload, str):
            data = payload.encode("utf-8")
        else:
            data = payload
        if retain:
            with self._lock:
                self._retained[topic] = data
        self._run(lambda: self._on_message(topic, data) if self._up.is_set() else None)

    def start(self) -> None:
        """The link comes up: it says `online`, tells the listeners, sends what waited, gets the retained messages."""
        self._run(self._connect)

    def drop(self) -> None:
        """The broker goes away: the listeners hear the link is down."""
        self._run(self._disconnect)

    def stop(self) -> None:
        """As DeviceLink.stop: say `offline` (retained) while still up, then disconnect."""
        if self._up.is_set():
            self.publish_raw(topics.availability(self.hall, self.device), b"offline", retain=True)
        self.drop()

    def check(self) -> None:
        """Fail if a handler raised or waited on the link's own thread."""
        if self.errors:
            raise AssertionError(f"{len(self.errors)} error(s) on the link's thread; the first: {self.errors[0]!r}") from self.errors[0]

    # -- DeviceLink's interface ------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._up.is_set()

    def wait_connected(self, timeout: float | None = None) -> bool:
        return self._up.wait(timeout)

    def subscribe(self, topic_filter: str, handler: Callable[[dict], None]) -> None:
        self._subs[topic_filter] = handler
        if self.connected:  # the broker sends what it retains on the new filter
            self._post(lambda: self._send_retained([topic_filter]))

    def on_link(self, listener: Callable[[bool], None]) -> None:
        self._link_listeners.append(listener)

    def request(self, action: str, *, request_id: str | None = None, expect_answer: bool = True, **params) -> str:
        rid = request_id or uuid.uuid4().hex
        body = {"id": rid, "action": action, "at": self.now().isoformat(), **params}
        if expect_answer:
            with self._lock:
                self._pending[rid] = (threading.Event(), [])
        if self.connected:
            self._send_request(body)
        else:
            with self._lock:
                self._unsent.append(body)
        return rid

    def wait_answer(self, rid: str, timeout: float) -> dict | None:
        if threading.current_thread() is self._thread:
            self._error(RuntimeError(f"waited for the answer to {rid} on the link's own thread: it could never arrive"))
            return None
        with self._lock:
            entry = self._pending.get(rid)
        if entry is None:
            return None
        arrived = entry[0].wait(timeout)
        with self._lock:
            self._pending.pop(rid, None)
        return entry[1][0] if arrived and entry[1] else None

    def call(self, action: str, *, timeout: float = 5.0, request_id: str | None = None, **params) -> dict | None:
        if not self.connected:
            return None
        return self.wait_answer(self.request(action, request_id=request_id, **params), timeout)

    def send_result(self, command_id: str, status: str, message: str | None = None) -> None:
        body = {"id": command_id, "at": self.now().isoformat(), "status": status}
        if message:
            body["message"] = message[:200]
        self.publish_raw(topics.result(self.hall, self.device), json.dumps(body, ensure_ascii=False).encode())

    def publish_raw(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        with self._lock:
            self.published.append(Sent(topic, payload, retain))

    # -- inside: the link's own thread -------------------------------------------

    def close(self) -> None:
        """End the link's thread (the test is over): it holds the roles' handlers, and so the roles."""
        self._work.put((None, None))

    def _network(self) -> None:
        while True:
            fn, done = self._work.get()
            if fn is None:
                return
            try:
                fn()
            except BaseException as exc:  # noqa: BLE001 - kept for the test, as the real link logs it
                self._error(exc)
            finally:
                if done is not None:
                    done.set()

    def _post(self, fn) -> None:
        self._work.put((fn, None))

    def _run(self, fn, timeout: float = WAIT) -> None:
        """Do fn on the link's thread and wait until it (and what it queued before) is done."""
        if threading.current_thread() is self._thread:
            fn()
            return
        done = threading.Event()
        self._work.put((fn, done))
        if not done.wait(timeout):
            stack = "".join(traceback.format_stack(sys._current_frames()[self._thread.ident]))
            raise AssertionError(f"the link's thread is still busy after {timeout} s (a handler blocked it), in:\n{stack}")

    def _error(self, exc: BaseException) -> None:
        log.error("on %s's link: %r", self.device, exc)
        self.errors.append(exc)

    def _connect(self) -> None:
        if self._up.is_set():
            return
        self.publish_raw(topics.availability(self.hall, self.device), b"online", retain=True)
        self._up.set()
        self._tell(True)
        with self._lock:
            waiting, self._unsent = self._unsent, []
        for body in waiting:
            self._send_request(body)
        self._send_retained(list(self._subs))

    def _disconnect(self) -> None:
        if self._up.is_set():
            self._up.clear()
            self._tell(False)

    def _tell(self, up: bool) -> None:
        for listener in list(self._link_listeners):
            try:
                listener(up)
            except Exception as exc:  # noqa: BLE001 - as DeviceLink._tell
                self._error(exc)

    def _send_retained(self, filters: list[str]) -> None:
        with self._lock:
            retained = list(self._retained.items())
        for topic, data in retained:
            if any(topics.matches(f, topic) for f in filters):
                self._on_message(topic, data, only=filters)

    def _on_message(self, topic: str, data: bytes, only: list[str] | None = None) -> None:
        """As DeviceLink._on_message: JSON objects only, answers to their request, the rest to the handlers."""
        try:
            body = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return
        if not isinstance(body, dict):
            return
        if topic == topics.response(self.hall, self.device):
            with self._lock:
                entry = self._pending.get(body.get("id"))
            if entry is not None and not entry[0].is_set():
                entry[1].append(body)
                entry[0].set()
            return
        for topic_filter, handler in list(self._subs.items()):
            if (only is None or topic_filter in only) and topics.matches(topic_filter, topic):
                try:
                    handler(body)
                except Exception as exc:  # noqa: BLE001 - as DeviceLink._on_message
                    self._error(exc)

    def _send_request(self, body: dict) -> None:
        payload = json.dumps(body, ensure_ascii=False).encode()
        self.publish_raw(topics.request(self.hall, self.device), payload)
        answer = self._answer(payload, body)
        if answer is not None:
            data = schemas.encode(answer)
            self._post(lambda: self._on_message(topics.response(self.hall, self.device), data))
            return
        with self._lock:  # never answered: the caller stops waiting now rather than after its timeout
            entry = self._pending.get(body["id"])
        if entry is not None:
            entry[0].set()

    def _answer(self, payload: bytes, body: dict) -> dict | None:
        """The server's answer to one request: checked as the bridge checks it, then the scripted reply."""
        try:
            req = schemas.parse_request(payload)
        except schemas.BadRequest as exc:
            return schemas.error(exc.request_id, exc.code, exc.message)
        if self.role is not None and req.action not in schemas.ROLE_ACTIONS.get(self.role, ()):
            return schemas.error(req.id, "action_not_allowed", f"a {self.role} may not {req.action}")
        reply = self.respond(body) if callable(self.respond) else self.respond.get(req.action)
        if callable(reply):
            reply = reply(body)
        if reply is None:
            return None
        if isinstance(reply, dict) and reply.get("status") in ("ok", "error"):
            return {**reply, "id": req.id}
        return schemas.ok(req.id, reply)

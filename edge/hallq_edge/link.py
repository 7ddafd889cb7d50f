"""A device's MQTT link: credentials, Last Will, request/response, subscriptions.

On every (re)connect it announces itself `online` (retained; the broker
publishes the retained `offline` Last Will when the link dies), subscribes
again, and tells the role the link is up. A request carries a unique id and
the time it was sent; the server answers each id once, and a repeat (QoS 1
can deliver twice, and paho resends unacknowledged messages after a
reconnect) gets the same answer.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from typing import Callable

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from hallq_protocol import client as mqtt_client
from hallq_protocol import topics

from .clock import utcnow


log = logging.getLogger("hallq_edge.link")


def new_request_id() -> str:
    return uuid.uuid4().hex


def _retry_after(answer: dict | None) -> float | None:
    """How long to wait before asking again, when the answer is `rate_limited`."""
    if not answer or answer.get("status") != "error" or answer.get("error", {}).get("code") != "rate_limited":
        return None
    wait = answer["error"].get("details", {}).get("retry_after")
    return min(max(float(wait), 0.05), 30.0) if isinstance(wait, (int, float)) and not isinstance(wait, bool) else 1.0


class DeviceLink:
    def __init__(self, *, hall: str, device: str, username: str, password: str, host: str = "127.0.0.1",
                 port: int = 1883, tls: bool = False, ca_file: str | None = None, keepalive: int = 15,
                 reconnect_delay: tuple[float, float] = (1, 10), now=utcnow):
        self.hall, self.device = hall, device
        self.now = now  # stamps requests and results; the server judges their age by its transport clock
        self.host, self.port = host, port
        self.keepalive = keepalive
        self._subs: dict[str, Callable[[dict], None]] = {}
        self._versions: dict[str, int] = {}  # retained topic → the newest version handed on
        self._link_listeners: list[Callable[[bool], None]] = []
        self._pending: dict[str, tuple[threading.Event, list]] = {}
        self._lock = threading.Lock()
        self._up = threading.Event()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=username, protocol=paho.MQTTv311)
        self.client.username_pw_set(username, password)
        if tls:
            self.client.tls_set(ca_certs=ca_file or None)
        self.client.will_set(topics.availability(hall, device), b"offline", qos=1, retain=True)
        self.client.reconnect_delay_set(min_delay=reconnect_delay[0], max_delay=reconnect_delay[1])
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message

    # -- life -------------------------------------------------------------

    def start(self) -> None:
        self.client.connect_async(self.host, self.port, keepalive=self.keepalive)
        self.client.loop_start()

    def stop(self) -> None:
        if self._up.is_set():
            self.client.publish(topics.availability(self.hall, self.device), b"offline", qos=1, retain=True).wait_for_publish(2)
        mqtt_client.stop(self.client)

    @property
    def connected(self) -> bool:
        return self._up.is_set()

    def wait_connected(self, timeout: float | None = None) -> bool:
        return self._up.wait(timeout)

    # -- subscriptions and link state --------------------------------------

    def subscribe(self, topic_filter: str, handler: Callable[[dict], None]) -> None:
        """Call handler(payload) for each JSON object arriving on the filter, across reconnects."""
        self._subs[topic_filter] = handler
        if self.connected:
            self.client.subscribe(topic_filter, qos=1)

    def on_link(self, listener: Callable[[bool], None]) -> None:
        """listener(True) when the link comes up, listener(False) when it drops (on the MQTT thread)."""
        self._link_listeners.append(listener)

    # -- requests ---------------------------------------------------------

    def request(self, action: str, *, request_id: str | None = None, expect_answer: bool = True, **params) -> str:
        """Send a request and return its id; the answer is awaited with wait_answer()."""
        rid = request_id or new_request_id()
        body = {"id": rid, "action": action, "at": self.now().isoformat(), **params}
        if expect_answer:
            with self._lock:
                self._pending[rid] = (threading.Event(), [])
        self.client.publish(topics.request(self.hall, self.device), json.dumps(body, ensure_ascii=False).encode(), qos=1)
        return rid

    def wait_answer(self, rid: str, timeout: float) -> dict | None:
        with self._lock:
            entry = self._pending.get(rid)
        if entry is None:
            return None
        arrived = entry[0].wait(timeout)
        with self._lock:
            self._pending.pop(rid, None)
        return entry[1][0] if arrived else None

    def call(self, action: str, *, timeout: float = 5.0, request_id: str | None = None, **params) -> dict | None:
        """Send a request and wait for its answer; None when offline or unanswered in time. Told
        `rate_limited` (the server refused it unseen), it asks again after the wait the server
        names, with the same id, while the timeout allows."""
        if not self.connected:
            return None
        deadline = time.monotonic() + timeout
        rid = request_id or new_request_id()
        while True:
            answer = self.wait_answer(self.request(action, request_id=rid, **params), max(0.0, deadline - time.monotonic()))
            wait = _retry_after(answer)
            if wait is None or time.monotonic() + wait >= deadline:
                return answer
            time.sleep(wait)

    def send_result(self, command_id: str, status: str, message: str | None = None) -> None:
        """Tell the server what came of one of its commands (on this device's result topic)."""
        body = {"id": command_id, "at": self.now().isoformat(), "status": status}
        if message:
            body["message"] = message[:200]
        self.client.publish(topics.result(self.hall, self.device), json.dumps(body, ensure_ascii=False).encode(), qos=1)

    def publish_raw(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        """Publish anywhere (tests use this to show the broker refusing what a device may not do)."""
        self.client.publish(topic, payload, qos=1, retain=retain)

    # -- paho callbacks ---------------------------------------------------

    def _on_connect(self, client, userdata, flags, reason_code, properties=None) -> None:
        if reason_code.is_failure:
            log.error("broker refused %s: %s", self.device, reason_code)
            return
        mqtt_client.no_delay(client)
        client.subscribe([(topics.response(self.hall, self.device), 1)] + [(t, 1) for t in self._subs])
        client.publish(topics.availability(self.hall, self.device), b"online", qos=1, retain=True)
        self._up.set()
        self._tell(True)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties=None) -> None:
        was_up = self._up.is_set()
        self._up.clear()
        if was_up:
            log.warning("%s lost the broker (%s)", self.device, reason_code)
            self._tell(False)

    def _stale(self, topic: str, body: dict) -> bool:
        """A retained message older than one already handed on for its topic (a broker that
        restarted from an old save replays such); each one newer is remembered."""
        version = body.get("version")
        if isinstance(version, bool) or not isinstance(version, int):
            return False  # a message with no version (an older server): nothing to compare
        route = topics.parse(topic)
        if route is None or route.kind not in topics.RETAINED_KINDS:
            return False  # calls carry their window's version, not the topic's
        with self._lock:
            if version < self._versions.get(topic, -1):
                return True
            self._versions[topic] = version
        return False

    def _tell(self, up: bool) -> None:
        for listener in list(self._link_listeners):
            try:
                listener(up)
            except Exception:
                log.exception("link listener failed")

    def _on_message(self, client, userdata, message) -> None:
        try:
            body = json.loads(message.payload.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            log.debug("ignored a payload that is not JSON on %s", message.topic)
            return
        if not isinstance(body, dict):
            return
        if message.topic == topics.response(self.hall, self.device):
            with self._lock:
                entry = self._pending.get(body.get("id"))
            if entry is not None and not entry[0].is_set():
                entry[1].append(body)
                entry[0].set()
            return
        if self._stale(message.topic, body):
            log.info("ignored an older message on %s (version %s)", message.topic, body.get("version"))
            return
        for topic_filter, handler in list(self._subs.items()):
            if topics.matches(topic_filter, message.topic):
                try:
                    handler(body)
                except Exception:
                    log.exception("handler for %s failed", message.topic)

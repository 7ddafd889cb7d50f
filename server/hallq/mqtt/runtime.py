"""Starts HallQ's MQTT side inside the serving process: the embedded broker
(unless MQTT_URL names an external one), the server's link, the request bridge
and the publisher, added to the hall engine's publisher."""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import datetime
from pathlib import Path
from typing import Callable
from urllib.parse import quote

from hallq.core.devices.service import DeviceService
from hallq_protocol.shapes import BLOCK_SIZE, REQUEST_MAX_AGE

from ..core.clock import utcnow
from ..core.service import HallService
from .bridge import RequestBridge
from .broker import SERVER_USER, Directory, EmbeddedBroker, broker_limits
from .link import ServerLink
from .printing import PrintDesk
from .publisher import MqttPublisher

log = logging.getLogger("hallq.mqtt")


class MqttRuntime:
    """Everything MQTT for one HallService; start() and stop()."""

    def __init__(self, halls: HallService, *, devices: DeviceService | None = None, url: str = "", host: str = "127.0.0.1", port: int = 1883,
                 request_max_age: float = REQUEST_MAX_AGE, block_size: int = BLOCK_SIZE, public_base_url: str = "", client_id: str = "",
                 certfile: str = "", keyfile: str = "", max_message_bytes: int = 16384, recheck_seconds: float = 2.0, max_connections: int = 0,
                 probe_seconds: float = 10.0, device_rate: float = 10.0, device_burst: int = 50, device_queue: int = 100,
                 now: Callable[[], datetime] = utcnow):
        self.halls = halls
        self.devices = devices or DeviceService(halls)
        self.broker: EmbeddedBroker | None = None
        if not url:
            self.directory = Directory(halls.db)
            self.broker = EmbeddedBroker(self.directory, host=host, port=port, certfile=certfile or None, keyfile=keyfile or None,
                                         max_message_bytes=max_message_bytes, recheck_seconds=recheck_seconds, max_connections=max_connections,
                                         local_sink=self._take_in_process, **broker_limits(device_rate, device_burst))
            local = "127.0.0.1" if certfile or host in ("0.0.0.0", "::", "") else host
            url = f"mqtt://{SERVER_USER}:{quote(self.directory.server_password, safe='')}@{local}:{self.broker.local_port}"
        self.url = url
        # `now` is the transport's clock: messages' ages, the devices' clock check; the hall's own
        # time comes from halls.clock.
        # Each device's requests: `device_rate` a second on average, bursts of `device_burst`, at most
        # `device_queue` waiting; past that, `rate_limited` (see inbox.py).
        self.bridge = RequestBridge(halls, self.devices, send=self._send_response, max_age=request_max_age, now=now,
                                    rate=device_rate, burst=device_burst, max_queued=device_queue)
        self.publisher = MqttPublisher(halls, self.devices, self._send, request_max_age=request_max_age,
                                       block_size=block_size, public_base_url=public_base_url, now=now)
        # One client id per process: several servers behind one broker must not kick each other off.
        client_id = client_id or f"hallq-server-{socket.gethostname()}-{os.getpid()}"
        self.printing = PrintDesk(self.devices, self._send_response, lambda: self.link.connected.is_set(), now=now)
        # The threads that republish after a (re)connect and send a device its configuration:
        # stop() waits for them, so none reads the database after its owner has closed it.
        self._helpers: list[threading.Thread] = []
        self._helpers_lock = threading.Lock()
        self.link = ServerLink(url, client_id=client_id, on_request=self.bridge.submit,
                               on_availability=self._availability, on_connected=self._connected,
                               on_result=self.printing.on_result, probe_seconds=probe_seconds)

    def start(self) -> "MqttRuntime":
        if self.broker is not None:
            self.broker.start()
        self.halls.subscribe(self.publisher)
        self.bridge.start()
        self.link.start()
        return self

    def stop(self) -> None:
        self.halls.unsubscribe(self.publisher)
        self.link.stop()
        with self._helpers_lock:
            helpers, self._helpers = self._helpers, []
        for helper in helpers:
            helper.join(10)
        self.bridge.stop()
        if self.broker is not None:
            self.broker.stop()

    @property
    def port(self) -> int | None:
        return self.broker.port if self.broker else self.link.conf["port"]

    def _take_in_process(self, topic: str, payload: bytes) -> bool:
        return self.link.take(topic, payload)

    def _send(self, topic: str, payload: bytes, retain: bool) -> None:
        if self.broker is not None:
            self.broker.deliver(topic, payload, retain)
            return
        if not retain and not self.link.connected.is_set():
            # paho would queue it for after the reconnect: a call announced minutes
            # late is worse than none (the retained window state says it anyway).
            return
        self.link.publish(topic, payload, retain=retain)

    def _send_response(self, topic: str, payload: bytes) -> None:
        if self.broker is not None:
            self.broker.deliver(topic, payload, False)
            return
        self.link.publish(topic, payload, retain=False)

    def _connected(self) -> None:
        # Off the MQTT thread: reading every window and device takes a while.
        self._helper(self._after_connect, name="mqtt-republish")

    def _helper(self, target: Callable, *args, name: str) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        with self._helpers_lock:
            self._helpers = [t for t in self._helpers if t.is_alive()]
            self._helpers.append(thread)
        thread.start()

    def _after_connect(self) -> None:
        self.publisher.republish_all()
        try:
            self.bridge.forget_old_requests()  # a day's request log is plenty: older repeats are refused by age
        except Exception:
            log.exception("could not prune the device request log")

    def _availability(self, hall: str, device: str, payload: bytes) -> None:
        self.bridge.submit_availability(hall, device, payload)
        if payload.strip() == b"online":
            self._helper(self._send_config, hall, device, name="mqtt-config")

    def _send_config(self, hall: str, name: str) -> None:
        from hallq.core.devices import registry as devices

        from ..core.errors import HallError

        try:
            with self.halls.db.read() as session:
                found = [d for d in devices.all_active(session, hall) if d.name == name]
            for device in found:
                self.publisher.publish_config(hall, device)
        except HallError:
            pass


def check_port(settings) -> None:
    """Before serving: broker.PortTaken when the embedded broker's port is taken,
    ValueError when MQTT_URL is not an MQTT URL (each with a plain message)."""
    from .broker import check_port as check
    from .link import parse_url

    if not settings.mqtt_enabled:
        return
    if settings.mqtt_url:
        parse_url(settings.mqtt_url)
        return
    if bool(settings.mqtt_certfile) != bool(settings.mqtt_keyfile):
        raise ValueError("give both mqtt_certfile and mqtt_keyfile for TLS, or neither")
    for path in (settings.mqtt_certfile, settings.mqtt_keyfile):
        if path and not Path(path).is_file():
            raise ValueError(f"no such file: {path}")
    check(settings.mqtt_host, settings.mqtt_port)


def start_for(hallq) -> MqttRuntime | None:
    """Start HallQ's MQTT side as its settings say, and set it on hallq (None when turned off)."""
    settings = hallq.settings
    if not settings.mqtt_enabled:
        return None
    hallq.mqtt = runtime = MqttRuntime(
        hallq.halls, devices=hallq.devices, url=settings.mqtt_url, host=settings.mqtt_host, port=settings.mqtt_port,
        request_max_age=settings.mqtt_request_max_age, block_size=settings.mqtt_block_size,
        public_base_url=settings.tracker_base_url, certfile=settings.mqtt_certfile, keyfile=settings.mqtt_keyfile,
        max_message_bytes=settings.mqtt_max_message_bytes, recheck_seconds=settings.mqtt_recheck_seconds,
        max_connections=settings.mqtt_max_connections,
        device_rate=settings.mqtt_device_rate, device_burst=settings.mqtt_device_burst, device_queue=settings.mqtt_device_queue,
    ).start()
    return runtime

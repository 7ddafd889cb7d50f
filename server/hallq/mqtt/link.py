"""The server's own MQTT client: it listens to the devices' requests and availability (shared with
the server's other processes: each message reaches one of them) and to every command result, and
publishes what the publisher hands it. On every (re)connect it subscribes again and asks for all
retained state to be republished.

It also checks that the broker still delivers to it: every `probe_seconds` it sends itself a
message on a topic of its own, and if the last one has not come back by then and nothing else
has come in since it was sent, its subscriptions are gone (a broker that let another client take
its session, say) while the connection is up; it drops the connection and connects again, which
subscribes afresh. A probe stuck behind a flood of messages is no sign of that: the messages
coming in are the proof that the broker still delivers."""

from __future__ import annotations

import logging
import secrets
import socket
import threading
import time
from typing import Callable
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from hallq_protocol import client as mqtt_client
from hallq_protocol import topics


log = logging.getLogger("hallq.mqtt.link")


def parse_url(url: str) -> dict:
    """mqtt://user:password@host:port (mqtts:// for TLS) → connection settings."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
        shown = parts._replace(netloc=parts.hostname or "").geturl() if parts.password else url  # never print a password
        raise ValueError(f"MQTT_URL must look like mqtt://user:password@host:port (or mqtts://), not {shown!r}")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("MQTT_URL has a port that is not a number") from None
    tls = parts.scheme in ("mqtts", "ssl")
    return {
        "host": parts.hostname or "127.0.0.1",
        "port": port or (8883 if tls else 1883),
        "username": unquote(parts.username) if parts.username else None,
        "password": unquote(parts.password) if parts.password else None,
        "tls": tls,
    }


class ServerLink:
    """One paho client with automatic reconnect; handlers run on paho's thread."""

    def __init__(self, url: str, *, client_id: str = "hallq-server", on_request: Callable, on_availability: Callable,
                 on_connected: Callable[[], None], on_result: Callable | None = None, probe_seconds: float = 10.0):
        self.conf = parse_url(url)
        self.probe_topic = topics.server_probe(client_id)
        self.probe_seconds = probe_seconds
        self._probe: tuple[bytes, float] | None = None  # the probe on its way, and when it was sent (monotonic)
        self._heard = 0.0  # when the last message of any kind came in (monotonic)
        self._stopped = threading.Event()
        self.restored = 0  # how many times the subscriptions were found gone and the link renewed
        self.on_request = on_request
        self.on_availability = on_availability
        self.on_result = on_result
        self.on_connected = on_connected
        self.connected = threading.Event()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv311)
        if self.conf["username"]:
            self.client.username_pw_set(self.conf["username"], self.conf["password"])
        if self.conf["tls"]:
            self.client.tls_set()
        self.client.reconnect_delay_set(min_delay=1, max_delay=5)
        self.client.max_queued_messages_set(10000)
        # Answers must not wait behind paho's window of 20 unacknowledged QoS 1 messages (a flood's
        # refusals filled it); and requests come at QoS 0 (on_connect): docs/mqtt.md says why.
        self.client.max_inflight_messages_set(0)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message

    def start(self) -> None:
        self.client.connect_async(self.conf["host"], self.conf["port"], keepalive=30)
        self.client.loop_start()
        if self.probe_seconds > 0:
            threading.Thread(target=self._watch, name="mqtt-server-probe", daemon=True).start()

    def stop(self) -> None:
        self._stopped.set()
        mqtt_client.stop(self.client)

    def _watch(self) -> None:
        while not self._stopped.wait(self.probe_seconds):
            try:
                self.check()
            except Exception:  # the watch must go on
                log.exception("could not probe the MQTT broker")

    def check(self) -> None:
        """One round of the watch: renew the link if the last probe never came back, then send the next."""
        if not self.connected.is_set():
            self._probe = None
            return
        last = self._probe
        if last is not None and self._heard <= last[1]:  # a whole round, and neither it nor anything else came in
            self._probe = None
            self.restored += 1
            log.error("the MQTT broker no longer delivers to the server (its probe did not come back in %.1f s): "
                      "connecting again", time.monotonic() - last[1])
            self._drop()
            return
        # Nothing on its way, or it is not back yet but other messages came in since it was sent
        # (the broker delivers; the probe waits behind them): the next one, which the following
        # round judges afresh (the one still on its way is ignored when it comes).
        token = secrets.token_hex(8).encode()
        self._probe = (token, time.monotonic())
        self.client.publish(self.probe_topic, token, qos=1)

    def _drop(self) -> None:
        """End the connection as if the network had: paho reconnects, and on_connect subscribes again."""
        sock = self.client.socket()
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def publish(self, topic: str, payload: bytes, *, retain: bool = False, qos: int = 1) -> None:
        self.client.publish(topic, payload, qos=qos, retain=retain)

    def _on_connect(self, client, userdata, flags, reason_code, properties=None) -> None:
        if reason_code.is_failure:
            log.error("MQTT broker refused the server: %s", reason_code)
            return
        mqtt_client.no_delay(client)
        self._probe = None
        # Requests and availability through a shared subscription: with several server processes on one
        # broker, each message goes to one of them. Command results go to all: the process that sent
        # the command is the one waiting for its result.
        client.subscribe([(topics.shared(topics.every_request()), 0), (topics.shared(topics.every_availability()), 1),
                          (topics.every_result(), 1), (self.probe_topic, 1)])
        self.connected.set()
        log.info("connected to the MQTT broker at %s:%s", self.conf["host"], self.conf["port"])
        self.on_connected()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties=None) -> None:
        self.connected.clear()
        log.warning("lost the MQTT broker (%s); reconnecting", reason_code)

    def _on_message(self, client, userdata, message) -> None:
        self._heard = time.monotonic()
        if message.topic == self.probe_topic:
            probe = self._probe
            if probe is not None and message.payload == probe[0]:
                self._probe = None
            return
        self._dispatch(message.topic, message.payload, kinds=("request", "availability", "result"))

    def take(self, topic: str, payload: bytes) -> bool:
        """A device's request or availability handed over inside the process by the embedded broker
        (on its thread), instead of through this link: True when it was one of those."""
        return self._dispatch(topic, payload, kinds=("request", "availability"))

    def _dispatch(self, topic: str, payload: bytes, *, kinds: tuple[str, ...]) -> bool:
        route = topics.parse(topic)
        if route is None or route.device is None or route.kind not in kinds:
            return False
        try:
            if route.kind == "request":
                self.on_request(route.hall, route.device, payload)
            elif route.kind == "availability":
                self.on_availability(route.hall, route.device, payload)
            elif route.kind == "result" and self.on_result is not None:
                self.on_result(route.hall, route.device, payload)
        except Exception:  # one bad message must not stop the link
            log.exception("could not handle a message on %s", topic)
        return True

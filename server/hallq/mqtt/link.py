"""The server's own MQTT client: it listens to every device's requests,
availability and command results, and publishes what the publisher hands it. On every (re)connect
it subscribes again and asks for all retained state to be republished."""

from __future__ import annotations

import logging
import threading
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
                 on_connected: Callable[[], None], on_result: Callable | None = None):
        self.conf = parse_url(url)
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
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message

    def start(self) -> None:
        self.client.connect_async(self.conf["host"], self.conf["port"], keepalive=30)
        self.client.loop_start()

    def stop(self) -> None:
        mqtt_client.stop(self.client)

    def publish(self, topic: str, payload: bytes, *, retain: bool = False, qos: int = 1) -> None:
        self.client.publish(topic, payload, qos=qos, retain=retain)

    def _on_connect(self, client, userdata, flags, reason_code, properties=None) -> None:
        if reason_code.is_failure:
            log.error("MQTT broker refused the server: %s", reason_code)
            return
        mqtt_client.no_delay(client)
        client.subscribe([(topics.every_request(), 1), (topics.every_availability(), 1), (topics.every_result(), 1)])
        self.connected.set()
        log.info("connected to the MQTT broker at %s:%s", self.conf["host"], self.conf["port"])
        self.on_connected()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties=None) -> None:
        self.connected.clear()
        log.warning("lost the MQTT broker (%s); reconnecting", reason_code)

    def _on_message(self, client, userdata, message) -> None:
        route = topics.parse(message.topic)
        if route is None or route.device is None:
            return
        try:
            if route.kind == "request":
                self.on_request(route.hall, route.device, message.payload)
            elif route.kind == "availability":
                self.on_availability(route.hall, route.device, message.payload)
            elif route.kind == "result" and self.on_result is not None:
                self.on_result(route.hall, route.device, message.payload)
        except Exception:  # one bad message must not stop the link
            log.exception("could not handle a message on %s", message.topic)

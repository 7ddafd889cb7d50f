"""Brokers from the outside: probing one with a bare client, and finding Mosquitto."""

from __future__ import annotations

import os
import shutil
import threading
import time

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from hallq_protocol import client as mqtt_client

from .project import IN_CI


def try_connect(port: int, username: str | None, password: str | None, *, client_id: str | None = None,
                clean_session: bool = True) -> str:
    """Connect once and return the broker's CONNACK reason ('Success' or a refusal; 'no answer' when
    the broker closed the connection without one). The client id is the one the user owns unless given."""
    result: list[str] = []
    done = threading.Event()
    if client_id is None:
        client_id = f"hallq-server-probe-{time.monotonic_ns()}" if username == "hallq-server" else username or f"probe-{time.monotonic_ns()}"
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=clean_session)
    if username is not None:
        client.username_pw_set(username, password)

    def on_connect(c, u, flags, reason_code, props):
        result.append(str(reason_code))
        done.set()

    def on_disconnect(c, u, flags, reason_code, props):
        result.append(str(reason_code))
        done.set()

    client.on_connect, client.on_disconnect = on_connect, on_disconnect
    try:
        client.connect("127.0.0.1", port)
    except OSError as exc:
        return f"socket: {exc}"
    client.loop_start()
    done.wait(20)
    mqtt_client.stop(client)
    return result[0] if result else "no answer"


REDIS_URL = os.environ.get("HALLQ_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def require_redis() -> str:
    """REDIS_URL when Redis answers there; skips otherwise (fails in CI, where it must run)."""
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception as exc:  # noqa: BLE001 - any failure means "not here"
        message = f"Redis not reachable at {REDIS_URL}: {exc}"
        if IN_CI:
            pytest.fail(message + " (CI=true: Redis tests must run)")
        pytest.skip(message)
    return REDIS_URL


def mosquitto_binary() -> str:
    path = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if os.path.exists("/usr/sbin/mosquitto") else None)
    if path is None:
        if IN_CI:
            pytest.fail("mosquitto is not installed (CI=true: the Mosquitto tests must run)")
        pytest.skip("mosquitto is not installed")
    return path

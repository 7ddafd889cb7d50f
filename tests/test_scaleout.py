"""Two server processes sharing one database and a Redis message queue: an
event caused on one reaches a browser connected to the other."""

from __future__ import annotations

import os
import time

import pytest

from conftest import IN_CI
from test_cli import call, free_port, hallq, open_all_day, start_server

REDIS_URL = os.environ.get("HALLQ_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def require_redis():
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception as exc:  # noqa: BLE001 - any failure means "not here"
        message = f"Redis not reachable at {REDIS_URL}: {exc}"
        if IN_CI:
            pytest.fail(message + " (CI=true: Redis tests must run)")
        pytest.skip(message)


def test_events_cross_processes_through_redis(tmp_path):
    require_redis()
    import socketio

    env = dict(os.environ, HALLQ_INSTANCE_PATH=str(tmp_path / "instance"), HALLQ_REDIS_URL=REDIS_URL, HALLQ_LOG_LEVEL="WARNING")
    env.pop("HALLQ_DATABASE_URL", None)
    env.pop("DATABASE_URL", None)
    hallq(env, "hall", "load", str(open_all_day(tmp_path)))
    hallq(env, "user", "add", "kiosk", "--role", "device", "--hall", "district", "--password-stdin", input="kiosk-password\n")
    token = hallq(env, "token", "create", "kiosk").stdout.strip()
    a, base_a = start_server(env, free_port())
    b, base_b = start_server(env, free_port())
    client = socketio.Client()
    got = []
    client.on("event", lambda e: got.append(e))
    try:
        client.connect(base_b, transports=["websocket"])
        assert client.call("join", {"hall": "district"}, timeout=10) == {"ok": True}
        status, ticket = call(base_a, "POST", "/api/v1/halls/district/tickets", token, {"service": "MI"})
        assert status == 201
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not any(e["data"].get("number") == ticket["number"] for e in got):
            time.sleep(0.1)
        assert any(e["kind"] == "ticket.issued" and e["data"]["number"] == ticket["number"] for e in got)
    finally:
        client.disconnect()
        for proc in (a, b):
            proc.terminate()
            proc.wait(timeout=20)

"""Two server processes sharing one database and a Redis message queue: an
event caused on one reaches a browser connected to the other."""

from __future__ import annotations

import os
import time


from hallq.ports import free_port
from support.brokers import REDIS_URL, require_redis
from support.cli import call, hallq, open_all_day, start_server
from support.waiting import wait_for


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


def test_two_worker_processes_share_one_numbering_one_broker_and_the_browser_rooms(tmp_path):
    require_redis()
    import json as jsonlib
    from concurrent.futures import ThreadPoolExecutor

    import psutil
    import socketio

    from hallq_edge.link import DeviceLink

    env = dict(os.environ, HALLQ_INSTANCE_PATH=str(tmp_path / "instance"), HALLQ_REDIS_URL=REDIS_URL,
               HALLQ_LOG_LEVEL="WARNING", HALLQ_WORKERS="2")
    for var in ("HALLQ_DATABASE_URL", "DATABASE_URL"):
        env.pop(var, None)
    hallq(env, "hall", "load", str(open_all_day(tmp_path)))
    hallq(env, "user", "add", "kiosk", "--role", "device", "--hall", "district", "--password-stdin", input="kiosk-password\n")
    token = hallq(env, "token", "create", "kiosk").stdout.strip()
    creds = jsonlib.loads(hallq(env, "device", "add", "--hall", "district", "--role", "dispenser", "--id", "disp-1", "--json").stdout)
    mqtt_port = free_port()
    server, base = start_server(env, free_port(), mqtt_port=mqtt_port)
    client = socketio.Client()
    seen = []
    client.on("event", lambda e: seen.append(e["data"].get("number")) if e["kind"] == "ticket.issued" else None)
    link = DeviceLink(hall="district", device="disp-1", username=creds["username"], password=creds["password"],
                      host="127.0.0.1", port=mqtt_port, reconnect_delay=(1, 1), keepalive=5)
    try:
        children = psutil.Process(server.pid).children()
        workers = [p for p in children if "serve" in p.cmdline()]  # forked by gunicorn: the same command line
        assert len(workers) == 2
        brokers = [p for p in children if "hallq.mqtt.broker_process" in p.cmdline()]  # the broker's own process
        assert len(brokers) == 1

        client.connect(base, transports=["websocket"])
        assert client.call("join", {"hall": "district"}, timeout=10) == {"ok": True}
        with ThreadPoolExecutor(8) as pool:  # spread over both workers by the kernel's accept queue
            answers = list(pool.map(lambda _: call(base, "POST", "/api/v1/halls/district/tickets", token, {"service": "SI"}), range(120)))
        link.start()
        assert link.wait_connected(30)
        by_device = link.call("issue_ticket", service="SI", timeout=30)

        assert [status for status, _ in answers] == [201] * 120
        http_numbers = sorted(t["number"] for _, t in answers)
        assert http_numbers == [f"A{n:03d}" for n in range(1, 121)]  # one numbering: no gap, no repeat
        assert by_device["status"] == "ok" and by_device["data"]["number"] == "A121"
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and len(set(seen)) < 121:
            time.sleep(0.1)
        assert set(seen) == set(http_numbers) | {"A121"}  # every issue reached the browser, whichever process made it

        brokers[0].kill()  # the broker dies: the server starts it again, devices and workers come back
        wait_for(lambda: not link.connected, what="the device to lose the broker")
        assert link.wait_connected(60)
        again = wait_for(lambda: (a := link.call("issue_ticket", service="SI", timeout=5)) and a, timeout=60, what="an answer again")
        assert again["status"] == "ok" and again["data"]["number"] == "A122"
        children = psutil.Process(server.pid).children()
    finally:
        link.stop()
        client.disconnect()
        server.terminate()
        server.wait(timeout=30)
    log = server.stderr.read()
    assert "Traceback" not in log and "AssertionError" not in log  # workers and broker stopped cleanly
    assert "embedded MQTT broker is back" in log
    def alive(proc) -> bool:
        try:
            return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(alive(p) for p in children):
        time.sleep(0.2)
    assert not any(alive(p) for p in children)  # the workers and the broker stopped with the server


def test_several_workers_without_redis_are_refused_plainly(tmp_path):
    env = dict(os.environ, HALLQ_INSTANCE_PATH=str(tmp_path / "instance"), HALLQ_LOG_LEVEL="WARNING")
    for var in ("REDIS_URL", "HALLQ_REDIS_URL"):
        env.pop(var, None)
    result = hallq(env, "serve", "--port", str(free_port()), "--workers", "3", check=False)

    assert result.exit_code != 0
    assert "3 workers need REDIS_URL" in result.output


def test_the_sign_in_limiter_counts_across_processes_through_redis():
    require_redis()
    from hallq.web.ratelimit import RedisLoginLimiter

    key = f"user:test-{time.monotonic_ns()}"
    first, second = RedisLoginLimiter(REDIS_URL, max_failures=3), RedisLoginLimiter(REDIS_URL, max_failures=3)
    first.failed(key)
    second.failed(key)
    assert first.retry_after(key) == 0
    first.failed(key)

    assert 0 < second.retry_after(key) <= 301  # the third failure, made elsewhere, locks this one out too
    second.succeeded(key)
    assert first.retry_after(key) == 0

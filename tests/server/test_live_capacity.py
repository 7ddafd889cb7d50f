"""Issue 15: how many live (Socket.IO) connections one `hallq serve` process holds, and what the
next one gets. Each test runs the real server (gunicorn's threaded workers) and connects real
WebSockets, speaking Engine.IO/Socket.IO as the pages' client does."""

from __future__ import annotations

import json
import time

import pytest
import websocket

from hallq.ports import free_port
from support.cli import command_env, hallq, open_all_day, start_server

pytestmark = pytest.mark.slow


class Refused(Exception):
    def __init__(self, status: int, body: bytes, headers: dict):
        super().__init__(f"HTTP {status}")
        self.status, self.body, self.headers = status, body, headers


def join(base: str, hall: str = "district") -> websocket.WebSocket:
    """A browser's live connection that has joined the hall's room (as the pages' client does), or Refused."""
    ws = websocket.WebSocket()
    try:
        ws.connect(base.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket", origin=base, timeout=10)
    except websocket.WebSocketBadStatusException as exc:
        raise Refused(exc.status_code, exc.resp_body or b"", exc.resp_headers or {}) from None
    assert ws.recv().startswith("0{")  # Engine.IO open
    ws.send("40")
    assert ws.recv().startswith("40{")  # Socket.IO connected
    ws.send('421["join",{"hall":"%s"}]' % hall)
    while not (message := ws.recv()).startswith("431"):
        pass
    assert json.loads(message[3:]) == [{"ok": True}]
    return ws


@pytest.fixture
def serve(tmp_path):
    """serve(**settings) → the base URL of a `hallq serve` with those settings (HALLQ_…), stopped afterwards."""
    procs = []

    def start(**settings) -> str:
        env = command_env(tmp_path)
        env.update({f"HALLQ_{k.upper()}": str(v) for k, v in settings.items()})
        hallq(env, "hall", "load", str(open_all_day(tmp_path)))
        proc, base = start_server(env, free_port())
        procs.append(proc)
        return base

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(15)


def test_a_hundred_browsers_connect_to_one_process_with_the_default_settings(serve):
    """The 65th browser used to wait for a thread that never came: with the defaults a process
    holds 2,000 (the benchmark city_load.py fills them)."""
    base = serve()
    sockets = []
    try:
        for _ in range(100):
            sockets.append(join(base))
        assert len(sockets) == 100
    finally:
        for ws in sockets:
            ws.close()


def test_past_its_live_connections_a_process_refuses_the_next_at_once_and_takes_it_once_one_leaves(serve):
    base = serve(live_connections=5, threads=4)
    sockets = [join(base) for _ in range(5)]
    try:
        started = time.monotonic()
        with pytest.raises(Refused) as refused:
            join(base)
        assert time.monotonic() - started < 5  # answered, not left hanging
        assert refused.value.status == 503
        assert json.loads(refused.value.body)["error"]["code"] == "server_full"
        assert {k.lower(): v for k, v in refused.value.headers.items()}["retry-after"] == "5"

        # The connections already open carry on, and a place freed is taken again.
        sockets.pop().close()
        deadline = time.monotonic() + 10
        while True:
            try:
                sockets.append(join(base))
                break
            except Refused:  # the server has not seen the close yet
                assert time.monotonic() < deadline
                time.sleep(0.2)
        assert len(sockets) == 5
    finally:
        for ws in sockets:
            ws.close()

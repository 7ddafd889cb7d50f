"""The hallq command on a real SQLite file: in-process with click's runner (the `cli`
fixture), and run as a user runs it, in a subprocess (`hallq serve`, `hallq demo`)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time

from sqlmodel import select

from hallq.core.models import AuditEntry
from hallq.db import Database
from hallq.ports import free_port
from support.cli import call, hallq, open_all_day, start_demo, start_server
from support.project import EXAMPLE_HALL


def test_admin_commands(cli, tmp_path):
    assert "database at revision" in cli("db", "upgrade").stdout
    out = cli("hall", "load", str(EXAMPLE_HALL)).stdout
    assert "hall district loaded: 8 services, 20 windows" in out
    assert "created" in cli("user", "add", "li.na", "--role", "staff", "--hall", "district", "--password-stdin", input="a-long-password\n").stdout
    token = cli("token", "create", "li.na", "--label", "queue board").stdout.strip()
    assert token.startswith("hq_") and len(token) > 30
    assert cli("token", "create", "li.na").stdout.strip() != token
    db = Database.from_url(f"sqlite:///{tmp_path / 'instance' / 'hallq.db'}")
    with db.read() as session:
        made = session.exec(select(AuditEntry).where(AuditEntry.action == "token.create")).all()
        assert [(e.target, e.actor.startswith("cli:"), e.detail["label"]) for e in made] == [("li.na", True, "queue board"), ("li.na", True, "")]
        assert token not in str([e.detail for e in made])  # the token itself is never written down
        assert all(e.origin.startswith("cli@") for e in made)
    assert "nothing to archive" in cli("audit", "archive").stdout  # every line is younger than 180 days

    dup = cli("user", "add", "li.na", "--role", "staff", "--hall", "district", "--password-stdin", input="a-long-password\n", check=False)
    assert dup.returncode == 1 and "already exists" in dup.stderr
    weak = cli("user", "add", "bo", "--role", "staff", "--hall", "district", "--password-stdin", input="short\n", check=False)
    assert weak.returncode == 1 and "at least 8 characters" in weak.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text('[hall]\nid = "x"\nslug = "x"\nname = "x"\n[[services]]\ncode = "A"\nname = "a"\nprefix = "A"\nhandling_minutes = 5\nzone = "nowhere"\n')
    res = cli("hall", "load", str(bad), check=False)
    assert res.returncode == 1 and "unknown zone nowhere" in res.stderr and "Traceback" not in res.stderr


def test_serve_says_plainly_when_the_port_is_taken(env):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        res = hallq(dict(env, HALLQ_MQTT_PORT=str(free_port())), "serve", "--port", str(port), check=False)
    assert res.returncode != 0
    assert f"port {port} on 127.0.0.1 is already in use" in res.stderr and "--port" in res.stderr


def test_serve_says_where_the_dispensers_qr_codes_point(env):
    port = free_port()
    proc, _ = start_server(env, port)
    try:
        said = [proc.stdout.readline() for _ in range(2)]
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert f"tracker QR codes point at http://127.0.0.1:{port}; set public_base_url to change\n" in said


def test_kill_9_loses_nothing(cli, env, tmp_path):
    cli("hall", "load", str(open_all_day(tmp_path)))
    cli("user", "add", "wang", "--role", "staff", "--hall", "district", "--password-stdin", input="wang-password\n")
    token = cli("token", "create", "wang").stdout.strip()
    port = free_port()
    proc, base = start_server(env, port)
    try:
        numbers = [call(base, "POST", "/api/v1/halls/district/tickets", token, {"service": "SI"})[1]["number"] for _ in range(5)]
        assert numbers == ["A001", "A002", "A003", "A004", "A005"]
        assert call(base, "POST", "/api/v1/halls/district/windows/1/open", token)[0] == 200
        status, window = call(base, "POST", "/api/v1/halls/district/windows/1/call-next", token)
        assert status == 200 and window["ticket"]["number"] == "A001"
    finally:
        proc.send_signal(signal.SIGKILL)
        for child in _children(proc.pid):
            os.kill(child, signal.SIGKILL)
        proc.wait()
    proc, base = start_server(env, free_port())
    try:
        window = call(base, "GET", "/api/v1/halls/district/windows/1")[1]
        assert window["state"] == "serving" and window["ticket"]["number"] == "A001"
        si = next(s for s in call(base, "GET", "/api/v1/halls/district/queue")[1]["services"] if s["service"] == "SI")
        assert si["waiting"] == 4
        assert call(base, "POST", "/api/v1/halls/district/tickets", token, {"service": "SI"})[1]["number"] == "A006"
        assert call(base, "POST", "/api/v1/halls/district/windows/1/complete", token)[0] == 200
        assert call(base, "POST", "/api/v1/halls/district/windows/1/call-next", token)[1]["ticket"]["number"] == "A002"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _children(pid: int) -> list[int]:
    """Worker processes of a gunicorn master (they must die with it for a true crash)."""
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


def test_demo_shows_a_live_hall(env):
    port = free_port()
    proc, text = start_demo(env, "--port", str(port), "--rate", "20")
    base = f"http://127.0.0.1:{port}"
    try:
        assert f"{base}/api/v1/halls/district/queue" in text
        assert re.search(r"manager login\s+demo-manager / \S{8,}", text)
        deadline = time.monotonic() + 60
        serving = waiting = 0
        while time.monotonic() < deadline and not (serving and waiting):
            time.sleep(1)
            try:
                windows = call(base, "GET", "/api/v1/halls/district/windows")[1]["windows"]
                queue = call(base, "GET", "/api/v1/halls/district/queue")[1]["services"]
            except OSError:
                continue
            serving = sum(w["state"] == "serving" for w in windows)
            waiting = sum(s["waiting"] for s in queue)
        assert serving > 0, "no window called anyone"
        assert waiting > 0, "no visitor took a ticket"
    finally:
        proc.terminate()
        proc.wait(timeout=20)

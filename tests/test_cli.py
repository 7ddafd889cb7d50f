"""The hallq command, run as a user runs it: in a subprocess, on a real SQLite file."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import EXAMPLE_HALL
from hallq.ports import free_port  # noqa: F401  (also imported by test_scaleout)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def env(tmp_path):
    e = dict(os.environ, HALLQ_INSTANCE_PATH=str(tmp_path / "instance"), HALLQ_LOG_LEVEL="WARNING")
    for var in ("HALLQ_DATABASE_URL", "DATABASE_URL", "REDIS_URL", "HALLQ_REDIS_URL", "HALLQ_PORT"):
        e.pop(var, None)
    return e


def hallq(env, *args, input=None, check=True):
    """Run `hallq ARGS` in-process with click's runner (same code path, no interpreter start-up)."""
    from click.testing import CliRunner

    from hallq.cli import cli

    result = CliRunner().invoke(cli, list(args), input=input, env=env, catch_exceptions=False)
    if check and result.exit_code != 0:
        raise AssertionError(f"hallq {' '.join(args)} failed: {result.stderr}")
    result.returncode = result.exit_code
    return result


def open_all_day(tmp_path) -> Path:
    """The example hall with its hours opened around the clock, so tests run at any hour."""
    text = EXAMPLE_HALL.read_text(encoding="utf-8")
    text = text.replace('hours = ["08:30-12:00", "13:30-17:30"]', 'hours = ["00:00-24:00"]')
    text = text.replace('hours = ["09:00-12:00", "13:30-17:00"]', "hours = []")
    text = text.replace("stop_issuing_minutes_before_close = 15", "stop_issuing_minutes_before_close = 0")
    path = tmp_path / "hall.toml"
    path.write_text(text, encoding="utf-8")
    return path



def call(base, method, path, token=None, body=None):
    req = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode())
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def start_server(env, port, mqtt_port=None):
    """`hallq serve` in a subprocess on `port` (its embedded MQTT broker on another free port)."""
    env = dict(env, HALLQ_MQTT_PORT=str(mqtt_port or free_port()))
    proc = subprocess.Popen([sys.executable, "-m", "hallq", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError("server exited: " + proc.stderr.read())
        try:
            urllib.request.urlopen(base + "/api/v1/halls", timeout=1).read()
            return proc, base
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise AssertionError("server did not answer within 60 s")


def test_admin_commands(env, tmp_path):
    assert "database at revision" in hallq(env, "db", "upgrade").stdout
    out = hallq(env, "hall", "load", str(EXAMPLE_HALL)).stdout
    assert "hall district loaded: 8 services, 20 windows" in out
    assert "created" in hallq(env, "user", "add", "li.na", "--role", "staff", "--hall", "district", "--password-stdin", input="a-long-password\n").stdout
    token = hallq(env, "token", "create", "li.na").stdout.strip()
    assert token.startswith("hq_") and len(token) > 30
    assert hallq(env, "token", "create", "li.na").stdout.strip() != token

    dup = hallq(env, "user", "add", "li.na", "--role", "staff", "--hall", "district", "--password-stdin", input="a-long-password\n", check=False)
    assert dup.returncode == 1 and "already exists" in dup.stderr
    weak = hallq(env, "user", "add", "bo", "--role", "staff", "--hall", "district", "--password-stdin", input="short\n", check=False)
    assert weak.returncode == 1 and "at least 8 characters" in weak.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text('[hall]\nid = "x"\nslug = "x"\nname = "x"\n[[services]]\ncode = "A"\nname = "a"\nprefix = "A"\nhandling_minutes = 5\nzone = "nowhere"\n')
    res = hallq(env, "hall", "load", str(bad), check=False)
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


def test_kill_9_loses_nothing(env, tmp_path):
    hallq(env, "hall", "load", str(open_all_day(tmp_path)))
    hallq(env, "user", "add", "wang", "--role", "staff", "--hall", "district", "--password-stdin", input="wang-password\n")
    token = hallq(env, "token", "create", "wang").stdout.strip()
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


def start_demo(env, *args: str) -> tuple[subprocess.Popen, str]:
    """`hallq demo ARGS` in a subprocess, and what it printed up to "Press Ctrl+C"."""
    proc = subprocess.Popen([sys.executable, "-m", "hallq", "demo", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    banner = []
    while not any("Ctrl+C" in line for line in banner):
        line = proc.stdout.readline()
        if not line:
            proc.kill()
            raise AssertionError("demo exited: " + "".join(banner))
        banner.append(line)
    return proc, "".join(banner)


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

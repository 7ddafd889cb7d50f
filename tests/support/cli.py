"""The hallq command in tests: in-process with click's runner (`hallq`), or as a user runs
it, in a subprocess (`start_server`, `start_demo`), and the HTTP API of a served one (`call`).
The fixtures `env` and `cli` are the plugin cli_plugin.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from hallq.ports import free_port

from .project import EXAMPLE_HALL

# The machine's own settings a test's hallq must not pick up: it gets its own database (in its instance folder).
NOT_INHERITED = ("HALLQ_DATABASE_URL", "DATABASE_URL", "REDIS_URL", "HALLQ_REDIS_URL", "HALLQ_PORT")


def command_env(tmp_path: Path) -> dict:
    """The environment of a `hallq` subprocess of one test: its own instance folder, quiet logs."""
    e = dict(os.environ, HALLQ_INSTANCE_PATH=str(tmp_path / "instance"), HALLQ_LOG_LEVEL="WARNING")
    for var in NOT_INHERITED:
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
    text = text.replace('hours = ["08:30-12:00", "13:30-17:30"]', 'hours = ["00:00-24:00"]\ncalendar = "every_day"')
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

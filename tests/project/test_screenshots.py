"""The screenshot tool: it serves on the port it is given and photographs every page."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from hallq.ports import free_port
from support.browser import CHROMIUM
from support.project import IN_CI, ROOT

PICTURES = {"login", "staff-terminal", "manager-live-hall", "admin", "kiosk", "kiosk-ticket", "hall-screen-landscape",
            "hall-screen-portrait", "window-screen", "window-screen-paused", "phone-tracker", "manager-stats", "manager-cases", "manager-case"}


def screenshots(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hallq.web.screenshots", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def test_every_page_photographed_from_the_port_given(tmp_path):
    if not os.path.exists(CHROMIUM):
        if IN_CI:
            pytest.fail(f"Chromium not found at {CHROMIUM} (CI=true: browser tests must run)")
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    port = free_port()
    proc = screenshots("--out", str(tmp_path), "--port", str(port), "--history-days", "1")  # one simulated day: quicker
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    assert "simulated 1/1 days of history" in proc.stdout
    assert f"serving the example hall on http://127.0.0.1:{port}" in proc.stdout
    assert {p.stem for p in tmp_path.glob("*.png")} == PICTURES
    assert all(p.stat().st_size > 5000 for p in tmp_path.glob("*.png"))


def test_a_port_taken_is_a_plain_error(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = screenshots("--out", str(tmp_path), "--port", str(port))
    assert proc.returncode == 2
    assert f"port {port} on 127.0.0.1 is already in use; choose another with --port" in proc.stderr
    assert not list(tmp_path.glob("*.png"))

"""A real HallQ server for the browser tests: the example hall (open around the
clock) on a SQLite file, known accounts, served by gunicorn in a subprocess so a
test can stop and restart it on the same port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from hallq.core.office import OfficeService
from hallq.ports import free_port

ROOT = Path(__file__).resolve().parents[2]  # the repository (this file also runs as a script: no support imports)
PASSWORD = "pages-password"
ACCOUNTS = [
    ("mgr", "manager", "周经理", ""),
    ("staff01", "staff", "王芳", "1001"),
    ("staff02", "staff", "李娜", "1002"),
    ("kiosk", "device", "取号机", ""),
]


def prepare(db_url: str) -> None:
    """Create the schema, load the example hall and the test accounts."""
    from hallq.core.service import HallService
    from hallq.db import Database
    from hallq.demo import demo_spec

    db = Database.from_url(db_url)
    db.create_all()
    service = HallService(db)
    service.load_hall(demo_spec())
    for name, role, display, no in ACCOUNTS:
        OfficeService(service).add_user(name=name, role=role, password=PASSWORD, hall="district", display_name=display, staff_no=no)
    db.dispose()


class ServerProcess:
    """`python tests/support/pageserver.py DB_URL PORT INSTANCE [prepare]` as a child process."""

    def __init__(self, db_url: str, instance: Path, port: int | None = None, mqtt_port: int | None = None):
        self.db_url, self.instance, self.port = db_url, instance, port or free_port()
        self.mqtt_port = mqtt_port  # given: the server also runs its MQTT side (embedded broker on this port)
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, prepare: bool = False, timeout: float = 60.0) -> "ServerProcess":
        """Start serving; with prepare=True the child first creates the database (one Python start-up, not two)."""
        # The server's code first; what the caller had stays (the shifted runs' tests/shifted/sitecustomize.py).
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT / "server"), os.environ.get("PYTHONPATH")) if p)}
        if self.mqtt_port:
            env.update(HALLQ_MQTT_PORT=str(self.mqtt_port), PAGESERVER_MQTT="1")
        args = [sys.executable, __file__, self.db_url, str(self.port), str(self.instance)] + (["prepare"] if prepare else [])
        self.proc = subprocess.Popen(args, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the test server exited with {self.proc.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the test server did not start listening")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


def _serve(db_url: str, port: int, instance: str) -> None:
    from hallq.assembly import build
    from hallq.config import load_settings
    from hallq.web import create_app
    from hallq.web.server import serve

    settings = load_settings(database_url=db_url, instance_path=Path(instance), secret_key="pages-test-secret", log_level="WARNING")
    start_mqtt = None
    if os.environ.get("PAGESERVER_MQTT") == "1":
        from hallq.mqtt.runtime import start_for

        start_mqtt = lambda app: start_for(app.extensions["hallq"])  # noqa: E731
    serve(lambda: create_app(hallq=build(settings)), host="127.0.0.1", port=port, threads=24,
          live_connections=settings.live_connections, on_worker_start=start_mqtt)


if __name__ == "__main__":
    if sys.argv[4:] == ["prepare"]:
        prepare(sys.argv[1])
    _serve(sys.argv[1], int(sys.argv[2]), sys.argv[3])

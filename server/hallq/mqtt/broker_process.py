"""The embedded broker in a process of its own, for `hallq serve` with several workers.

With one server process the broker runs inside it (runtime.py). With several,
no worker can own it (gunicorn restarts workers, and each would want the
port), so `hallq serve` starts it here first and every worker connects to it
as it would to Mosquitto, with a server password made for this run.
"""

from __future__ import annotations

import logging
import multiprocessing
import secrets
import signal
import threading
from urllib.parse import quote

from .. import ports
from .broker import SERVER_USER

log = logging.getLogger("hallq.mqtt")


def _run(database_url: str, password: str, options: dict, log_level: str, ready) -> None:
    """The broker process: serve until SIGTERM."""
    from ..db import Database
    from .broker import Directory, EmbeddedBroker

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group; the parent stops us in order
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    broker = EmbeddedBroker(Directory(Database.from_url(database_url), password), **options)
    broker.start()
    ready.set()
    stop.wait()
    broker.stop()


def start(settings) -> tuple[multiprocessing.Process, str]:
    """Start the embedded broker in its own process; return it and the MQTT_URL the workers use."""
    password = secrets.token_urlsafe(24)
    local_port = ports.free_port() if settings.mqtt_certfile else settings.mqtt_port
    options = dict(
        host=settings.mqtt_host, port=settings.mqtt_port,
        certfile=settings.mqtt_certfile or None, keyfile=settings.mqtt_keyfile or None,
        max_message_bytes=settings.mqtt_max_message_bytes, recheck_seconds=settings.mqtt_recheck_seconds,
        local_port=local_port,
    )
    context = multiprocessing.get_context("spawn")  # never fork a process that runs threads
    ready = context.Event()
    process = context.Process(
        target=_run, args=(settings.effective_database_url, password, options, settings.log_level, ready),
        name="hallq-mqtt-broker", daemon=True,
    )
    process.start()
    while not ready.wait(0.1):
        if not process.is_alive():
            raise RuntimeError("the embedded MQTT broker's process stopped while starting (see the log above)")
    local = "127.0.0.1" if settings.mqtt_certfile or settings.mqtt_host in ("0.0.0.0", "::", "") else settings.mqtt_host
    log.info("embedded MQTT broker (pid %s) listening on %s:%s", process.pid, settings.mqtt_host, settings.mqtt_port)
    return process, f"mqtt://{SERVER_USER}:{quote(password, safe='')}@{local}:{local_port}"


def stop(process: multiprocessing.Process, timeout: float = 15.0) -> None:
    """Stop the broker process (its clients see the connection drop)."""
    if process.is_alive():
        process.terminate()
        process.join(timeout)
    if process.is_alive():
        process.kill()
        process.join(5)

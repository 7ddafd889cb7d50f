"""The embedded broker in a process of its own, for `hallq serve` with several workers.

With one server process the broker runs inside it (runtime.py). With several,
no worker can own it (gunicorn restarts workers, and each would want the
port), so `hallq serve` starts it here first and every worker connects to it
as it would to Mosquitto, with a server password made for this run.

The serving process supervises it: should it die, it is started again on the same
port with the same password (after a second, then up to 30 s between tries when it
keeps dying), and the devices and workers reconnect to it. It is a plain child
process (`python -m hallq.mqtt.broker_process`, its settings on its standard input,
so the password is on no command line), not a multiprocessing one: gunicorn forks the
workers from the serving process, and multiprocessing's exit handler in each of them
tried to test a process that was not its child.
"""

from __future__ import annotations

import json
import logging
import secrets
import signal
import subprocess
import sys
import threading
import time
from urllib.parse import quote

from .. import heap, limits, ports
from .broker import SERVER_USER, broker_limits
from hallq_protocol import privacy

log = logging.getLogger("hallq.mqtt")
READY = "ready"


def main() -> None:
    """The broker process: settings from standard input, READY on standard output once it listens, serve until SIGTERM."""
    from ..db import Database
    from .broker import Directory, EmbeddedBroker

    conf = json.loads(sys.stdin.readline())
    logging.basicConfig(level=conf["log_level"].upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    privacy.mask_logs()  # no ID or mobile number in any log line
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group; the parent stops us in order
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    limits.open_files(limits.wanted(devices=conf["options"]["max_connections"]))
    broker = EmbeddedBroker(Directory(Database.from_url(conf["database_url"]), conf["password"]), **conf["options"])
    broker.start()
    heap.settle()  # as a server worker does once started: see hallq/heap.py
    heap.Settler().start()
    print(READY, flush=True)
    stop.wait()
    broker.stop()


class BrokerProcess:
    """The broker's process, started and kept running by the serving process."""

    def __init__(self, settings, *, backoff: tuple[float, float] = (1.0, 30.0)):
        self.password = secrets.token_urlsafe(24)
        local_port = ports.free_port() if settings.mqtt_certfile else settings.mqtt_port
        self.conf = {
            "database_url": settings.effective_database_url, "password": self.password, "log_level": settings.log_level,
            "options": dict(
                host=settings.mqtt_host, port=settings.mqtt_port,
                certfile=settings.mqtt_certfile or None, keyfile=settings.mqtt_keyfile or None,
                max_message_bytes=settings.mqtt_max_message_bytes, recheck_seconds=settings.mqtt_recheck_seconds,
                max_connections=settings.mqtt_max_connections,
                local_port=local_port, **broker_limits(settings.mqtt_device_rate, settings.mqtt_device_burst),
            ),
        }
        local = "127.0.0.1" if settings.mqtt_certfile or settings.mqtt_host in ("0.0.0.0", "::", "") else settings.mqtt_host
        self.url = f"mqtt://{SERVER_USER}:{quote(self.password, safe='')}@{local}:{local_port}"
        self.backoff = backoff
        self.restarts = 0
        self.process: subprocess.Popen | None = None
        self._stopping = threading.Event()
        self._watch: threading.Thread | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self, timeout: float = 60.0) -> "BrokerProcess":
        """Start it, wait until it listens, and watch it from then on."""
        self._launch(timeout)
        opts = self.conf["options"]
        log.info("embedded MQTT broker (pid %s) listening on %s:%s", self.pid, opts["host"], opts["port"])
        self._watch = threading.Thread(target=self._supervise, name="mqtt-broker-supervisor", daemon=True)
        self._watch.start()
        return self

    def _launch(self, timeout: float) -> None:
        proc = subprocess.Popen([sys.executable, "-m", "hallq.mqtt.broker_process"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True, start_new_session=False)
        proc.stdin.write(json.dumps(self.conf) + "\n")
        proc.stdin.close()
        said: list[str] = []
        reader = threading.Thread(target=lambda: said.append(proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        if not said or said[0].strip() != READY:
            proc.kill()
            proc.wait(5)
            raise RuntimeError("the embedded MQTT broker's process did not start (see the log above)")
        self.process = proc

    def _supervise(self) -> None:
        delay = self.backoff[0]
        while not self._stopping.is_set():
            proc = self.process
            code = proc.wait()
            if self._stopping.is_set():
                return
            log.error("the embedded MQTT broker (pid %s) stopped (exit code %s): starting it again in %.0f s", proc.pid, code, delay)
            if self._stopping.wait(delay):
                return
            started = time.monotonic()
            try:
                self._launch(60.0)
            except Exception:
                log.exception("could not start the embedded MQTT broker again")
                delay = min(delay * 2, self.backoff[1])
                continue
            self.restarts += 1
            log.warning("the embedded MQTT broker is back (pid %s)", self.pid)
            # It kept running a while: the next death waits the least again.
            delay = self.backoff[0] if time.monotonic() - started > 60 else min(delay * 2, self.backoff[1])

    def stop(self, timeout: float = 15.0) -> None:
        """Stop it (its clients see the connection drop), and no longer restart it."""
        self._stopping.set()
        proc = self.process
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


if __name__ == "__main__":
    main()

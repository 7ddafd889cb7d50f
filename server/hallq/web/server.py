"""Runs the app under gunicorn's threaded workers: one process by default, several with
settings.workers. Work that must live in each serving process, such as the MQTT bridge, is
started after each worker boots.

A live (Socket.IO) connection holds a thread for as long as it is open, so each process gets
`threads` for HTTP requests plus one per live connection it may hold (`live_connections`); the
app refuses the next live connection past that at once (web/live/limit.py) rather than leaving it
to wait for a thread that never comes. gunicorn's own cap on a worker's connections
(worker_connections, 1,000 by default, which silently left the 1,001st client waiting) is set
above both, and the process may open as many files as they need (limits.py)."""

from __future__ import annotations

from typing import Callable

from gunicorn.app.base import BaseApplication

from .. import heap, limits, ports
from ..ports import PortTaken, free_port  # noqa: F401  (re-exported for the CLI and the demo)


def check_port(host: str, port: int) -> None:
    """Raise PortTaken with a plain message when the HTTP port cannot be bound."""
    ports.check_port(host, port, what="port", hint="choose another with --port or HALLQ_PORT")


class _Gunicorn(BaseApplication):
    def __init__(self, app_factory: Callable, options: dict, on_worker_start: Callable | None):
        self.app_factory = app_factory
        self.options = options
        self.on_worker_start = on_worker_start
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)
        hook = self.on_worker_start or (lambda app: None)

        def post_worker_init(worker) -> None:
            hook(worker.wsgi)
            heap.settle()  # the app and its background work are up: see hallq/heap.py
            heap.Settler().start()  # and what its devices and browsers make later, as it comes

        self.cfg.set("post_worker_init", post_worker_init)

    def load(self):
        return self.app_factory()


KEEPALIVE_SPARE = 64  # idle keep-alive connections a worker may hold besides its busy threads


def serve(app_factory: Callable, *, host: str, port: int, threads: int, workers: int = 1, live_connections: int = 0,
          mqtt_devices: int = 0, on_worker_start: Callable | None = None) -> None:
    """Serve until interrupted; app_factory() builds the Flask app inside each worker. `mqtt_devices`:
    the connections of an embedded broker inside the serving process, for its limit of open files."""
    check_port(host, port)
    limits.open_files(limits.wanted(devices=mqtt_devices, browsers=live_connections, requests=threads + KEEPALIVE_SPARE))
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads + live_connections,
        "worker_connections": threads + live_connections + KEEPALIVE_SPARE,
        "backlog": 4096,
        "timeout": 60,
        "graceful_timeout": 5,
        "keepalive": 5,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
    }
    _Gunicorn(app_factory, options, on_worker_start).run()

"""Runs the app under gunicorn's threaded workers (WebSockets need one thread
each): one process by default, several with settings.workers. Work that must
live in each serving process, such as the MQTT bridge, is started after each
worker boots."""

from __future__ import annotations

from typing import Callable

from gunicorn.app.base import BaseApplication

from .. import heap, ports
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

        self.cfg.set("post_worker_init", post_worker_init)

    def load(self):
        return self.app_factory()


def serve(app_factory: Callable, *, host: str, port: int, threads: int, workers: int = 1,
          on_worker_start: Callable | None = None) -> None:
    """Serve until interrupted; app_factory() builds the Flask app inside each worker."""
    check_port(host, port)
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "timeout": 60,
        "graceful_timeout": 5,
        "keepalive": 5,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
    }
    _Gunicorn(app_factory, options, on_worker_start).run()

"""Runs the app under gunicorn's threaded worker (one process; WebSockets need
one thread each). Work that must live in the serving process, such as the
demo's visitors or the MQTT bridge, is started after the worker boots."""

from __future__ import annotations

import errno
import socket
from typing import Callable

from gunicorn.app.base import BaseApplication


class PortTaken(RuntimeError):
    pass


def check_port(host: str, port: int) -> None:
    """Raise PortTaken with a plain message when host:port cannot be bound."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortTaken(f"port {port} on {host} is already in use; choose another with --port or HALLQ_PORT") from None
            raise PortTaken(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class _Gunicorn(BaseApplication):
    def __init__(self, app_factory: Callable, options: dict, on_worker_start: Callable | None):
        self.app_factory = app_factory
        self.options = options
        self.on_worker_start = on_worker_start
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)
        if self.on_worker_start:
            hook = self.on_worker_start
            self.cfg.set("post_worker_init", lambda worker: hook(worker.wsgi))

    def load(self):
        return self.app_factory()


def serve(app_factory: Callable, *, host: str, port: int, threads: int, on_worker_start: Callable | None = None) -> None:
    """Serve until interrupted; app_factory() builds the Flask app inside the worker."""
    check_port(host, port)
    options = {
        "bind": f"{host}:{port}",
        "workers": 1,
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

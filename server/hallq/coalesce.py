"""Coalescing: many requests for the same thing within a short time, one run."""

from __future__ import annotations

import logging
import threading
from typing import Callable, Hashable

log = logging.getLogger("hallq.coalesce")


class Coalescer:
    """Runs fn(key) once, `interval` seconds after the first of a burst of requests for that key.

    The publishers use it for queue summaries: a burst of 200 tickets costs one
    query and one message per hall, not 200.
    """

    def __init__(self, fn: Callable[[Hashable], None], interval: float):
        self.fn = fn
        self.interval = interval
        self._pending: set = set()
        self._timers: list[threading.Timer] = []
        self._lock = threading.Lock()
        self._closed = False

    def request(self, key: Hashable, after: float | None = None) -> None:
        """Run fn(key) `interval` seconds from now (or `after`), unless a run of it is already due."""
        with self._lock:
            if key in self._pending or self._closed:
                return
            self._pending.add(key)
            timer = threading.Timer(self.interval if after is None else after, self._run, args=(key,))
            timer.daemon = True
            self._timers = [t for t in self._timers if t.is_alive()] + [timer]
            timer.start()  # under the lock: close() never meets a timer not yet started

    def close(self, timeout: float = 5.0) -> None:
        """Run nothing more (the server is shutting down), and wait for a run under way to end,
        so that nothing runs after the caller has closed what the runs use (its database)."""
        with self._lock:
            self._closed = True
            timers, self._timers = self._timers, []
            for timer in timers:
                timer.cancel()
        for timer in timers:
            if timer is not threading.current_thread():
                timer.join(timeout)
                if timer.is_alive():
                    log.warning("%r still running %.0f s after close: what it uses may be closed under it", self.fn, timeout)

    def _run(self, key: Hashable) -> None:
        with self._lock:
            self._pending.discard(key)
        try:
            self.fn(key)
        except Exception:
            log.exception("%r failed for %r", self.fn, key)

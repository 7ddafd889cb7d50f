"""Garbage collection for a long-running server process.

A full collection walks every object the process holds: in a served hall that
is some 150,000 (Flask, SQLAlchemy, the app's own tables and caches), which on
the project's machine stops every thread for 60–90 ms, about once in a hundred
staff presses: a call reaches the screens that much later. Nearly all of those
objects are made at start-up and live as long as the process. Once it has
started, `settle()` moves them out of the collector's reach (gc.freeze), so a
full collection only walks what was made since: about 1 ms.

A city's server makes many more long-lived objects after start-up: each device's
session on the embedded broker and each browser's live connection are a few hundred,
so a thousand of each put half a million objects back in the collector's reach, and
full collections of 110–200 ms came once a second. `Settler` freezes what has lived
through a young collection every `every` seconds, so full collections stay small; as
a frozen object that later becomes part of a garbage cycle is never collected, once
every `full_every` seconds it unfreezes everything and runs one full collection (the
one long pause, logged with its length) before freezing again. Collections longer
than `slow_ms` are counted and logged once a minute at most.
"""

from __future__ import annotations

import gc
import logging
import threading
import time

log = logging.getLogger("hallq.heap")


def settle() -> None:
    """Collect once, then keep everything that survived out of later collections."""
    gc.collect()
    gc.freeze()


class Settler:
    """Keeps long-lived objects frozen as they come (see the module's notes); start() runs it in a thread."""

    def __init__(self, *, every: float = 10.0, full_every: float = 3600.0, slow_ms: float = 50.0,
                 clock=time.monotonic):
        self.every, self.full_every, self.slow_ms = every, full_every, slow_ms
        self.clock = clock
        self.slow = 0  # collections longer than slow_ms since the last report
        self.longest = 0.0  # ms, since the last report
        self._started: float | None = None
        self._last_full = clock()
        self._last_report = clock()
        self._stop = threading.Event()

    def tick(self) -> None:
        """Freeze what survives a young collection; now and then, the full pass; report slow collections."""
        now = self.clock()
        if now - self._last_full >= self.full_every:
            self.full()
        else:
            gc.collect(1)  # young garbage goes now, not into the frozen set
            gc.freeze()
        if self.slow and now - self._last_report >= 60:
            log.warning("%d garbage collections took longer than %.0f ms in the last %.0f s (the longest %.0f ms)",
                        self.slow, self.slow_ms, now - self._last_report, self.longest)
            self.slow, self.longest = 0, 0.0
            self._last_report = now

    def full(self) -> float:
        """Unfreeze, collect everything, freeze again; returns the pause in ms."""
        started = time.perf_counter()
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        pause = (time.perf_counter() - started) * 1000
        self._last_full = self.clock()
        log.info("full garbage collection: %.0f ms, %d objects kept", pause, gc.get_freeze_count())
        return pause

    def _timed(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        elif self._started is not None:
            took = (time.perf_counter() - self._started) * 1000
            self._started = None
            if took >= self.slow_ms:
                self.slow += 1
                self.longest = max(self.longest, took)

    def start(self) -> "Settler":
        gc.callbacks.append(self._timed)
        threading.Thread(target=self._run, name="heap-settler", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._timed in gc.callbacks:
            gc.callbacks.remove(self._timed)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.tick()
            except Exception:  # the process must not lose its collector's care over a log line
                log.exception("could not settle the heap")

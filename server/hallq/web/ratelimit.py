"""A small in-process limiter for sign-in attempts.

Failed sign-ins are counted per client address and per user name in a sliding
window; past the limit, further attempts are refused until old failures age
out. The server runs one process (see server.py), so memory is the right store.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Callable


class LoginLimiter:
    def __init__(self, max_failures: int = 5, window_seconds: float = 300.0, clock: Callable[[], float] = time.monotonic):
        self.max_failures = max_failures
        self.window = window_seconds
        self.clock = clock
        self._failures: dict[str, deque] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque:
        q = self._failures.setdefault(key, deque())
        while q and now - q[0] > self.window:
            q.popleft()
        return q

    def retry_after(self, *keys: str) -> int:
        """Seconds until one more attempt is allowed for all keys; 0 when allowed now."""
        now = self.clock()
        wait = 0.0
        with self._lock:
            for key in keys:
                q = self._recent(key, now)
                if len(q) >= self.max_failures:
                    wait = max(wait, self.window - (now - q[len(q) - self.max_failures]))
        return int(wait) + 1 if wait > 0 else 0

    def failed(self, *keys: str) -> None:
        """Count one failed attempt against each key."""
        now = self.clock()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)
            if len(self._failures) > 10_000:  # someone is spraying names: forget the idle ones
                for key in [k for k, q in self._failures.items() if not q or now - q[-1] > self.window]:
                    del self._failures[key]

    def succeeded(self, *keys: str) -> None:
        """A good sign-in clears the name's failures (not the address's)."""
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)

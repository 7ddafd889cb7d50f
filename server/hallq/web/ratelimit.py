"""Limiters for sign-in attempts: in memory, or in Redis for several processes.

Failed sign-ins are counted per client address and per user name in a sliding
window; past the limit, further attempts are refused until old failures age
out. One server process keeps them in memory; several (settings.workers > 1)
share them through Redis, so more processes do not mean more guesses.
"""

from __future__ import annotations

import secrets
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


class RedisLoginLimiter:
    """The same sliding window, kept in Redis sorted sets shared by every server process."""

    PREFIX = "hallq:login-failures:"

    def __init__(self, url: str, max_failures: int = 5, window_seconds: float = 300.0, clock: Callable[[], float] = time.time):
        import redis

        self.redis = redis.Redis.from_url(url)
        self.max_failures = max_failures
        self.window = window_seconds
        self.clock = clock

    def retry_after(self, *keys: str) -> int:
        now = self.clock()
        pipe = self.redis.pipeline()
        for key in keys:
            pipe.zremrangebyscore(self.PREFIX + key, "-inf", now - self.window)
            pipe.zrevrange(self.PREFIX + key, self.max_failures - 1, self.max_failures - 1, withscores=True)
        results = pipe.execute()[1::2]
        wait = max((self.window - (now - found[0][1]) for found in results if found), default=0.0)
        return int(wait) + 1 if wait > 0 else 0

    def failed(self, *keys: str) -> None:
        now = self.clock()
        pipe = self.redis.pipeline()
        for key in keys:
            pipe.zadd(self.PREFIX + key, {f"{now:.6f}:{secrets.token_hex(4)}": now})
            pipe.expire(self.PREFIX + key, int(self.window) + 1)
        pipe.execute()

    def succeeded(self, *keys: str) -> None:
        self.redis.delete(*(self.PREFIX + key for key in keys))


def make_limiter(settings) -> "LoginLimiter | RedisLoginLimiter":
    """Redis when several processes serve (they must share the count), memory otherwise."""
    if settings.workers > 1 and settings.redis_url:
        return RedisLoginLimiter(settings.redis_url)
    return LoginLimiter()

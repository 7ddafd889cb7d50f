"""The request bridge's inbox: every device served in turn, none able to crowd out the others.

Each device has a queue of its own, bounded, and a rate limit (a token bucket: `rate`
requests a second on average, bursts of `burst`). The worker takes one message from each
device that has any, in turn, so a device that floods the server only ever waits behind
itself. A request past either limit is not queued: `put` says so, and the bridge answers
it at once with `rate_limited` (the device tries again after `retry_after` seconds). A
device that waits for each answer before asking again, as HallQ's do, never meets either.

Requests that someone is waiting for (a call, a ticket, a rating: `urgent`) go before the
devices' housekeeping (their status reports, availability): a city's devices reporting faster
than the server can record them only delay one another's reports, never a window's call. Within
each kind, devices take turns as above.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Hashable

STOP = object()


class RateLimit:
    """A token bucket per key: `rate` a second on average, bursts of `burst`."""

    def __init__(self, *, rate: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self.rate, self.burst, self.clock = rate, burst, clock
        self._buckets: dict[Hashable, list[float]] = {}  # key → [tokens, when last refilled]
        self._lock = threading.Lock()

    def take(self, key: Hashable) -> float:
        """Take one token: 0 when there was one, else the seconds until there is."""
        now = self.clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) > 10_000:  # a spray of names: forget the full ones
                    for k in [k for k, (t, at) in self._buckets.items() if t + (now - at) * self.rate >= self.burst]:
                        del self._buckets[k]
                bucket = self._buckets[key] = [float(self.burst), now]
            bucket[0] = min(self.burst, bucket[0] + (now - bucket[1]) * self.rate)
            bucket[1] = now
            if bucket[0] < 1:
                return (1 - bucket[0]) / self.rate
            bucket[0] -= 1
            return 0.0


@dataclass
class _Device:
    queue: deque = field(default_factory=deque)


class FairInbox:
    def __init__(self, *, rate: float = 50.0, burst: int = 100, max_queued: int = 100,
                 clock: Callable[[], float] = time.monotonic):
        self.rate, self.max_queued = rate, max_queued
        # The transport's (monotonic) clock: how fast a device sends is no matter of the hall's time.
        self.limit = RateLimit(rate=rate, burst=burst, clock=clock)
        self._devices: dict[tuple[Hashable, bool], _Device] = {}  # (device, urgent) → its queue of that kind
        # Devices with something queued, in the order they are served: the urgent ones first.
        self._turns: dict[bool, deque] = {True: deque(), False: deque()}
        self._ready = threading.Condition()
        self._stopped = False

    def put(self, key: Hashable, item, *, limited: bool = True, urgent: bool = True) -> float:
        """Queue `item` for device `key`; 0 when queued, else the seconds the device should wait
        before asking again (its queue is full or it is over its rate). `limited=False` (its
        availability, say) only queues; `urgent=False` (housekeeping) waits for every urgent item."""
        with self._ready:
            device = self._devices.get((key, urgent))
            if device is None:
                device = self._devices[(key, urgent)] = _Device()
            if limited:
                if len(device.queue) >= self.max_queued:
                    return len(device.queue) / self.rate
                wait = self.limit.take(key)
                if wait:
                    return wait
            if not device.queue:
                self._turns[urgent].append(key)
            device.queue.append(item)
            self._ready.notify()
        return 0.0

    def get(self):
        """The next message, taking devices in turn (blocks); STOP once stopped."""
        with self._ready:
            while not (self._turns[True] or self._turns[False]) and not self._stopped:
                self._ready.wait()
            urgent = bool(self._turns[True])
            turns = self._turns[urgent]
            if not turns:
                return STOP
            key = turns.popleft()
            device = self._devices[(key, urgent)]
            item = device.queue.popleft()
            if device.queue:
                turns.append(key)  # its next one waits for everyone else's turn
            else:
                del self._devices[(key, urgent)]  # nothing queued: nothing to remember (its rate is RateLimit's)
            return item

    def queued(self, key: Hashable) -> int:
        with self._ready:
            return sum(len(d.queue) for urgent in (True, False) if (d := self._devices.get((key, urgent))))

    def stop(self) -> None:
        """Let the worker finish what is queued, then get STOP."""
        with self._ready:
            self._stopped = True
            self._ready.notify_all()

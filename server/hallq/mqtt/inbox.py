"""The request bridge's inbox: every device served in turn, none able to crowd out the others.

Each device has a queue of its own, bounded, and a rate limit (a token bucket: `rate`
requests a second on average, bursts of `burst`). The worker takes one message from each
device that has any, in turn, so a device that floods the server only ever waits behind
itself. A request past either limit is not queued: `put` says so, and the bridge answers
it at once with `rate_limited` (the device tries again after `retry_after` seconds). A
device that waits for each answer before asking again, as HallQ's do, never meets either.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Hashable

STOP = object()


@dataclass
class _Device:
    queue: deque = field(default_factory=deque)
    tokens: float = 0.0
    refilled: float = 0.0


class FairInbox:
    def __init__(self, *, rate: float = 50.0, burst: int = 100, max_queued: int = 100,
                 clock: Callable[[], float] = time.monotonic):
        self.rate, self.burst, self.max_queued = rate, burst, max_queued
        self.clock = clock  # the transport's (monotonic) clock: how fast a device sends is no matter of the hall's time
        self._devices: dict[Hashable, _Device] = {}
        self._turns: deque = deque()  # devices with something queued, in the order they are served
        self._ready = threading.Condition()
        self._stopped = False

    def put(self, key: Hashable, item, *, limited: bool = True) -> float:
        """Queue `item` for device `key`; 0 when queued, else the seconds the device should wait
        before asking again (its queue is full or it is over its rate). `limited=False` (its
        availability, say) only queues."""
        with self._ready:
            device = self._devices.get(key)
            if device is None:
                device = self._devices[key] = _Device(tokens=self.burst, refilled=self.clock())
            if limited:
                now = self.clock()
                device.tokens = min(self.burst, device.tokens + (now - device.refilled) * self.rate)
                device.refilled = now
                if device.tokens < 1:
                    return (1 - device.tokens) / self.rate
                if len(device.queue) >= self.max_queued:
                    return len(device.queue) / self.rate
                device.tokens -= 1
            if not device.queue:
                self._turns.append(key)
            device.queue.append(item)
            self._ready.notify()
        return 0.0

    def get(self):
        """The next message, taking devices in turn (blocks); STOP once stopped."""
        with self._ready:
            while not self._turns and not self._stopped:
                self._ready.wait()
            if not self._turns:
                return STOP
            key = self._turns.popleft()
            device = self._devices[key]
            item = device.queue.popleft()
            if device.queue:
                self._turns.append(key)  # its next one waits for everyone else's turn
            elif device.tokens >= self.burst and len(self._devices) > 10_000:
                del self._devices[key]  # idle and full: nothing to remember (bounds the map under a spray of names)
            return item

    def queued(self, key: Hashable) -> int:
        with self._ready:
            device = self._devices.get(key)
            return len(device.queue) if device else 0

    def stop(self) -> None:
        """Let the worker finish what is queued, then get STOP."""
        with self._ready:
            self._stopped = True
            self._ready.notify_all()

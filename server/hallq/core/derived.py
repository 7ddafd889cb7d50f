"""Derived state: what a change means for the hall as a whole, computed once after commit.

A ticket issued, called or completed changes more than itself: the hall's queue
summary (how many wait for each service, the predicted waits) changes too, and
every transport (the live pages, the devices over MQTT) shows it. It is
computed here, once per hall per burst of changes, and handed to every
transport as one `queue.summary` event, instead of each transport asking the
core again. (The other derived fact a transport needs, the ticket last
completed at a window, rides in the `ticket.completed` and `review.recorded`
events themselves: see windows.actions.complete and devices.actions.record_review.)
"""

from __future__ import annotations

import logging
import threading
from typing import Callable

from ..coalesce import Coalescer
from .events import DomainEvent, FanOutPublisher, Publisher

log = logging.getLogger("hallq")

QUEUE_SUMMARY = "queue.summary"
# Events after which a hall's queue summary may have changed.
CHANGES_QUEUE = ("ticket.", "window.", "hall.")


class QueueSummaries:
    """After changes to a hall's tickets or windows, the hall's queue summary, computed once (at most
    once per `interval` seconds per hall: a burst of 200 tickets costs one query) and handed as a
    `queue.summary` event (data: services, the queue_view rows) to every listener (the transports).

    It listens to the hall engine's events only while someone listens to it: the simulator and the
    engine's own tests, with no transport, compute no summaries."""

    def __init__(self, events: FanOutPublisher, queue: Callable[[str], list[dict]], now: Callable, *, interval: float = 0.3,
                 behind: Callable[[str], float | None] = lambda hall: None):
        self.events = events  # the engine's committed events
        self.queue = queue  # HallService.queue
        self.now = now
        # Seconds until the hall's predicted waits can catch up with a change the summary could
        # not show yet (LiveWaits.behind), or None: then the summary is made again at that time.
        self.behind = behind
        self.listeners = FanOutPublisher(on_error=_failed)
        self._soon = Coalescer(self.summarise, interval)
        self._lock = threading.Lock()

    def add(self, listener: Publisher) -> None:
        with self._lock:
            if not self.listeners.publishers:
                self.events.add(self)
            self.listeners.add(listener)

    def remove(self, listener: Publisher) -> None:
        with self._lock:
            self.listeners.remove(listener)
            if not self.listeners.publishers:
                self.events.remove(self)

    def publish(self, event: DomainEvent) -> None:
        if event.kind.startswith(CHANGES_QUEUE):
            self._soon.request(event.hall)

    def summarise(self, hall: str) -> None:
        """Compute hall's queue summary now and hand it to every listener."""
        if self.listeners.publishers:
            self.listeners.publish(DomainEvent(kind=QUEUE_SUMMARY, hall=hall, at=self.now(), data={"services": self.queue(hall)}))
            later = self.behind(hall)
            if later is not None:  # its waits were the last play's: summarise again once the hall may be played
                self._soon.request(hall, after=max(later, 0.1))

    def close(self) -> None:
        """Compute no more (the process is stopping); a summary under way ends first."""
        self._soon.close()


def _failed(listener: Publisher, event: DomainEvent, exc: Exception) -> None:
    log.error("%r failed on %s", listener, event.kind, exc_info=exc)

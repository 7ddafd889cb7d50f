"""The unit of work: the one way the core changes a hall.

Every change runs the same way: open a write transaction, find the hall, close
what the clock has left open (the sweep), run the operation, commit, and only
then hand the events it produced to the publisher. Readers see the hall after
any sweep the clock has made due. HallService, DeviceService, the balancer
store, the simulator, the demo and the benchmarks all come through here; a change
that belongs to no single hall (an account, a token, the request log) goes through
`change`.
"""

from __future__ import annotations

import logging
import time
from typing import Callable, TypeVar

from sqlmodel import Session

from hallq.core.events import DomainEvent, FanOutPublisher, Publisher
from hallq.core.models import Hall
from hallq.core.tickets.sweep import sweep
from hallq.core.txn import SYSTEM, Actor, Txn, find_hall, hall_row

T = TypeVar("T")
log = logging.getLogger("hallq")

HALL_CACHE_SECONDS = 2.0
# Events after which the hall's row, services and window capacity are as they
# were: tickets move, reviews and device reports come in, but no window opens,
# pauses, closes or changes its services (a called or finished window still
# counts as working).
KEEPS_HALL_CACHE = frozenset(
    {
        "ticket.issued",
        "ticket.called",
        "ticket.recalled",
        "ticket.started",
        "ticket.completed",
        "ticket.requeued",
        "ticket.no_show",
        "ticket.transferred",
        "review.recorded",
        "case.opened",
        "case.changed",
        "device.paper",
        "device.status",
        "device.availability",
    }
)


class UnitOfWork:
    """Transactions of one database for one clock, their events handed after commit to one
    fan-out publisher: `publisher` (if given) and each transport that adds itself."""

    def __init__(self, db, clock, publisher: Publisher | None = None):
        self.db = db
        self.clock = clock
        self.publisher = FanOutPublisher(on_error=_failed)
        if publisher is not None:
            self.publisher.add(publisher)
        self._hall_cache: dict[str, tuple] = {}

    def write(self, slug: str, fn: Callable[[Txn], T], *, actor: Actor = SYSTEM) -> T:
        """Run fn(tx) in a write transaction of hall `slug`, after the sweep; publish its events after commit.

        The hall's row, services and window capacity are kept for up to
        HALL_CACHE_SECONDS between writes that only move tickets (issue, call,
        complete...: they change none of them), which saves three queries on the
        busiest path. Any other change made here drops them at once; a change
        made by another server process is seen within HALL_CACHE_SECONDS
        (estimates and opening hours only: ticket numbers, quotas and claims
        never come from the cache).
        """
        now_mono = time.monotonic()
        cached = self._hall_cache.get(slug) if isinstance(slug, str) else None
        if cached is not None and cached[0] < now_mono:
            cached = None
        with self.db.write() as session:
            if cached is None:
                tx = Txn(session=session, hall=hall_row(session, slug), now=self.clock.now(), actor=actor)
            else:
                _, hall, services, capacity = cached
                tx = Txn(session=session, hall=hall, now=self.clock.now(), actor=actor, preloaded=(services, capacity))
            swept = sweep(tx)
            result = fn(tx)
            events = list(tx.events)
        if swept or any(e.kind not in KEEPS_HALL_CACHE for e in events):
            self._hall_cache.pop(slug, None)
        elif isinstance(slug, str):
            services, capacity = tx.loaded
            if cached is None or (cached[2] is None and services is not None) or (cached[3] is None and capacity is not None):
                # Keep what this write loaded: the hall's row at least (a device's
                # status report needs nothing more); services and capacity once a
                # write has loaded them (a call does not need capacity; the next
                # write that loads it fills it in).
                expires = cached[0] if cached is not None else now_mono + HALL_CACHE_SECONDS
                self._hall_cache[slug] = (expires, tx.hall, services, capacity)
        self.publish(events)
        return result

    def configure(self, make_hall: Callable[[Session, object], Hall], fn: Callable[[Txn], T], *, actor: Actor = SYSTEM) -> T:
        """Create or reconfigure a hall: make_hall(session, now) gives the hall, then fn(tx) runs as in write
        (no sweep: the hall may be new); what was cached of the hall is dropped."""
        with self.db.write() as session:
            now = self.clock.now()
            tx = Txn(session=session, hall=make_hall(session, now), now=now, actor=actor)
            result = fn(tx)
            slug, events = tx.hall.slug, list(tx.events)
        self._hall_cache.pop(slug, None)
        self.publish(events)
        return result

    def change(self, fn: Callable[[Session], T]) -> T:
        """A change that belongs to no single hall (accounts, API tokens, the device request log,
        balancer leases across halls): fn(session) in a write transaction. No sweep, and it
        makes no events."""
        with self.db.write() as session:
            return fn(session)

    def read(self, slug: str, fn: Callable[[Txn], T]) -> T:
        """Run fn(tx) in a read transaction, after the sweep if the clock has made one due,
        so nobody reads tickets as waiting after the hall has closed."""
        with self.db.read() as session:
            hall = find_hall(session, slug)
            now = self.clock.now()
            if hall.sweep_after is not None and now < hall.sweep_after:
                return fn(Txn(session=session, hall=hall, now=now))
        self.write(slug, lambda tx: None)
        with self.db.read() as session:
            return fn(Txn(session=session, hall=find_hall(session, slug), now=self.clock.now()))

    def read_hall(self, slug: str, fn: Callable[[Session, Hall], T]) -> T:
        """fn(session, hall) in a plain read transaction: for figures that need no sweep."""
        with self.db.read() as session:
            return fn(session, find_hall(session, slug))

    def publish(self, events: list[DomainEvent]) -> None:
        for event in events:
            self.publisher.publish(event)


def _failed(publisher: Publisher, event: DomainEvent, exc: Exception) -> None:
    # The change is committed; a broken transport must not undo it, only be seen.
    log.error("publisher %r failed on %s", publisher, event.kind, exc_info=exc)

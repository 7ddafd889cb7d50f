"""The live balancer in a served hall: it ticks, applies (auto) and pushes suggestions.

One BalancerRunner per app. It looks at every hall every `balancer_interval_seconds`,
and about a second after a ticket, window or balancer change made in this process
(coalesced: a burst of changes costs one look). In auto mode a look applies what
the hall's limits allow, as the actor `balancer`, through the engine, so each change
is audited and reaches every screen as a manager's would. In every mode the current
suggestions are pushed to the hall's manager room when they change (never polled).
Which process looks at a hall is settled by the lease in core/balancer/store.py.

It starts with the first request or event of an app that is not TESTING: the served
app (hallq serve, hallq demo, the browser tests' server) runs it; a test app runs
nothing in the background unless the test starts it.
"""

from __future__ import annotations

import atexit
import logging
import threading

from hallq.core.balancer.store import HallBalancers
from hallq_protocol.live import manager_room

from ...coalesce import Coalescer
from ...core.events import DomainEvent

log = logging.getLogger("hallq.balancer")
REACTS_TO = ("ticket.", "window.", "hall.", "balancer.")


def payload(mode: str, suggestions) -> dict:
    """What the manager's page receives (the same as GET /manager/<hall>/suggestions)."""
    return {"available": True, "mode": mode, "suggestions": [s.as_dict() for s in suggestions]}


class BalancerRunner:
    def __init__(self, app, socketio, balancers: HallBalancers, *, interval: float, react: float = 1.0):
        self.app = app
        self.socketio = socketio
        self.balancers = balancers
        self.interval = interval
        self._soon = Coalescer(self.tick, react)
        self._pushed: dict[str, tuple] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self._thread is not None

    def autostart(self) -> None:
        """Start unless this is a test app or the background balancer is turned off."""
        if self._thread is None and not self.app.testing and self.interval > 0:
            self.start()

    def start(self) -> "BalancerRunner":
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="hallq-balancer", daemon=True)
                self._thread.start()
                # A stopping server hands its halls on at once rather than when the leases run out.
                atexit.register(self.stop)
        return self

    def stop(self) -> None:
        """Stop ticking and give up this process's leases."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._soon.close()
        try:
            self.balancers.release()
        except Exception:
            log.exception("could not release the balancer leases")

    def publish(self, event: DomainEvent) -> None:
        """A Publisher: a change made in this process asks for a look at its hall soon."""
        if not event.kind.startswith(REACTS_TO):
            return
        self.autostart()
        if self.running:
            self._soon.request(event.hall)

    def _loop(self) -> None:
        if self.interval <= 0:  # started by hand with no interval: it only reacts to changes
            self._stop.wait()
            return
        while not self._stop.wait(self.interval):
            try:
                halls = self.balancers.halls()
            except Exception:
                log.exception("balancer could not list the halls")
                continue
            for hall in halls:
                self.tick(hall)

    def tick(self, hall: str) -> None:
        """Look at one hall now (what the thread and the coalesced requests run)."""
        try:
            result = self.balancers.tick(hall)
        except Exception:  # a failing look must not stop the next one
            log.exception("balancer failed for hall %s", hall)
            return
        if result is None:
            return  # another process holds this hall's lease and pushes its suggestions
        if result.applied:
            log.info("balancer applied %d change(s) in hall %s", sum(len(s.changes) for s in result.applied), hall)
        self.push(hall, result.mode, result.suggestions)

    def push(self, hall: str, mode: str, suggestions, *, force: bool = False) -> None:
        """Send the suggestions to the hall's managers when they differ from the last sent."""
        key = (mode, tuple(s.id for s in suggestions))
        if not force and self._pushed.get(hall) == key:
            return
        self._pushed[hall] = key
        self.socketio.emit("suggestions", payload(mode, suggestions), to=manager_room(hall))

    def push_now(self, hall: str) -> dict:
        """Work out the suggestions here and push them (after a manager's change): reading needs no lease."""
        mode, found = self.balancers.suggestions(hall)
        self.push(hall, mode, found, force=True)
        return payload(mode, found)


def init_balancer(app, hallq, socketio) -> BalancerRunner:
    """Give hallq its balancers and their runner; the runner hears this process's events."""
    interval = hallq.settings.balancer_interval_seconds
    hallq.balancers = HallBalancers(hallq.halls, lease_seconds=max(3 * interval, 30.0))
    hallq.balancer_runner = runner = BalancerRunner(app, socketio, hallq.balancers, interval=interval)
    hallq.publisher.add(runner)
    app.before_request(runner.autostart)
    return runner

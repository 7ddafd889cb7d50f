"""The waits a visitor is told, from the predictor, kept fresh without slowing the hall down.

A play of the hall (predictor.py) looks at every waiting ticket and window, so
it is made once for many answers, not for each: a hall's play is made again
when the hall has changed since (a ticket issued, called, completed; a window
opened or paused), but at most once every `min_seconds`, and when it is
`max_age_seconds` old by the hall's clock even if nothing changed (time alone
brings calls nearer). Whoever asks while another thread plays the hall gets the
last play rather than waiting for it.

From a play:

* a waiting ticket's wait is the play's minutes for it, less the time since the
  play was made;
* a ticket being issued is promised the play's wait for a ticket of its service
  and class issued at the play's moment, moved by the people ahead it has now
  against those the play saw (each one more or fewer is the simple estimate's
  minutes per person). Issuing never plays the hall itself: that would hold
  the write transaction, so the ticket path stays as fast as without a predictor.

Where the play has no answer (no window on duty serves the service, or no
play yet) the simple estimate (estimate.py) answers, as it does wherever no
LiveWaits is given to the engine (the engine's own tests, the simulator).
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Callable

from hallq.core.events import DomainEvent
from hallq.core.txn import hall_row
from hallq.core.waits.predictor import Play, WaitPredictor

# Events after which a hall's play is out of date.
CHANGES = ("ticket.", "window.", "hall.")


class LiveWaits:
    """Each hall's latest play and the predictor that makes it (one per hall: it learns the hall's day)."""

    def __init__(self, *, min_seconds: float = 2.0, max_age_seconds: float = 30.0,
                 predictor: Callable[[], WaitPredictor] = WaitPredictor, monotonic: Callable[[], float] = time.monotonic):
        self.min_seconds = min_seconds
        self.max_age_seconds = max_age_seconds
        self.make_predictor = predictor
        self.monotonic = monotonic  # a pace, not the hall's time: how often this process may afford a play
        self._halls: dict[str, _Hall] = {}
        self._lock = threading.Lock()

    def _hall(self, slug: str) -> "_Hall":
        with self._lock:
            hall = self._halls.get(slug)
            if hall is None:
                hall = self._halls[slug] = _Hall(self.make_predictor())
            return hall

    # -- hearing changes ------------------------------------------------------

    def publish(self, event: DomainEvent) -> None:
        """A committed change (the engine's publisher calls this): the hall's play is out of date."""
        if event.kind.startswith(CHANGES):
            self._hall(event.hall).changed = True

    # -- plays ----------------------------------------------------------------

    def last(self, slug: str) -> Play | None:
        """The hall's latest play, however old (never makes one)."""
        hall = self._halls.get(slug)
        return None if hall is None else hall.play

    def current(self, hall_service, slug: str) -> Play | None:
        """The hall's play, made again first when it is out of date and this process may afford it."""
        hall = self._hall(slug)
        now = hall_service.clock.now()
        if not self._stale(hall, now) or not hall.busy.acquire(blocking=False):
            return hall.play
        try:
            if self._stale(hall, now):
                hall.changed = False  # a change from now on makes the next play
                hall.made = self.monotonic()
                hall.play = self._make(hall.predictor, hall_service, slug, now)
        except Exception:
            if hall.play is None:
                with self._lock:  # never played (no such hall, say): keep nothing for it
                    self._halls.pop(slug, None)
            raise
        finally:
            hall.busy.release()
        return hall.play

    def behind(self, slug: str) -> float | None:
        """Seconds until the hall, changed since its latest play, may be played again; None when
        its play has seen every change (or it has none)."""
        hall = self._halls.get(slug)
        if hall is None or hall.play is None or not hall.changed:
            return None
        return max(self.min_seconds - (self.monotonic() - hall.made), 0.0)

    def _stale(self, hall: "_Hall", now: datetime) -> bool:
        if hall.play is None:
            return True
        if self.monotonic() - hall.made < self.min_seconds:
            return False
        return hall.changed or (now - hall.play.at).total_seconds() >= self.max_age_seconds

    @staticmethod
    def _make(predictor: WaitPredictor, hall_service, slug: str, now: datetime) -> Play:
        with hall_service.db.read() as session:
            hall = hall_row(session, slug)
            predictor.learn(session, hall, now)
            return predictor.play(session, hall, now, hall_service.policy)


class _Hall:
    __slots__ = ("predictor", "play", "made", "changed", "busy")

    def __init__(self, predictor: WaitPredictor):
        self.predictor = predictor
        self.play: Play | None = None
        self.made = 0.0  # monotonic seconds when the play was made
        self.changed = False
        self.busy = threading.Lock()


def ticket_wait(play: Play | None, ticket_id: int, now: datetime) -> float | None:
    """A waiting ticket's wait from now, if the play placed it."""
    if play is None or ticket_id not in play.tickets:
        return None
    return round(max(play.tickets[ticket_id] - _minutes(play, now), 0.0), 1)


def promise(play: Play | None, service_id: int, priority: str, ahead: int, per_person: float | None) -> float | None:
    """The wait to promise a ticket issued now, with `ahead` people before it in its service."""
    if play is None or (service_id, priority) not in play.next:
        return None
    moved = (ahead - play.ahead.get((service_id, priority), ahead)) * (per_person or 0.0)
    return round(max(play.next[service_id, priority] + moved, 0.0), 1)


def since_promised(promised: float, issued_at: datetime, now: datetime) -> float:
    """What is left of a wait promised at issue (a ticket issued after the latest play)."""
    return round(max(promised - max((now - issued_at).total_seconds() / 60.0, 0.0), 0.0), 1)


def _minutes(play: Play, now: datetime) -> float:
    return max((now - play.at).total_seconds() / 60.0, 0.0)

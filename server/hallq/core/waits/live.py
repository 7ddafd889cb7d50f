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
  minutes per person). Issuing never plays the hall inside its transaction
  (that would hold the writer): HallService.issue_ticket brings the play up
  to date first when it is due; a device's request over MQTT, issued inside
  the bridge's transaction, takes the last play as it is.

Where the play has no answer (no window on duty serves the service, or no
play yet) the simple estimate (estimate.py) answers, as it does wherever no
LiveWaits is given to the engine (the engine's own tests, the simulator). A
play that fails is logged by the engine and the last play answers while it is
younger than `max_age_seconds` (then the simple estimate); the hall stays out of
date, so the next look after the pace tries again (queue summaries do not).

Each server process keeps its own plays and hears only its own changes: with
several workers, another worker's changes reach a play when the hall's play is
`max_age_seconds` old, or when this worker changes the hall itself.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Callable

from hallq.core.errors import HallError
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
            hall = self._hall(event.hall)
            with self._lock:
                hall.changes += 1

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
            return self._usable(hall, now)
        try:
            if self._stale(hall, now):
                changes = hall.changes  # read before the play reads the hall: a change after it makes the next
                hall.made = self.monotonic()  # a play that fails is paced too
                hall.play = self._make(hall.predictor, hall_service, slug, now)
                hall.seen = changes
                hall.failed = False
        except HallError:
            if hall.play is None:
                with self._lock:  # never played (no such hall): keep nothing for it
                    self._halls.pop(slug, None)
            raise
        except Exception:
            hall.failed = True
            raise
        finally:
            hall.busy.release()
        return hall.play

    def fallback(self, slug: str, now: datetime) -> Play | None:
        """What answers when the hall's play failed: the last play while it is younger than
        `max_age_seconds`, then none (the simple estimate answers)."""
        hall = self._halls.get(slug)
        return None if hall is None else self._usable(hall, now)

    def _usable(self, hall: "_Hall", now: datetime) -> Play | None:
        if hall.play is not None and hall.failed and (now - hall.play.at).total_seconds() >= self.max_age_seconds:
            return None  # the predictor keeps failing: an old play would tell waits that never shrink
        return hall.play

    def behind(self, slug: str) -> float | None:
        """Seconds until the hall, changed since the changes its latest play saw, may be played
        again; None when that play has seen every change (or there is none), and when the last
        try failed: a broken predictor is tried again by the next look after the pace, not in a
        loop of queue summaries."""
        hall = self._halls.get(slug)
        if hall is None or hall.play is None or hall.failed or hall.seen >= hall.changes:
            return None
        return max(self.min_seconds - (self.monotonic() - hall.made), 0.0)

    def _stale(self, hall: "_Hall", now: datetime) -> bool:
        if hall.made is None:
            return True  # never played
        if self.monotonic() - hall.made < self.min_seconds:
            return False
        return hall.play is None or hall.seen < hall.changes or (now - hall.play.at).total_seconds() >= self.max_age_seconds

    @staticmethod
    def _make(predictor: WaitPredictor, hall_service, slug: str, now: datetime) -> Play:
        with hall_service.db.read() as session:
            hall = hall_row(session, slug)
            predictor.learn(session, hall, now)
            return predictor.play(session, hall, now, hall_service.policy)


class _Hall:
    __slots__ = ("predictor", "play", "made", "changes", "seen", "failed", "busy")

    def __init__(self, predictor: WaitPredictor):
        self.predictor = predictor
        self.play: Play | None = None
        self.made: float | None = None  # monotonic seconds when the last play was begun
        self.changes = 0  # changes heard
        self.seen = 0  # of which the play had seen
        self.failed = False  # the last try to play it raised
        self.busy = threading.Lock()


def ticket_wait(play: Play | None, ticket_id: int, service_id: int, now: datetime) -> float | None:
    """A waiting ticket's wait from now, if the play placed it in the service it is in now (a
    manager may have moved it since)."""
    if play is None or ticket_id not in play.tickets or play.service_of.get(ticket_id) != service_id:
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

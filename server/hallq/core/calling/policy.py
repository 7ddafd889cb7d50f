"""The calling policy: which waiting ticket a window calls next.

The one place where the score is defined (docs/calling-policy.md explains it):

    score = weight × (boost[priority] + minutes waited)

* `minutes waited` counts from the ticket's original issue time (`queued_at`),
  so a transferred or requeued ticket keeps its place. This is the aging term:
  every ticket's score grows by `weight` per minute, so a normal ticket that
  has waited `boost[green]` minutes longer than a fresh green-channel ticket
  overtakes it, and no class can starve.
* `boost` gives priority classes a head start in minutes: normal 0,
  appointment 10, green channel 20.
* `weight` is the window's weight for the ticket's service (> 0, default 1):
  a window with weight 2 for its main service treats that service's tickets
  as if they had waited twice as long.

Ties go to the earlier issue time, then the lower ticket id.

Contract for every policy: within one (service, priority) group the score must
not decrease with waiting time. The engine relies on it to offer the policy
only the head of each group, which keeps a decision cheap however long the
queue is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from hallq.core.enums import Priority

DEFAULT_BOOST_MINUTES = {Priority.NORMAL: 0.0, Priority.APPOINTMENT: 10.0, Priority.GREEN: 20.0}


@dataclass(frozen=True, slots=True)
class Candidate:
    """The head of one (service, priority) group as a window sees it."""

    ticket_id: int
    service_id: int
    priority: Priority
    queued_at: datetime
    weight: float


class CallingPolicy(Protocol):
    name: str

    def choose(self, candidates: list[Candidate], now: datetime, window_id: int) -> Candidate | None: ...


class AgingPriorityPolicy:
    """Weighted priority with linear aging, as documented above."""

    name = "aging"

    def __init__(self, boost_minutes: dict[Priority, float] | None = None):
        self.boost = dict(DEFAULT_BOOST_MINUTES)
        if boost_minutes:
            self.boost.update(boost_minutes)

    def score(self, c: Candidate, now: datetime) -> float:
        waited = (now - c.queued_at).total_seconds() / 60.0
        return c.weight * (self.boost[c.priority] + waited)

    def choose(self, candidates: list[Candidate], now: datetime, window_id: int) -> Candidate | None:
        best = None
        best_key = None
        for c in candidates:
            key = (-self.score(c, now), c.queued_at, c.ticket_id)
            if best_key is None or key < best_key:
                best, best_key = c, key
        return best


class FirstComeFirstServedPolicy:
    """Oldest ticket first, ignoring class and weight (a baseline for the simulator)."""

    name = "fcfs"

    def choose(self, candidates: list[Candidate], now: datetime, window_id: int) -> Candidate | None:
        return min(candidates, key=lambda c: (c.queued_at, c.ticket_id), default=None)

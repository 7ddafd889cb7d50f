"""HallQ's calling policy: accumulating priority with service-level targets
and window proficiency.

When window w looks at the head of a (service s, priority class k) group,
the ticket's priority is

    priority = rate(w, s) × (boost[k] + minutes waited) − detour(w, s)

    rate(w, s)   = weight(w, s) × reference_target / target(s)
    detour(w, s) = patience × (1 / proficiency(w, s) − 1) × handling_minutes(s)

* `minutes waited` counts from the ticket's original issue time, so every
  ticket's priority grows while it waits (accumulating priority): a class with
  a lower rate or no boost falls behind for a while but is never starved.
* `boost[k]` is the head start of a priority class in minutes (normal 0,
  appointment 10, green channel 20), as in the engine's aging policy.
* `target(s)` is the service-level target of service s (minutes within which
  most of its visitors should be called). A service with a tight target
  accumulates faster: a ticket's priority is, in effect, the share of its
  target it has used up. `reference_target` (the mean of the targets) only
  keeps the numbers in minutes.
* `weight(w, s)` is the window's weight for the service, as the hall file or
  the manager set it.
* `proficiency(w, s)` is how fast the window's staff handle the service
  relative to their main ones (1.0 on main services; 0.9 means 10% slower).
  `(1/proficiency − 1) × handling_minutes` is the window time a case costs
  beyond what its own staff would need: the detour. A window takes a ticket
  outside its main services only when that ticket has waited `patience` times
  the detour longer than its own (patience 3: a 15-minute service at 0.9
  proficiency must have waited 5 minutes more). So a window helps where a
  queue really is longer, and windows do not swap work back and forth at a
  loss of capacity. With nothing of its own waiting it helps at once.

With no targets and every proficiency 1 the policy is exactly the engine's
aging policy. Neither rate nor detour depends on time, so within one (service,
priority) group the priority never decreases with waiting: the contract of
core/calling/policy.py holds, and the engine may offer only group heads.

Ties go to the earlier issue time, then the lower ticket id.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from hallq.core.calling.policy import DEFAULT_BOOST_MINUTES, Candidate
from hallq.core.enums import Priority
from hallq.core.errors import Invalid
from hallq.core.models import Hall, Service, Window

MIN_TARGET = 1.0
MAX_TARGET = 480.0
DEFAULT_PATIENCE = 3.0
DEFAULT_HANDLING = 10.0


class AccumulatingPriorityPolicy:
    """Accumulating priority, scaled by service-level targets and window proficiency."""

    name = "accumulating"

    def __init__(
        self,
        *,
        targets: dict[int, float] | None = None,
        proficiency: dict[tuple[int, int], float] | None = None,
        handling: dict[int, float] | None = None,
        patience: float = DEFAULT_PATIENCE,
        boost_minutes: dict[Priority, float] | None = None,
    ):
        self.boost = dict(DEFAULT_BOOST_MINUTES)
        if boost_minutes:
            self.boost.update(boost_minutes)
        self.targets = dict(targets or {})  # service id → minutes
        self.reference = sum(self.targets.values()) / len(self.targets) if self.targets else 1.0
        self.patience = patience
        handling = handling or {}
        # (window id, service id) → detour in minutes, computed once.
        self.detours = {
            (w, s): patience * (1.0 / p - 1.0) * handling.get(s, DEFAULT_HANDLING)
            for (w, s), p in (proficiency or {}).items()
            if p < 1.0
        }

    def rate(self, service_id: int, weight: float) -> float:
        """How fast a ticket of this service gains priority (per minute waited)."""
        return weight * self.reference / self.targets.get(service_id, self.reference)

    def score(self, c: Candidate, now: datetime, window_id: int) -> float:
        waited = (now - c.queued_at).total_seconds() / 60.0
        return self.rate(c.service_id, c.weight) * (self.boost[c.priority] + waited) - self.detours.get((window_id, c.service_id), 0.0)

    def choose(self, candidates: list[Candidate], now: datetime, window_id: int) -> Candidate | None:
        best = None
        best_key = None
        for c in candidates:
            key = (-self.score(c, now, window_id), c.queued_at, c.ticket_id)
            if best_key is None or key < best_key:
                best, best_key = c, key
        return best


def policy_for_hall(
    session: Session,
    hall: Hall,
    *,
    targets: dict[str, float] | None = None,
    proficiency: dict[int, dict[str, float]] | None = None,
    patience: float = DEFAULT_PATIENCE,
    boost_minutes: dict[Priority, float] | None = None,
) -> AccumulatingPriorityPolicy:
    """Build the policy from settings in the hall's words: targets by service code,
    proficiency by window number and service code; raise Invalid on unknown names."""
    rows = session.exec(select(Service).where(Service.hall_id == hall.id)).all()
    services = {s.code: s.id for s in rows}
    handling = {s.id: s.handling_minutes for s in rows}
    windows = {w.number: w.id for w in session.exec(select(Window).where(Window.hall_id == hall.id)).all()}
    by_id: dict[int, float] = {}
    for code, minutes in (targets or {}).items():
        if code not in services:
            raise Invalid("unknown_service", f"a target names unknown service {code!r}")
        if isinstance(minutes, bool) or not isinstance(minutes, (int, float)) or not MIN_TARGET <= minutes <= MAX_TARGET:
            raise Invalid("bad_target", f"the target of {code} must be {MIN_TARGET:g}–{MAX_TARGET:g} minutes")
        by_id[services[code]] = float(minutes)
    speed: dict[tuple[int, int], float] = {}
    for number, per_service in (proficiency or {}).items():
        if number not in windows:
            raise Invalid("unknown_window", f"a proficiency names unknown window {number!r}")
        for code, factor in per_service.items():
            if code not in services:
                raise Invalid("unknown_service", f"a proficiency names unknown service {code!r}")
            if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not 0 < factor <= 2:
                raise Invalid("bad_proficiency", f"proficiency of window {number} for {code} must be above 0 and at most 2")
            speed[(windows[number], services[code])] = float(factor)
    if isinstance(patience, bool) or not isinstance(patience, (int, float)) or not 0 <= patience <= 100:
        raise Invalid("bad_patience", "patience must be a number from 0 to 100")
    return AccumulatingPriorityPolicy(
        targets=by_id, proficiency=speed, handling=handling, patience=float(patience), boost_minutes=boost_minutes
    )


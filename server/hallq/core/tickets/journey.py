"""A ticket's journey: each step written once, never changed, and what a journey measures.

The ticket's own columns say where it is now (a recall moves its `called_at`, a transfer clears
its call); its steps (`TicketStep`) say how it got there, and every figure about waiting and
handling is computed from them, here and nowhere else.

Definitions:

- A **leg** is the part of a journey spent in one service. Leg 1 begins when the ticket is
  issued; a transfer by its window or a move by a manager ends a leg and begins the next, at
  the same moment.
- The **wait** of a leg runs from its beginning to its first call (a recall does not end it
  again, and a requeue does not start it again). A ticket's wait is its first leg's: from issue
  to its first call. A leg never called has no wait.
- The **handling** of a leg runs from the start of service to the leg's end by completion or
  transfer. Service starts at the `started` step when the window pressed "start"; when it did
  not, at the last call of the leg before its end: the call the visitor answered. A leg that
  ends otherwise (no-show, requeue without a later call, closed by the day's sweep) has no
  handling. A ticket's handling is the sum of its legs'.
- A ticket's **outcome**: `completed`; `no_show` (called and did not come); `walked_away`
  (closed by the sweep while waiting: never called on its last leg); `closed` (closed by the
  sweep after it was called); `open` (its day is not over).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable

from sqlalchemy import insert
from sqlmodel import select

from hallq.core import clock
from hallq.core.enums import Step
from hallq.core.models import Ticket, TicketStep, Window
from hallq.core.txn import Txn

_INSERT_STEP = insert(TicketStep)
_LEG_ENDS = (Step.TRANSFERRED, Step.MOVED)
_CALLS = (Step.CALLED, Step.RECALLED)


def step_row(tx: Txn, ticket, step: Step, *, window_id: int | None = None, staff_id: int | None = None,
             detail: str = "", at: datetime | None = None) -> dict:
    """One step of `ticket` (an ORM row or the plain record issue makes), in its current leg and service."""
    return dict(ticket_id=ticket.id, hall_id=tx.hall.id, at=at or tx.now, step=str(step), leg=ticket.transfers + 1,
                service_id=ticket.service_id, window_id=window_id, staff_id=staff_id, detail=detail[:64])


def write(tx: Txn, rows: list[dict]) -> None:
    """Append steps (one INSERT for them all: ticket issue writes a batch at once)."""
    if rows:
        tx.session.connection().execute(_INSERT_STEP, rows)


def record(tx: Txn, ticket, step: Step, *, window_id: int | None = None, staff_id: int | None = None,
           detail: str = "", at: datetime | None = None) -> None:
    write(tx, [step_row(tx, ticket, step, window_id=window_id, staff_id=staff_id, detail=detail, at=at)])


def at_window(tx: Txn, ticket: Ticket, step: Step, window: Window, detail: str = "") -> None:
    """A step taken at a window, by the staff member signed in there."""
    record(tx, ticket, step, window_id=window.id, staff_id=window.staff_id, detail=detail)


def steps_of(tx: Txn, ticket_id: int) -> list[TicketStep]:
    """A ticket's steps in the order they were written."""
    return list(tx.session.exec(select(TicketStep).where(TicketStep.ticket_id == ticket_id).order_by(TicketStep.id)))


# -- what a journey measures --------------------------------------------------


@dataclass
class Leg:
    number: int
    service_id: int | None  # None: begun by a transfer or move, and nothing since
    began: datetime
    wait_minutes: float | None = None  # to its first call
    handling_minutes: float | None = None  # from the start of service to completion or transfer
    window_id: int | None = None  # where it was served (or last called)
    staff_id: int | None = None
    ended: str = ""  # the step that ended it: completed, transferred, moved, no_show, closed; "" while open

    @property
    def served(self) -> bool:
        """Served at a window and ended by completion or transfer: what a visitor may rate (好差评)."""
        return self.window_id is not None and self.ended in ("completed", "transferred")


@dataclass
class Measures:
    legs: list[Leg] = field(default_factory=list)
    outcome: str = "open"
    calls: int = 0  # calls and recalls, over every leg
    requeues: int = 0

    @property
    def wait_minutes(self) -> float | None:
        """From issue to the first call."""
        return self.legs[0].wait_minutes if self.legs else None

    @property
    def handling_minutes(self) -> float | None:
        handled = [leg.handling_minutes for leg in self.legs if leg.handling_minutes is not None]
        return sum(handled) if handled else None

    @property
    def transfers(self) -> int:
        return max(0, len(self.legs) - 1)


def _minutes(start: datetime, end: datetime) -> float:
    return (clock.as_utc(end) - clock.as_utc(start)).total_seconds() / 60.0


def measure(steps: Iterable) -> Measures:
    """What one ticket's steps (in the order written) measure: see the definitions above."""
    m = Measures()
    leg: Leg | None = None
    started: datetime | None = None  # this leg's service start, if "start" was pressed
    last_call: datetime | None = None  # this leg's latest call (cleared by a requeue)
    for s in steps:
        step = Step(s.step)
        if leg is None:
            leg = Leg(number=s.leg, service_id=s.service_id, began=s.at)
            m.legs.append(leg)
        elif leg.service_id is None:  # begun by a transfer or a move: its service is its steps'
            leg.service_id = s.service_id
        if step in _CALLS:
            m.calls += 1
            if leg.wait_minutes is None:
                leg.wait_minutes = _minutes(leg.began, s.at)
            last_call = s.at
        elif step == Step.STARTED:
            started = s.at
        elif step == Step.REQUEUED:
            m.requeues += 1
            started = last_call = None
        if s.window_id is not None:
            leg.window_id, leg.staff_id = s.window_id, s.staff_id
        if step not in (Step.COMPLETED, Step.NO_SHOW, Step.CLOSED, *_LEG_ENDS):
            continue
        begun = started or last_call
        if step in (Step.COMPLETED, Step.TRANSFERRED) and begun is not None:
            leg.handling_minutes = _minutes(begun, s.at)
        leg.ended = str(step)
        if step in _LEG_ENDS:  # the next leg begins now, in a service its own steps will name
            leg = Leg(number=s.leg + 1, service_id=None, began=s.at)
            m.legs.append(leg)
            started = last_call = None
        elif step == Step.COMPLETED:
            m.outcome = "completed"
        elif step == Step.NO_SHOW:
            m.outcome = "no_show"
        else:
            m.outcome = "closed" if last_call is not None else "walked_away"
    return m

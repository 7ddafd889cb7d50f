"""Each day of a hall summarised from its tickets' journeys (tickets/journey.py defines wait,
handling and outcome), per dimension:

- ``hall`` and ``hour`` (of issue, in the hall's time zone): per ticket. A ticket's wait is its
  first leg's, its handling the sum of its legs', its outcome its last leg's; the wait it was
  promised at issue is held against it (the promise's error).
- ``service``: per leg, in the leg's service: a transfer begins a leg in another service, so a
  transferred ticket counts in both (``issued`` there means "legs begun").
- ``window`` and ``staff``: per leg, where it was last called or served.

Reviews (好差评) count on the day of the ticket they rate, at the window, staff member and service
of the leg they rate, with the rectification case of a bad one (reviews/cases.py). A rating or a
case that changes after its day was rolled up rolls the day up again (``refresh``). A finished
day's rows are written by the day's sweep (``catch_up``) and can be rebuilt at any time from the
journeys (``hallq stats rebuild``); today, and any day without rows, is summarised live the same
way (``figures_for``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from itertools import groupby

from sqlalchemy import delete, func, insert
from sqlmodel import Session, select

from hallq.core import clock
from hallq.core.reviews.models import Review, ReviewCase
from hallq.core.enums import Step
from hallq.core.models import Hall, Ticket, TicketStep
from hallq.core.stats.models import DayFigure
from hallq.core.tickets.journey import measure

DIMENSIONS = ("hall", "service", "window", "staff", "hour")
OUTCOMES = ("completed", "no_show", "walked_away", "closed")
CATCH_UP_DAYS = 31  # how far back the sweep looks for days left without figures (older: `hallq stats rebuild`)


@dataclass
class Cell:
    """The additive figures of one dimension's key over one or more days."""

    issued: int = 0
    called: int = 0
    completed: int = 0
    no_show: int = 0
    walked_away: int = 0
    closed: int = 0
    transferred: int = 0
    wait_n: int = 0
    wait_sum: float = 0.0
    wait_hist: dict = field(default_factory=dict)
    handling_n: int = 0
    handling_sum: float = 0.0
    handling_hist: dict = field(default_factory=dict)
    promise_n: int = 0
    promise_error_sum: float = 0.0
    simple_n: int = 0
    simple_error_sum: float = 0.0
    reviews: int = 0
    reviews_5: int = 0
    reviews_satisfied: int = 0
    reviews_bad: int = 0
    score_sum: int = 0
    served_legs: int = 0  # legs served at a window (completed or transferred): what a visitor may rate
    reviews_1: int = 0  # 非常不满意 (reviews_bad − reviews_1: 不满意)
    reviews_phone: int = 0  # by channel: the phone (the rest: the review box, or the hall's default)
    reviews_default: int = 0  # unrated services counted as the hall's default level (not active ratings)
    appealed_removed: int = 0  # bad ratings an approved appeal took out of the rates (not in reviews)
    cases: int = 0  # rectification cases opened (one per bad rating)
    rectified: int = 0  # cases closed after being rectified or explained
    rectified_on_time: int = 0  # of those, rectified or explained by the deadline

    def add_wait(self, minutes: float | None) -> None:
        if minutes is not None:
            self.wait_n += 1
            self.wait_sum += minutes
            _count(self.wait_hist, minutes)

    def add_handling(self, minutes: float | None) -> None:
        if minutes is not None:
            self.handling_n += 1
            self.handling_sum += minutes
            _count(self.handling_hist, minutes)

    def add_promise(self, promised: float | None, simple: float | None, waited: float | None) -> None:
        """The wait promised at issue, and the simple estimate made beside it, against the wait measured."""
        if waited is None:
            return
        if promised is not None:
            self.promise_n += 1
            self.promise_error_sum += abs(promised - waited)
        if simple is not None:
            self.simple_n += 1
            self.simple_error_sum += abs(simple - waited)

    def end(self, ended: str, was_called: bool) -> None:
        """Count how a leg ended (a transfer or move included)."""
        if ended in (Step.TRANSFERRED, Step.MOVED):
            self.transferred += 1
        elif ended == Step.CLOSED:
            self.outcome("closed" if was_called else "walked_away")
        elif ended:
            self.outcome(ended)

    def outcome(self, outcome: str) -> None:
        """Count a ticket's (or leg's) outcome: completed, no_show, walked_away or closed; open counts nowhere."""
        if outcome in OUTCOMES:
            setattr(self, outcome, getattr(self, outcome) + 1)

    def review(self, score: int, channel: str, excluded: bool, case) -> None:
        """One rating (and its case, if it has one): an appealed one counts only as removed."""
        if case is not None:
            self.cases += 1
            if case.state == "closed" and case.outcome in ("rectified", "explained"):
                self.rectified += 1
                self.rectified_on_time += case.settled_on is not None and case.settled_on <= case.due
        if excluded:
            self.appealed_removed += 1
            return
        self.reviews_1 += score == 1
        self.reviews_phone += channel == "phone"
        self.reviews_default += channel == "default"
        self.reviews += 1
        self.score_sum += score
        self.reviews_5 += score == 5
        self.reviews_satisfied += score >= 4
        self.reviews_bad += score <= 2

    def merge(self, other: "Cell | DayFigure") -> None:
        for name in _ADDITIVE:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        _merge_hist(self.wait_hist, other.wait_hist)
        _merge_hist(self.handling_hist, other.handling_hist)


_ADDITIVE = [f.name for f in fields(Cell) if not f.name.endswith("_hist")]
_SUMS = [func.sum(getattr(DayFigure, name)) for name in _ADDITIVE]


def _merge_hist(mine: dict, other: dict | None) -> None:
    for minute, n in (other or {}).items():
        mine[minute] = mine.get(minute, 0) + n


def _count(hist: dict, minutes: float) -> None:
    key = str(int(max(0.0, minutes)))  # whole minutes (JSON keys are strings)
    hist[key] = hist.get(key, 0) + 1


def summarise(session: Session, hall: Hall, day: date, *, staff: int | None = None) -> dict[tuple[str, int], Cell]:
    """The day's figures, from its tickets' journeys and reviews, per (dimension, key). With
    `staff`, only the tickets that staff member took a step of: right for their own ("staff",
    staff) cell and cheap for their terminal, wrong for every other cell."""
    cells: dict[tuple[str, int], Cell] = defaultdict(Cell)
    cells[("hall", 0)]  # a day with no tickets still has its (empty) hall row
    day_tickets = select(Ticket.id).where(Ticket.hall_id == hall.id, Ticket.business_date == day)
    if staff is not None:
        day_tickets = day_tickets.where(Ticket.id.in_(
            select(TicketStep.ticket_id).where(TicketStep.hall_id == hall.id, TicketStep.at >= clock.day_start_moment(day, hall.timezone),
                                               TicketStep.staff_id == staff)))
    tickets = session.exec(select(Ticket.id, Ticket.issued_at, Ticket.estimated_wait_minutes, Ticket.simple_wait_minutes)
                           .where(Ticket.id.in_(day_tickets))).all()
    issued = {ticket_id: at for ticket_id, at, _, _ in tickets}
    promised = {ticket_id: (promise, simple) for ticket_id, _, promise, simple in tickets}
    # The steps as plain rows (what measure reads), not ORM objects: a day has some ten thousand.
    step = TicketStep.__table__.c
    steps = session.connection().execute(select(step.ticket_id, step.step, step.leg, step.service_id, step.at, step.window_id, step.staff_id)
                                         .where(step.ticket_id.in_(day_tickets)).order_by(step.ticket_id, step.id)).all()
    last_service: dict[int, int] = {}
    for ticket_id, journey in groupby(steps, key=lambda s: s.ticket_id):
        m = measure(list(journey))
        hour = clock.to_local(issued[ticket_id], hall.timezone).hour
        served = sum(leg.served for leg in m.legs)
        for cell in (cells[("hall", 0)], cells[("hour", hour)]):
            cell.issued += 1
            cell.served_legs += served
            cell.called += m.calls > 0
            cell.outcome(m.outcome)
            cell.transferred += m.transfers
            cell.add_wait(m.wait_minutes)
            cell.add_handling(m.handling_minutes)
            cell.add_promise(*promised[ticket_id], m.wait_minutes)
        for leg in m.legs:
            called = leg.wait_minutes is not None
            where = [("service", leg.service_id)] if leg.service_id is not None else []
            where += [("window", leg.window_id)] if leg.window_id is not None else []
            where += [("staff", leg.staff_id)] if leg.staff_id is not None else []
            for key in where:
                cell = cells[key]
                cell.issued += key[0] == "service"
                cell.served_legs += leg.served
                cell.called += called
                cell.end(leg.ended, called)
                cell.add_wait(leg.wait_minutes)
                cell.add_handling(leg.handling_minutes)
            if leg.service_id is not None:
                last_service[ticket_id] = leg.service_id
    r, c = Review.__table__.c, ReviewCase.__table__.c
    rows = session.connection().execute(
        select(r.ticket_id, r.window_id, r.staff_id, r.service_id, r.score, r.channel, r.excluded,
               c.id.label("case_id"), c.state, c.outcome, c.settled_on, c.due)
        .select_from(Review.__table__.outerjoin(ReviewCase.__table__, c.review_id == r.id))
        .where(r.ticket_id.in_(day_tickets))).all()
    for review in rows:  # plain rows, as the steps: a day has some two thousand ratings
        case = review if review.case_id is not None else None
        keys = [("hall", 0), ("window", review.window_id)]
        keys += [("staff", review.staff_id)] if review.staff_id is not None else []
        service = review.service_id or last_service.get(review.ticket_id)
        keys += [("service", service)] if service is not None else []
        for key in keys:
            cells[key].review(review.score, review.channel, review.excluded, case)
    return dict(cells)


def store(session: Session, hall: Hall, day: date, cells: dict[tuple[str, int], Cell]) -> int:
    """Replace the day's rows with `cells`; how many rows were written."""
    session.execute(delete(DayFigure).where(DayFigure.hall_id == hall.id, DayFigure.day == day))
    rows = [dict(hall_id=hall.id, day=day, dimension=dim, key=key, **{f.name: getattr(cell, f.name) for f in fields(Cell)})
            for (dim, key), cell in sorted(cells.items())]
    session.execute(insert(DayFigure), rows)
    return len(rows)


def roll_up(session: Session, hall: Hall, day: date) -> int:
    """Summarise `day` and store it."""
    return store(session, hall, day, summarise(session, hall, day))


def refresh(session: Session, hall: Hall, day: date, today: date) -> bool:
    """Roll `day` up again if it is over and has stored rows: a rating made on the phone days
    later, a case closed or an appeal decided changes a finished day's figures."""
    if day >= today or session.exec(select(DayFigure.id).where(DayFigure.hall_id == hall.id, DayFigure.day == day,
                                                              DayFigure.dimension == "hall")).first() is None:
        return False
    # The hall's row first, as the day's sweep takes it: two transactions rolling one day up take
    # turns (on PostgreSQL the second would otherwise insert rows the first just wrote).
    session.execute(select(Hall.id).where(Hall.id == hall.id).with_for_update())
    roll_up(session, hall, day)
    return True


def days_with_tickets(session: Session, hall: Hall, since: date, until: date) -> list[date]:
    """The days in [since, until] on which the hall issued tickets, in order."""
    return list(session.exec(select(Ticket.business_date).distinct()
                             .where(Ticket.hall_id == hall.id, Ticket.business_date >= since, Ticket.business_date <= until)
                             .order_by(Ticket.business_date)).all())


def catch_up(session: Session, hall: Hall, today: date) -> list[date]:
    """Roll up the finished days of the last CATCH_UP_DAYS that have tickets and no figures yet
    (the day's sweep calls this); the days rolled up."""
    since = today - timedelta(days=CATCH_UP_DAYS)
    done = set(session.exec(select(DayFigure.day).where(DayFigure.hall_id == hall.id, DayFigure.dimension == "hall",
                                                          DayFigure.day >= since)).all())
    days = [d for d in days_with_tickets(session, hall, since, today - timedelta(days=1)) if d not in done]
    for day in days:
        roll_up(session, hall, day)
    return days


def figures_for(session: Session, hall: Hall, since: date, until: date, today: date, *,
                staff: int | None = None) -> dict[tuple[str, int], Cell]:
    """The figures of the days [since, until], summed per (dimension, key): stored rows for the
    finished days that have them, and the others (today, or a day not rolled up) summarised live.
    With `staff`, only that staff member's cell (see summarise).

    The stored days are summed by the database (one GROUP BY for the counts and sums); only the
    histograms are merged here. A day's rows are written together, its hall row always among
    them, so the days before today with a hall row are exactly the days with stored rows."""
    total: dict[tuple[str, int], Cell] = defaultdict(Cell)
    last = min(until, today - timedelta(days=1))
    covered: set[date] = set()
    if since <= last:
        where = [DayFigure.hall_id == hall.id, DayFigure.day >= since, DayFigure.day <= last]
        covered = set(session.exec(select(DayFigure.day).where(*where, DayFigure.dimension == "hall")).all())
    if covered:
        # Only the days just found: a day rolled up between these statements (by another
        # transaction, under READ COMMITTED) is summarised live below, and counted once.
        where = [DayFigure.hall_id == hall.id, DayFigure.day.in_(sorted(covered))]
        where += [DayFigure.dimension == "staff", DayFigure.key == staff] if staff is not None else []
        dims = (DayFigure.dimension, DayFigure.key)
        for row in session.execute(select(*dims, *_SUMS).where(*where).group_by(*dims)).all():
            cell = total[(row[0], row[1])]
            for name, value in zip(_ADDITIVE, row[2:]):
                setattr(cell, name, value or 0)
        for dimension, key, waits, handling in session.execute(
                select(*dims, DayFigure.wait_hist, DayFigure.handling_hist).where(*where)).all():
            cell = total[(dimension, key)]
            _merge_hist(cell.wait_hist, waits)
            _merge_hist(cell.handling_hist, handling)
    for day in days_with_tickets(session, hall, since, until):
        if day not in covered:
            for key, cell in summarise(session, hall, day, staff=staff).items():
                if staff is None or key == ("staff", staff):
                    total[key].merge(cell)
    return dict(total)


def hours_by_day(session: Session, hall: Hall, since: date, until: date, today: date) -> dict[tuple[date, int], Cell]:
    """Each day's figures per hour of issue, (day, hour) → Cell: the heat map's cells. Stored rows
    for the finished days that have them, the others summarised live (as figures_for)."""
    cells: dict[tuple[date, int], Cell] = {}
    stored = session.exec(select(DayFigure).where(DayFigure.hall_id == hall.id, DayFigure.day >= since, DayFigure.day <= until,
                                                  DayFigure.dimension.in_(("hall", "hour")))).all()
    covered = {row.day for row in stored if row.dimension == "hall" and row.day < today}
    for row in stored:
        if row.dimension == "hour" and row.day in covered:
            cell = cells[(row.day, row.key)] = Cell()
            cell.merge(row)
    for day in days_with_tickets(session, hall, since, until):
        if day not in covered:
            for (dimension, key), cell in summarise(session, hall, day).items():
                if dimension == "hour":
                    cells[(day, key)] = cell
    return cells


def quantile(hist: dict, q: float) -> float | None:
    """The q-quantile (0–1) of a whole-minute histogram by nearest rank (the smallest minute with
    at least ceil(q·n) of the n values at or below it), in minutes."""
    n = sum(hist.values())
    if not n:
        return None
    rank, seen = max(1, math.ceil(q * n)), 0
    for minute in sorted(hist, key=int):
        seen += hist[minute]
        if seen >= rank:
            return float(int(minute))
    return None  # not reached: seen ends at n ≥ rank

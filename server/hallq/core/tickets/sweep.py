"""Closing what a day leaves behind: the tickets still open at closing time or
after midnight, and the windows still open from an earlier day; then the finished days'
figures are written."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import select

from hallq.core import calendar, clock
from hallq.core.enums import OPEN_TICKET_STATUSES, Step, TicketStatus, WindowState
from hallq.core.models import Hall, Ticket, Window
from hallq.core.reviews import contacts, ratings
from hallq.core.stats import rollup
from hallq.core.tickets import journey
from hallq.core.txn import SYSTEM, Txn
from hallq.core.windows.state import reset_window


def sweep(tx: Txn) -> bool:
    """Close what the clock has left open: at closing time the tickets still
    waiting or called; at the day's end everything, and every window.
    True when it did its work (and so changed the hall's next sweep time)."""
    hall = tx.hall
    if hall.sweep_after is not None and tx.now < hall.sweep_after:
        return False
    # On PostgreSQL the first writers after closing time or midnight all find the
    # sweep due. Take the hall's row first and look again: the others wait here for
    # the first to commit, then find nothing to do, instead of writing back windows
    # they read before it committed (a lost update, or a deadlock on hall and windows).
    # tx.hall may be a read-only row read before the lock: look again at the locked row.
    due = tx.session.execute(select(Hall.sweep_after).where(Hall.id == hall.id).with_for_update()).scalar_one()
    if due is not None and tx.now < due:
        return False
    tz = hall.timezone
    today = clock.business_date(tx.now, tz)
    spans = clock.parse_hours(calendar.hours_on(hall, today))
    closing = clock.closing_moment(spans, today, tz)
    session = tx.session

    stale = session.exec(
        select(Ticket).where(
            Ticket.hall_id == hall.id, Ticket.status.in_(OPEN_TICKET_STATUSES), Ticket.business_date < today
        )
    ).all()
    late = []
    if tx.now >= closing:
        late = session.exec(
            select(Ticket).where(
                Ticket.hall_id == hall.id,
                Ticket.business_date == today,
                Ticket.status.in_((TicketStatus.WAITING, TicketStatus.CALLED)),
            )
        ).all()
    closing_steps = []
    for ticket, reason in [(t, "day_end") for t in stale] + [(t, "hall_closed") for t in late]:
        closing_steps.append(journey.step_row(tx, ticket, Step.CLOSED, window_id=ticket.window_id, staff_id=ticket.staff_id, detail=reason))
        ticket.status = TicketStatus.EXPIRED
        ticket.close_reason = reason
        ticket.finished_at = tx.now
        session.add(ticket)
        tx.emit("ticket.expired", ticket=ticket.public_id, number=ticket.number, reason=reason)

    journey.write(tx, closing_steps)
    expired_ids = {t.id for t in stale} | {t.id for t in late}
    windows = session.exec(select(Window).where(Window.hall_id == hall.id)).all()
    closed = []
    for window in windows:
        day_changed = window.since is not None and clock.business_date(window.since, tz) < today
        if day_changed and window.state != WindowState.CLOSED:
            reset_window(window, WindowState.CLOSED, tx.now)
            session.add(window)
            closed.append(window.number)
            tx.emit("window.closed", window=window.number, reason="day_end", version=window.version)
        elif window.current_ticket_id in expired_ids:
            reset_window(window, WindowState.IDLE, tx.now, keep_staff=True)
            session.add(window)
            tx.emit("window.idle", window=window.number, reason="hall_closed", version=window.version)
    if expired_ids or closed:  # the server's own doing, whoever's write found the sweep due
        tx.audit("hall.sweep", hall.slug, actor=SYSTEM, expired=sorted(t.number for t in stale + late), windows_closed=closed)

    # The finished days' figures, from the journeys just closed (stats/rollup.py).
    rollup.catch_up(session, hall, today)
    # Services left unrated past their rating window, where the hall counts them (reviews/ratings.py),
    # and visitors' contacts kept past their retention after their case closed (reviews/contacts.py).
    ratings.apply_default(tx, today)
    contacts.erase_expired(tx, today)

    day_end = clock.day_end_moment(today, tz)
    # A Core UPDATE: tx.hall may be a read-only row (see UnitOfWork.write).
    session.execute(update(Hall).where(Hall.id == hall.id).values(sweep_after=closing if tx.now < closing else day_end))
    return True

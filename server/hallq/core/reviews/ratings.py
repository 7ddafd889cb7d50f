"""Ratings (好差评): one per service leg, from the window's review box or the visitor's phone.

A leg may be rated once it was served: it ended by completion or by a transfer after a window
served it (tickets/journey.py). The review box rates the leg served at its window; the phone names
the leg, or rates the last one served. A second rating of a leg, from any channel, is refused
(`already_reviewed`, with the channel that rated it). A bad rating (不满意, 非常不满意) opens its
rectification case in the same transaction (cases.py).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import exists
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from hallq.core import calendar, clock
from hallq.core.enums import TicketStatus
from hallq.core.errors import Conflict, Invalid
from hallq.core.models import Ticket, Window
from hallq.core.reviews import cases
from hallq.core.reviews.models import Review
from hallq.core.reviews.settings import of_hall as settings_of
from hallq.core.shapes import iso
from hallq.core.stats import rollup
from hallq.core.tickets import journey
from hallq.core.txn import Txn

LEVELS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
LEVELS_EN = {5: "Very satisfied", 4: "Satisfied", 3: "Basically satisfied", 2: "Dissatisfied", 1: "Very dissatisfied"}
BAD = (1, 2)  # 差评: each opens a case
# The indicators a rating may score beside its level (办事效率, 服务态度, 业务水平, 告知指引).
INDICATORS = ("efficiency", "attitude", "professionalism", "guidance")
MAX_COMMENT = 200
CHANNELS = ("review_box", "phone")
DEFAULT_CHANNEL = "default"  # a service left unrated, counted as the hall's default level
DEFAULT_LOOKBACK_DAYS = 31  # how far back the sweep looks for services left unrated


def is_bad(score: int) -> bool:
    return score in BAD


def _score(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value not in LEVELS:
        raise Invalid("bad_score", f"{what} is a whole number from 1 (非常不满意) to 5 (非常满意)")
    return value


def check(tx: Txn, *, score: Any, indicators: Any = None, reasons: Any = None, comment: Any = None) -> tuple[int, dict, list, str]:
    """The rating's parts, validated: refused with a clear code, never cut or coerced."""
    score = _score(score, "a rating's score")
    indicators = {} if indicators is None else indicators
    if not isinstance(indicators, dict) or set(indicators) - set(INDICATORS):
        raise Invalid("bad_indicators", f"indicators are scored by name: {', '.join(INDICATORS)}")
    indicators = {name: _score(v, f"indicator {name}") for name, v in indicators.items()}
    reasons = [] if reasons is None else reasons
    allowed = settings_of(tx.hall).bad_reasons
    if not isinstance(reasons, list) or any(not isinstance(r, str) or r not in allowed for r in reasons):
        raise Invalid("bad_reasons", f"reasons come from the hall's list: {'、'.join(allowed)}")
    if reasons and not is_bad(score):
        raise Invalid("reasons_for_bad_only", "reasons are given with a bad rating (不满意 or 非常不满意) only")
    comment = "" if comment is None else comment
    if not isinstance(comment, str) or len(comment.strip()) > MAX_COMMENT:
        raise Invalid("comment_too_long", f"a comment is text of at most {MAX_COMMENT} characters")
    if cases.has_control(comment):
        raise Invalid("bad_comment", "a comment has no control characters")
    return score, indicators, list(dict.fromkeys(reasons)), comment.strip()


def served_legs(tx: Txn, ticket: Ticket) -> list[journey.Leg]:
    """The ticket's legs a visitor may rate: served at a window and ended by completion or transfer."""
    return [leg for leg in journey.measure(journey.steps_of(tx, ticket.id)).legs if leg.served]


def rated_legs(tx: Txn, ticket: Ticket) -> dict[int, Review]:
    return {r.leg: r for r in tx.session.exec(select(Review).where(Review.ticket_id == ticket.id))}


def open_until(tx: Txn, ticket: Ticket):
    """The last day a visitor may rate the ticket on the phone: `rate_within_working_days` working
    days after its business day (the day it was issued and served)."""
    n = settings_of(tx.hall).rate_within_working_days
    return calendar.of_hall(tx.hall).add_working_days(ticket.business_date, n)


def rate(tx: Txn, ticket: Ticket, *, channel: str, score: Any, leg: Any = None, window: Window | None = None,
         device_id: int | None = None, indicators: Any = None, reasons: Any = None, comment: Any = None) -> Review:
    """Record one rating of one served leg of `ticket` (the leg served at `window` for a review box,
    else `leg`, else the last leg served), and open its case when it is bad."""
    if channel not in CHANNELS:
        raise Invalid("bad_channel", f"a rating comes from {', '.join(CHANNELS)}")
    score, indicators, reasons, comment = check(tx, score=score, indicators=indicators, reasons=reasons, comment=comment)
    served = served_legs(tx, ticket)
    if window is not None:
        served = [s for s in served if s.window_id == window.id]
        if not served:
            if ticket.window_id != window.id:
                raise Conflict("other_window", f"ticket {ticket.number} was not served at window {window.number}")
            raise Conflict("not_served", f"ticket {ticket.number} is {ticket.status}, not served")
    if not served:
        raise Conflict("not_served", f"ticket {ticket.number} is {ticket.status}, not served")
    if leg is None:
        chosen = served[-1]
    else:
        if isinstance(leg, bool) or not isinstance(leg, int):
            raise Invalid("bad_leg", "leg is the number of a served leg of the ticket (1 unless it was transferred)")
        chosen = next((s for s in served if s.number == leg), None)
        if chosen is None:
            raise Conflict("not_served", f"leg {leg} of ticket {ticket.number} was not served")
    if channel == "phone" and clock.business_date(tx.now, tx.hall.timezone) > open_until(tx, ticket):
        raise Conflict("rating_closed", f"ticket {ticket.number} can no longer be rated on the phone")
    earlier = rated_legs(tx, ticket).get(chosen.number)
    if earlier is not None:
        raise Conflict("already_reviewed", f"ticket {ticket.number} has been rated ({earlier.channel})",
                       channel=earlier.channel, leg=chosen.number)
    review = Review(
        hall_id=tx.hall.id, ticket_id=ticket.id, leg=chosen.number, window_id=chosen.window_id, staff_id=chosen.staff_id,
        service_id=chosen.service_id, score=score, at=tx.now, channel=channel, device_id=device_id,
        indicators=indicators, reasons=reasons, comment=comment,
    )
    try:
        with tx.session.begin_nested():  # a rating of the same leg committed meanwhile (PostgreSQL): refused, not a 500
            tx.session.add(review)
    except IntegrityError:
        first = tx.session.exec(select(Review.channel).where(Review.ticket_id == ticket.id, Review.leg == chosen.number)).first()
        raise Conflict("already_reviewed", f"ticket {ticket.number} has been rated ({first})", channel=first,
                       leg=chosen.number) from None
    # The audit names the rating, never the visitor's words (they may hold a name or a number).
    tx.audit("review.record", ticket.number, leg=chosen.number, channel=channel, score=score, reasons=reasons)
    if is_bad(score):
        cases.open_case(tx, review, ticket)
    tx.session.flush()
    rollup.refresh(tx.session, tx.hall, ticket.business_date, clock.business_date(tx.now, tx.hall.timezone))  # rated days later
    return review


def emit_recorded(tx: Txn, review: Review, ticket: Ticket) -> None:
    """`review.recorded`, with what the window's review box shows next (its last completed ticket,
    now rated): the box learns of a rating made on the phone too."""
    window = tx.session.get(Window, review.window_id)
    last = last_completed(tx.session, tx.hall, window.number, tx.now)
    tx.emit("review.recorded", window=window.number, ticket=ticket.public_id, number=ticket.number, score=review.score,
            level=LEVELS[review.score], channel=review.channel, last_completed=last)


def last_completed(session, hall, window_number: int, now) -> dict | None:
    """The ticket most recently completed at a window today, and whether its leg there was rated."""
    day = clock.business_date(now, hall.timezone)
    row = session.exec(
        select(Ticket, Window.id)
        .join(Window, Window.id == Ticket.window_id)
        .where(Ticket.hall_id == hall.id, Ticket.business_date == day, Ticket.status == TicketStatus.DONE, Window.number == window_number)
        .order_by(Ticket.finished_at.desc(), Ticket.id.desc())
    ).first()
    if row is None:
        return None
    ticket, window_id = row
    reviewed = session.exec(select(Review.id).where(Review.ticket_id == ticket.id, Review.window_id == window_id)).first() is not None
    return {"ticket": ticket.public_id, "number": ticket.number, "window": window_number, "at": iso(ticket.finished_at), "reviewed": reviewed}


def apply_default(tx: Txn, today) -> int:
    """Give the hall's default level (settings: unrated_becomes) to the services left unrated once
    their rating window has closed: each ticket completed on such a day that has no rating gets one,
    for its last leg, on channel "default". Earlier legs of a transferred ticket stay unrated. The
    day's sweep does this for the last DEFAULT_LOOKBACK_DAYS days; the days it changes are rolled up again."""
    settings = settings_of(tx.hall)
    if settings.unrated_becomes is None:
        return 0
    cal = calendar.of_hall(tx.hall)
    first = today - timedelta(days=DEFAULT_LOOKBACK_DAYS)
    days = [first + timedelta(days=i) for i in range(DEFAULT_LOOKBACK_DAYS)]
    closed = [d for d in days if cal.add_working_days(d, settings.rate_within_working_days) < today]
    if not closed:
        return 0
    unrated = tx.session.exec(select(Ticket).where(
        Ticket.hall_id == tx.hall.id, Ticket.business_date.in_(closed), Ticket.status == TicketStatus.DONE,
        Ticket.window_id.is_not(None), ~exists().where(Review.ticket_id == Ticket.id))).all()
    for ticket in unrated:
        tx.session.add(Review(hall_id=tx.hall.id, ticket_id=ticket.id, leg=ticket.transfers + 1, window_id=ticket.window_id,
                              staff_id=ticket.staff_id, service_id=ticket.service_id, score=settings.unrated_becomes, at=tx.now,
                              channel=DEFAULT_CHANNEL))
    if unrated:
        tx.session.flush()
        for day in sorted({t.business_date for t in unrated}):
            rollup.refresh(tx.session, tx.hall, day, today)
        tx.audit("review.default", tx.hall.slug, count=len(unrated), score=settings.unrated_becomes,
                 days=sorted({t.business_date.isoformat() for t in unrated}))
    return len(unrated)

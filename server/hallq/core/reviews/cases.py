"""Rectification cases (差评整改): every bad rating opens one, and it goes

    open ─callback (reached)→ called_back ─verify→ verified ─rectify→ rectified ─follow_up→ followed_up ─close→ closed
      └──────────verify (visitor not reached)──────┘          └─explain→ explained ─┘

A callback that does not reach the visitor is recorded and leaves the case where it was; a note
may be added at any step before closing.

A manager may appeal (申诉) the rating as malicious or mistaken, once per case, at any step
before closing, with the reason and evidence notes; an administrator (the level above the hall)
approves or rejects it. Approved: the rating leaves the rates (it is kept, marked excluded, and
counted as removed) and the case closes with the outcome "appealed". Rejected: the case goes on
where it was. Deadlines count working days after the rating's
business day, by the hall's calendar (`WorkingCalendar.add_working_days`, never weekday
arithmetic): the callback (回访) within `callback_working_days`, rectified or explained within
`rectify_working_days` (reviews/settings.py). Every step is a row of the case's timeline and a
line of the audit log, and a `case.opened` or `case.changed` event for the managers' page.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from sqlmodel import select

from hallq.core import calendar, clock
from hallq.core.errors import Conflict, Forbidden, Invalid, NotFound
from hallq.core.models import Ticket
from hallq.core.reviews.models import CaseStep, Review, ReviewCase
from hallq.core.reviews.settings import ReviewSettings
from hallq.core.reviews.settings import of_hall as settings_of
from hallq.core.stats import rollup
from hallq.core.txn import Txn

OPEN, CALLED_BACK, VERIFIED, RECTIFIED, EXPLAINED, FOLLOWED_UP, CLOSED = (
    "open", "called_back", "verified", "rectified", "explained", "followed_up", "closed")
SETTLED = (RECTIFIED, EXPLAINED, FOLLOWED_UP, CLOSED)  # rectified or explained, and after
# action → (the states it may start from, the state it leads to; None: stays where it was)
ACTIONS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "callback": ((OPEN, CALLED_BACK), CALLED_BACK),  # not reached: stays
    "verify": ((OPEN, CALLED_BACK), VERIFIED),
    "rectify": ((VERIFIED,), RECTIFIED),
    "explain": ((VERIFIED,), EXPLAINED),
    "follow_up": ((RECTIFIED, EXPLAINED), FOLLOWED_UP),
    "close": ((FOLLOWED_UP,), CLOSED),
    "note": ((OPEN, CALLED_BACK, VERIFIED, RECTIFIED, EXPLAINED, FOLLOWED_UP), None),
}
APPEAL_ACTIONS = ("appeal", "approve_appeal", "reject_appeal")
APPEAL_KINDS = ("malicious", "mistaken")  # 恶意评价, 误评
MAX_NOTE = 500
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_EVIDENCE = 1000
# What a manager's list filters by (flags() says which a case has; appealed: an appeal awaits its decision).
FILTERS = ("open", "due_soon", "overdue", "callback_late", "appealed", "closed", "all")


def open_case(tx: Txn, review: Review, ticket) -> ReviewCase:
    """The case of a bad rating, opened in the rating's own transaction."""
    day = clock.business_date(tx.now, tx.hall.timezone)
    settings = settings_of(tx.hall)
    cal = calendar.of_hall(tx.hall)
    case = ReviewCase(
        hall_id=tx.hall.id, review_id=review.id, state=OPEN, opened_at=tx.now, opened_on=day,
        callback_due=cal.add_working_days(day, settings.callback_working_days),
        due=cal.add_working_days(day, settings.rectify_working_days), updated_at=tx.now,
    )
    tx.session.add(case)
    tx.session.flush()
    _step(tx, case, "opened", "", score=review.score, channel=review.channel)
    tx.audit("case.open", f"case {case.id}", ticket=ticket.number, score=review.score, due=case.due.isoformat())
    tx.emit("case.opened", case=case.id, number=ticket.number, state=case.state, due=case.due.isoformat())
    return case


def find_case(tx: Txn, case_id: Any, *, lock: bool = False) -> ReviewCase:
    """Case `case_id` of this hall; with `lock`, its row held until the transaction ends (PostgreSQL:
    two managers stepping the same case, or both becoming its handler, take turns)."""
    case = None
    if isinstance(case_id, int) and not isinstance(case_id, bool) and 0 < case_id < 2**63:
        query = select(ReviewCase).where(ReviewCase.id == case_id)
        case = tx.session.exec(query.with_for_update() if lock else query).first()
    if case is None or case.hall_id != tx.hall.id:
        raise NotFound("unknown_case", f"no case {case_id!r} in hall {tx.hall.slug}")
    return case


def act(tx: Txn, case: ReviewCase, action: str, *, note: Any = "", reached: Any = None, score: Any = None,
        declined: Any = False, kind: Any = None, evidence: Any = None) -> ReviewCase:
    """One step of a case by the transaction's actor: refused (`case_state`) from a state it does not follow."""
    if action in APPEAL_ACTIONS:
        return _appeal(tx, case, action, note=note, kind=kind, evidence=evidence)
    if action not in ACTIONS:
        raise NotFound("unknown_action", f"no case action {action!r}; known: {', '.join(ACTIONS)}")
    starts, leads = ACTIONS[action]
    if action == "close" and case.appeal_state == "pending":
        raise Conflict("appeal_pending", f"case {case.id} has an appeal awaiting its decision: it closes after that",
                       state=case.state, action=action)
    if case.state not in starts:
        raise Conflict("case_state", f"case {case.id} is {case.state}: {action} follows {' or '.join(starts)}",
                       state=case.state, action=action)
    needs = action in ("rectify", "explain", "note", "verify")
    note = _note(note, f"say what was {'done' if action == 'rectify' else 'found or said'}: {action} needs a note" if needs else "")
    detail: dict = {}
    today = clock.business_date(tx.now, tx.hall.timezone)
    if action == "callback":
        if not isinstance(reached, bool):
            raise Invalid("bad_reached", "a callback says whether the visitor was reached (reached: true or false)")
        detail["reached"] = reached
        if not reached:
            leads = None
        elif case.called_back_on is None:
            case.called_back_on = today
    if action == "follow_up":
        if not isinstance(declined, bool):
            raise Invalid("bad_declined", "declined is true or false")
        if declined:
            if score is not None:
                raise Invalid("score_or_declined", "a follow-up has the visitor's score or says they declined, not both")
        elif isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
            raise Invalid("bad_score", "the visitor's follow-up score is 1 (非常不满意) to 5 (非常满意), or declined: true")
        case.follow_up_score = None if declined else score
        detail.update(score=case.follow_up_score, declined=declined)
    if action in ("rectify", "explain"):
        case.outcome = leads
        case.settled_on = today
        detail["on_time"] = today <= case.due
    if leads is not None:
        case.state = leads
    if action == "close":
        case.closed_at = tx.now
    case.updated_at = tx.now
    tx.session.add(case)
    _step(tx, case, action, note, **detail)
    if action == "close":
        refresh_figures(tx, case)
    tx.audit(f"case.{action}", f"case {case.id}", state=case.state, **detail)
    tx.emit("case.changed", case=case.id, state=case.state, action=action)
    return case


def has_control(text: str) -> bool:
    """Whether text holds a control character (tabs and line breaks allowed): what a spreadsheet,
    PostgreSQL or a page would not take as it is."""
    return _CONTROL.search(text) is not None


def plain_text(text: Any, limit: int) -> bool:
    """Text of at most `limit` characters without control characters."""
    return isinstance(text, str) and len(text.strip()) <= limit and not has_control(text)


def _note(note: Any, required: str = "") -> str:
    if not plain_text(note, MAX_NOTE):
        raise Invalid("bad_note", f"a note is text of at most {MAX_NOTE} characters, without control characters")
    if required and not note.strip():
        raise Invalid("note_required", required)
    return note.strip()


def _appeal(tx: Txn, case: ReviewCase, action: str, *, note: Any, kind: Any, evidence: Any) -> ReviewCase:
    """An appeal filed (a manager) or decided (an administrator: see ReviewService.case_action)."""
    detail: dict = {}
    if action == "appeal":
        if case.state == CLOSED or case.appeal_state:
            raise Conflict("case_state", f"case {case.id} cannot be appealed: "
                           + ("it is closed" if case.state == CLOSED else f"its appeal is {case.appeal_state}"),
                           state=case.state, action=action)
        if kind not in APPEAL_KINDS:
            raise Invalid("bad_appeal_kind", f"an appeal says the rating was {' or '.join(APPEAL_KINDS)}")
        note = _note(note, "an appeal gives its reason in the note")
        evidence = "" if evidence is None else evidence
        if not plain_text(evidence, MAX_EVIDENCE):
            raise Invalid("bad_evidence", f"evidence notes are text of at most {MAX_EVIDENCE} characters, without control characters")
        case.appeal_state, case.appeal_kind, case.appeal_by = "pending", kind, tx.actor.user_id
        detail = {"kind": kind, "evidence": evidence.strip()}
    else:
        if case.appeal_state != "pending":
            raise Conflict("no_appeal", f"case {case.id} has no appeal awaiting a decision", appeal=case.appeal_state or None)
        if case.appeal_by is not None and case.appeal_by == tx.actor.user_id:
            raise Forbidden("own_appeal", "an appeal is decided by someone other than who filed it")
        note = _note(note, "a decision on an appeal gives its reason in the note")
        approved = action == "approve_appeal"
        case.appeal_state = "approved" if approved else "rejected"
        if approved:
            review = tx.session.get(Review, case.review_id)
            review.excluded = True
            tx.session.add(review)
            case.state, case.outcome, case.closed_at = CLOSED, "appealed", tx.now
    case.updated_at = tx.now
    tx.session.add(case)
    if action == "approve_appeal":
        refresh_figures(tx, case)
    _step(tx, case, action, note, **detail)
    tx.audit(f"case.{action}", f"case {case.id}", state=case.state, appeal=case.appeal_state, kind=case.appeal_kind)
    tx.emit("case.changed", case=case.id, state=case.state, action=action)
    return case


def take(tx: Txn, case: ReviewCase, actor) -> None:
    """The case's handler: the first manager to act on it. Only they see the visitor's contact."""
    if case.handler_id is None and actor.user_id is not None:
        case.handler_id = actor.user_id
        tx.session.add(case)


def refresh_figures(tx: Txn, case: ReviewCase) -> None:
    """A case closed or its rating removed: the rated ticket's day, if already rolled up, again."""
    tx.session.flush()
    review = tx.session.get(Review, case.review_id)
    day = tx.session.exec(select(Ticket.business_date).where(Ticket.id == review.ticket_id)).one()
    rollup.refresh(tx.session, tx.hall, day, clock.business_date(tx.now, tx.hall.timezone))


def _step(tx: Txn, case: ReviewCase, step: str, note: str, **detail) -> None:
    tx.session.add(CaseStep(case_id=case.id, at=tx.now, step=step, actor=tx.actor.name[:64], actor_role=str(tx.actor.role)[:16],
                            note=note, detail=detail))


def steps_of(tx: Txn, case: ReviewCase) -> list[CaseStep]:
    return list(tx.session.exec(select(CaseStep).where(CaseStep.case_id == case.id).order_by(CaseStep.id)))


def flags(case: ReviewCase, today: date, cal: calendar.WorkingCalendar, settings: ReviewSettings) -> dict:
    """What the manager's page flags: the callback late, the deadline passed (overdue) or near
    (due_soon: at most `due_soon_working_days` working days left), settled late or on time."""
    settled = case.state in SETTLED
    return {
        "callback_late": case.called_back_on is None and case.state == OPEN and today > case.callback_due,
        "overdue": not settled and today > case.due,
        # Working days left: those after today up to the deadline (none on the deadline's own day).
        "due_soon": not settled and today <= case.due
        and cal.working_days(today + timedelta(days=1), case.due) <= settings.due_soon_working_days,
        "on_time": None if case.settled_on is None else case.settled_on <= case.due,
    }


def matches(filter_: str, case: ReviewCase, flag: dict) -> bool:
    if filter_ == "all":
        return True
    if filter_ == "closed":
        return case.state == CLOSED
    if filter_ == "appealed":
        return case.appeal_state == "pending"
    if case.state == CLOSED:
        return False
    return filter_ == "open" or bool(flag.get(filter_))


def counts_for(session, hall, since: date, until: date, today: date) -> dict:
    """The cases of the ratings of tickets issued in [since, until], as they stand today: how many
    are still open, overdue, due soon, awaiting an appeal's decision (the figures' live part: a
    deadline passes without any change to roll up)."""
    rows = session.exec(select(ReviewCase).join(Review, Review.id == ReviewCase.review_id).join(Ticket, Ticket.id == Review.ticket_id)
                        .where(ReviewCase.hall_id == hall.id, Ticket.business_date >= since, Ticket.business_date <= until)).all()
    cal, settings = calendar.of_hall(hall), settings_of(hall)
    out = {"open": 0, "overdue": 0, "due_soon": 0, "appealed": 0}
    for case in rows:
        flag = flags(case, today, cal, settings)
        for name in out:
            out[name] += matches(name, case, flag)
    return out

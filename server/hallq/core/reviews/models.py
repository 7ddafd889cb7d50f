"""The tables of 好差评: each rating of a service leg, each bad rating's rectification case
(差评整改) and the steps of that case, written once and never changed."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel


class Review(SQLModel, table=True):
    """One visitor's rating (好差评) of one service leg of a ticket: 5 非常满意 … 1 非常不满意.

    One rating per leg (一次一评): a ticket transferred once has two legs, each rated apart; a
    later rating of a rated leg, from any channel, is refused."""

    __table_args__ = (UniqueConstraint("ticket_id", "leg", name="uq_review_ticket_leg"),)
    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id", index=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    leg: int = 1  # the ticket's service leg (journey.py): 1 unless it was transferred or moved
    window_id: int = Field(foreign_key="window.id", index=True)
    staff_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    service_id: int | None = Field(default=None, foreign_key="service.id")
    score: int
    at: datetime
    channel: str = Field(default="review_box", max_length=16)  # review_box, phone
    device_id: int | None = Field(default=None, foreign_key="device.id")
    # Indicator scores 1–5 beside the overall level: efficiency, attitude, professionalism, guidance.
    indicators: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False, default=dict))
    reasons: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False, default=list))  # a bad rating's
    comment: str = Field(default="", max_length=200)  # the visitor's short text: never on a public screen
    # Taken out of the rates by an approved appeal (申诉): still kept, and counted as removed.
    excluded: bool = False


class ReviewCase(SQLModel, table=True):
    """A bad rating's rectification case (差评整改): opened with the rating, closed after the
    visitor's follow-up. Its deadlines are working days (core/calendar.py) after the rating's day."""

    __tablename__ = "review_case"

    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id", index=True)
    review_id: int = Field(foreign_key="review.id", unique=True)
    state: str = Field(default="open", max_length=16, index=True)  # reviews/cases.py: OPEN … CLOSED
    opened_at: datetime
    opened_on: date  # the rating's business day: deadlines count from it
    callback_due: date  # 回访: the callback, by the end of this day
    due: date  # rectified or explained by the end of this day
    outcome: str = Field(default="", max_length=16)  # rectified or explained, once one is recorded
    settled_on: date | None = None  # the day it was rectified or explained
    called_back_on: date | None = None  # the day the visitor was first reached
    follow_up_score: int | None = None  # the visitor's rating after the rectification
    closed_at: datetime | None = None
    updated_at: datetime
    # 申诉: a manager's appeal of the rating as malicious or mistaken, decided by an administrator.
    appeal_state: str = Field(default="", max_length=16)  # "", pending, approved, rejected
    appeal_kind: str = Field(default="", max_length=16)  # malicious, mistaken
    appeal_by: int | None = Field(default=None, foreign_key="user.id")  # who filed it (never who decides it)
    # The manager handling the case: the first to act on it (only they see the visitor's contact).
    handler_id: int | None = Field(default=None, foreign_key="user.id")
    # The visitor's phone for the callback, left with consent: encrypted (contacts.py), masked beside it.
    contact_sealed: str | None = Field(default=None, max_length=400)
    contact_masked: str = Field(default="", max_length=24)
    contact_consent_at: datetime | None = None
    contact_erased_at: datetime | None = None


class CaseStep(SQLModel, table=True):
    """One step of a case's timeline: who did what, when, with their note."""

    __tablename__ = "case_step"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="review_case.id", index=True)
    at: datetime
    step: str = Field(max_length=16)
    actor: str = Field(max_length=64)
    actor_role: str = Field(default="", max_length=16)
    note: str = Field(default="", max_length=500)
    detail: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False, default=dict))

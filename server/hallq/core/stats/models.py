"""One day's figures of one hall, per dimension: the hall as a whole, each service, window and
staff member, and each hour of the day (by issue). Every column adds up across days, so a month
or any range is the sum of its days; the wait and handling distributions are kept as
histograms of whole minutes, from which a range's median and p90 are read."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Column, UniqueConstraint
from sqlalchemy.types import JSON
from sqlmodel import Field, SQLModel


class DayFigure(SQLModel, table=True):
    __tablename__ = "day_figure"
    __table_args__ = (UniqueConstraint("hall_id", "day", "dimension", "key"),)  # its index serves (hall, day) look-ups

    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id")
    day: date  # the hall's business day
    dimension: str = Field(max_length=8)  # stats.rollup.DIMENSIONS
    key: int = 0  # the service, window or user id; the hour (0–23); 0 for the hall
    issued: int = 0  # tickets issued (hall, hour); legs begun, by issue or transfer (service)
    called: int = 0  # of those, called at least once
    completed: int = 0  # completed (办结): a case
    no_show: int = 0
    walked_away: int = 0  # closed by the sweep, never called
    closed: int = 0  # closed by the sweep after a call
    transferred: int = 0  # legs ended by a transfer or a manager's move
    wait_n: int = 0
    wait_sum: float = 0.0  # minutes
    wait_hist: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))  # whole minutes → count
    handling_n: int = 0
    handling_sum: float = 0.0  # minutes
    handling_hist: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    promise_n: int = 0  # tickets with a wait promised at issue and a wait measured
    promise_error_sum: float = 0.0  # |promised − measured| summed, minutes
    simple_n: int = 0  # tickets with the simple estimate made at issue (beside the promise) and a wait measured
    simple_error_sum: float = 0.0  # |simple estimate − measured| summed, minutes
    reviews: int = 0  # 好差评 of the day's tickets
    reviews_5: int = 0  # 非常满意
    reviews_satisfied: int = 0  # 满意 or better (4–5)
    reviews_bad: int = 0  # 不满意 or worse (1–2)
    score_sum: int = 0
    served_legs: int = 0  # legs served at a window: what visitors may rate
    reviews_1: int = 0  # 非常不满意
    reviews_phone: int = 0  # rated on the phone
    reviews_default: int = 0  # unrated, counted as the hall's default level
    appealed_removed: int = 0  # bad ratings taken out of the rates by an approved appeal
    cases: int = 0  # rectification cases (差评整改) opened
    rectified: int = 0  # cases closed after rectification or explanation
    rectified_on_time: int = 0  # of those, settled by the deadline

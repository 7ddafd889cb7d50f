"""A hand-made day of the example hall, and how to read its figures back (issue 13)."""

from __future__ import annotations

from types import SimpleNamespace

from sqlmodel import select

from hallq.core.devices.service import DeviceService
from hallq.core.models import Service, User, Window
from hallq.core.stats.models import DayFigure
from support.halls import Desk, person

MONDAY = "2026-11-23"


def hand_made_monday(hall, clock):
    """The hand-made day, from 10:00:
    A001 (SI) issued 10:00, called at window 1 at 10:04, started 10:06, completed 10:16: wait 4, handling 10; rated 5.
    A002 (SI) issued 10:02, called at window 1 at 10:16 (wait 14), started 10:17, transferred to HR
      at 10:20 (leg 1 handled 3), called at window 7 at 10:25 (leg 2 waited 5), completed 10:35
      without "start" (handled 10, from the call): handling 13 in all; rated 2.
    B001 (MI) issued 10:05, never called: walked away when the day's sweep closes it."""
    kiosk = person(hall, "kiosk1", "device")
    devices = DeviceService(hall)
    devices.add(hall="district", name="review-1", role="review", window=1)
    devices.add(hall="district", name="review-7", role="review", window=7)
    one, seven = Desk.opened(hall, 1, "s1"), Desk.opened(hall, 7, "s7")
    a1 = hall.issue_ticket("district", service="SI", actor=kiosk)
    clock.advance(minutes=2)
    a2 = hall.issue_ticket("district", service="SI", actor=kiosk)
    clock.advance(minutes=2)
    one("call-next")  # 10:04
    clock.advance(minutes=1)
    hall.issue_ticket("district", service="MI", actor=kiosk)  # 10:05, B001
    clock.advance(minutes=1)
    one("start")  # 10:06
    clock.advance(minutes=10)
    one("complete")  # 10:16
    devices.review("district", "review-1", ticket=a1["id"], score=5)
    one("call-next")  # 10:16: A002
    clock.advance(minutes=1)
    one("start")  # 10:17
    clock.advance(minutes=3)
    one("transfer", service="HR")  # 10:20
    clock.advance(minutes=5)
    seven("call-next")  # 10:25
    clock.advance(minutes=10)
    seven("complete")  # 10:35
    devices.review("district", "review-7", ticket=a2["id"], score=2)
    return hall


def ids(hall) -> dict:
    with hall.db.read() as session:
        services = {s.code: s.id for s in session.exec(select(Service)).all()}
        windows = {w.number: w.id for w in session.exec(select(Window)).all()}
        users = {u.name: u.id for u in session.exec(select(User)).all()}
    return {("service", "SI"): services["SI"], ("service", "HR"): services["HR"], ("service", "MI"): services["MI"],
            ("window", 1): windows[1], ("window", 7): windows[7], ("staff", "s1"): users["s1"], ("staff", "s7"): users["s7"]}


def rows(hall) -> dict:
    with hall.db.read() as session:
        return {(r.day.isoformat(), r.dimension, r.key): SimpleNamespace(**r.model_dump()) for r in session.exec(select(DayFigure)).all()}


def counts(row) -> tuple:
    return (row.issued, row.called, row.completed, row.no_show, row.walked_away, row.closed, row.transferred)


def waits(row) -> tuple:
    return (row.wait_n, row.wait_sum, row.wait_hist, row.handling_n, row.handling_sum, row.handling_hist)


def reviews(row) -> tuple:
    return (row.reviews, row.reviews_5, row.reviews_satisfied, row.reviews_bad, row.score_sum)

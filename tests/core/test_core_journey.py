"""A ticket's journey (issue 13, item 1): every step recorded once, never overwritten, and the
wait and handling it measures. Each expected figure is worked out by hand from the clock the
test sets (the example hall, Monday 23 Nov 2026 from 10:00 Shanghai time)."""

from __future__ import annotations

import pytest

from hallq.core.errors import Forbidden
from support.halls import Desk, person


@pytest.fixture
def kiosk(hall):
    return person(hall, "kiosk1", "device")


def journey(hall, number: str) -> dict:
    return hall.journey("district", number, viewer=person(hall, f"boss-{number}", "manager"))


def steps(j: dict) -> list[tuple]:
    return [(s["at"][11:16], s["step"], s["leg"], s["service"], s["window"], s["detail"]) for s in j["steps"]]


def test_a_recall_keeps_the_first_call_and_a_completion_without_start_is_handled_from_the_answered_call(hall, kiosk, clock):
    hall.issue_ticket("district", service="SI", actor=kiosk)  # A001 at 10:00 (02:00 UTC)
    desk = Desk.opened(hall, 1, "s1")
    clock.advance(minutes=4)
    desk("call-next")  # 10:04: the first call
    clock.advance(minutes=1)
    desk("recall")  # 10:05: the visitor comes now
    clock.advance(minutes=6)
    desk("complete")  # 10:11, "start" never pressed

    j = journey(hall, "A001")
    assert steps(j) == [
        ("02:00", "issued", 1, "SI", None, "api"),
        ("02:04", "called", 1, "SI", 1, "next"),
        ("02:05", "recalled", 1, "SI", 1, ""),
        ("02:11", "completed", 1, "SI", 1, ""),
    ]
    assert [s["staff"] for s in j["steps"]] == [None, "s1", "s1", "s1"]
    assert (j["outcome"], j["wait_minutes"], j["handling_minutes"], j["calls"]) == ("completed", 4.0, 6.0, 2)
    # The ticket itself still says where it is now: its latest call.
    assert hall.ticket("district", "A001")["called_at"] == "2026-11-23T02:05:00Z"


def test_a_transfer_keeps_the_leg_it_ends(hall, kiosk, clock):
    hall.issue_ticket("district", service="SI", actor=kiosk)  # A001 at 10:00
    first, second = Desk.opened(hall, 1, "s1"), Desk.opened(hall, 6, "s6")  # window 6 serves HR
    clock.advance(minutes=2)
    first("call-next")  # 10:02
    clock.advance(minutes=1)
    first("start")  # 10:03
    clock.advance(minutes=7)
    first("transfer", service="HR")  # 10:10: leg 1 handled 7 minutes
    clock.advance(minutes=5)
    second("call-next")  # 10:15: leg 2 waited 5
    clock.advance(minutes=4)
    second("complete")  # 10:19: leg 2 handled 4, from its call

    j = journey(hall, "A001")
    assert steps(j) == [
        ("02:00", "issued", 1, "SI", None, "api"),
        ("02:02", "called", 1, "SI", 1, "next"),
        ("02:03", "started", 1, "SI", 1, ""),
        ("02:10", "transferred", 1, "SI", 1, "HR"),
        ("02:15", "called", 2, "HR", 6, "next"),
        ("02:19", "completed", 2, "HR", 6, ""),
    ]
    assert [(leg["leg"], leg["service"], leg["wait_minutes"], leg["handling_minutes"], leg["window"], leg["ended"]) for leg in j["legs"]] == [
        (1, "SI", 2.0, 7.0, 1, "transferred"),
        (2, "HR", 5.0, 4.0, 6, "completed"),
    ]
    assert (j["outcome"], j["wait_minutes"], j["handling_minutes"], j["transfers"]) == ("completed", 2.0, 11.0, 1)


def test_a_skipped_ticket_requeued_then_skipped_again_is_a_no_show(hall, kiosk, clock):
    hall.issue_ticket("district", service="SI", actor=kiosk)  # 10:00
    desk = Desk.opened(hall, 1, "s1")
    clock.advance(minutes=1)
    desk("call-next")  # 10:01
    clock.advance(minutes=1)
    desk("skip")  # 10:02: back in the queue after the hall's 10-minute grace
    clock.advance(minutes=11)
    desk("call-next")  # 10:13
    clock.advance(minutes=1)
    desk("skip")  # 10:14: final

    j = journey(hall, "A001")
    assert [(at, step, detail) for at, step, _, _, _, detail in steps(j)] == [
        ("02:00", "issued", "api"), ("02:01", "called", "next"), ("02:02", "requeued", "skipped"),
        ("02:13", "called", "next"), ("02:14", "no_show", "skipped"),
    ]
    assert (j["outcome"], j["wait_minutes"], j["handling_minutes"], j["calls"], j["requeues"]) == ("no_show", 1.0, None, 2, 1)


def test_the_sweep_closes_the_called_and_the_waiting_and_a_manager_move_begins_a_leg(hall, kiosk, clock):
    hall.issue_ticket("district", service="SI", actor=kiosk)  # A001 10:00
    hall.issue_ticket("district", service="SI", actor=kiosk)  # A002 10:00
    boss = person(hall, "boss", "manager")
    clock.advance(minutes=30)
    hall.move_ticket("district", "A002", service="MI", actor=boss)  # 10:30: leg 2, in MI
    desk = Desk.opened(hall, 3, "s3")  # serves SI and HF, not MI
    desk("call-next")  # 10:30: A001, who never comes
    clock.advance(hours=7, minutes=30)  # 18:00, past closing (17:30)
    hall.sweep("district")

    called = journey(hall, "A001")
    assert steps(called)[-1] == ("10:00", "closed", 1, "SI", 3, "hall_closed")
    assert (called["outcome"], called["wait_minutes"], called["handling_minutes"]) == ("closed", 30.0, None)
    waiting = journey(hall, "A002")
    assert steps(waiting) == [
        ("02:00", "issued", 1, "SI", None, "api"),
        ("02:30", "moved", 1, "SI", None, "MI"),
        ("10:00", "closed", 2, "MI", None, "hall_closed"),
    ]
    assert waiting["steps"][1]["staff"] == "boss"
    assert [(leg["service"], leg["ended"]) for leg in waiting["legs"]] == [("SI", "moved"), ("MI", "closed")]
    assert (waiting["outcome"], waiting["wait_minutes"], waiting["transfers"]) == ("walked_away", None, 1)


def test_an_offline_ticket_begins_its_journey_when_it_was_printed(hall, clock):
    from sqlmodel import select

    from hallq.core.devices import actions
    from hallq.core.devices.models import Device
    from hallq.core.devices.service import DeviceService

    DeviceService(hall).add(hall="district", name="disp-1", role="dispenser")

    def device(tx):
        return tx.session.exec(select(Device).where(Device.name == "disp-1")).one()

    block = hall.work.write("district", lambda tx: actions.reserve_block(tx, device(tx), "SI", 5))
    number = f"A{block['first']:03d}"
    printed_at = clock.now()  # printed offline at 10:00, handed in at 10:10
    clock.advance(minutes=10)
    hall.work.write("district", lambda tx: actions.hand_in_offline_ticket(tx, device(tx), service_code="SI", number=number, issued_at=printed_at))
    assert steps(journey(hall, number)) == [("02:00", "issued", 1, "SI", None, "offline")]


def test_only_the_halls_people_see_a_journey(hall, kiosk):
    hall.issue_ticket("district", service="SI", actor=kiosk)
    assert journey(hall, "A001")["steps"][0]["step"] == "issued"
    assert hall.journey("district", "A001", viewer=person(hall, "s1"))["number"] == "A001"
    for viewer in (None, kiosk):
        with pytest.raises(Forbidden):
            hall.journey("district", "A001", viewer=viewer)


def test_a_staff_members_day_counts_handling_from_the_answered_call(hall, kiosk, clock, office):
    for _ in range(3):
        hall.issue_ticket("district", service="SI", actor=kiosk)  # A001-A003 at 10:00
    desk = Desk.opened(hall, 1, "s1")
    desk("call-next")  # A001 10:00
    clock.advance(minutes=4)
    desk("complete")  # 10:04, no "start": 4 minutes from its call (the ticket's own columns say 0)
    desk("call-next")  # A002 10:04
    clock.advance(minutes=1)
    desk("start")  # 10:05
    clock.advance(minutes=10)
    desk("complete")  # 10:15: 10 minutes from "start"
    desk("call-next")  # A003
    desk("skip")  # requeued: not a no-show yet
    other = Desk.opened(hall, 2, "s2")
    clock.advance(minutes=11)
    other("call-next")  # A003 again, at window 2
    other("skip")  # a no-show of s2's, not s1's

    mine = office.staff_today("district", desk.actor.user_id)
    assert (mine["served"], mine["no_show"], mine["mean_handling_minutes"]) == (2, 0, 7.0)
    theirs = office.staff_today("district", other.actor.user_id)
    assert (theirs["served"], theirs["no_show"], theirs["mean_handling_minutes"]) == (0, 1, None)

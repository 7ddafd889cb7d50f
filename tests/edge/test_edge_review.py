"""The review box against a real broker: a completed ticket lights it, one
press stores one review bound to the ticket, the window and the staff member,
and nothing a visitor does to the buttons makes a second one."""

from __future__ import annotations

import pytest
from sqlmodel import select

from hallq.core.reviews.models import Review
from hallq.core.models import Ticket, User, Window
from hallq_edge import hardware
from hallq_edge.review import ReviewBox
from support.edge import press
from support.mqtt import open_window
from support.waiting import wait_for

BUTTONS = [5, 6, 13, 19, 26]  # 非常满意 … 非常不满意
LEDS = [12, 16, 20, 21, 25]


@pytest.fixture
def box(device, mock_factory, hall):
    staff = open_window(hall, 5)
    b = ReviewBox(device("review", "review-5", window=5), hall="district", window=5,
                  buttons=[hardware.button(p, mock_factory) for p in BUTTONS], leds=[hardware.led(p, mock_factory) for p in LEDS],
                  prompt_seconds=120, thanks_seconds=600, min_interval=0, now=hall.clock.now)
    b.staff = staff
    yield b
    b.close()


def serve_one(hall, staff) -> str:
    ticket = hall.issue_ticket("district", service="SI", actor=staff)
    hall.window_action("district", 5, "call-next", actor=staff)
    hall.window_action("district", 5, "complete", actor=staff)
    return ticket["id"]


def reviews(hall) -> list[tuple]:
    with hall.db.read() as session:
        rows = session.exec(
            select(Review.score, Ticket.number, Window.number, User.name)
            .join(Ticket, Ticket.id == Review.ticket_id)
            .join(Window, Window.id == Review.window_id)
            .join(User, User.id == Review.staff_id)
        ).all()
        return [tuple(r) for r in rows]


def test_a_press_stores_one_review_bound_to_ticket_window_and_staff(box, mock_factory, hall):
    ticket = serve_one(hall, box.staff)
    wait_for(lambda: box.pending == ticket and box.light == "prompt", what="the box to invite a rating")

    press(mock_factory, BUTTONS[1])  # 满意

    wait_for(lambda: box.answers, what="the server's answer")
    assert box.answers[0]["status"] == "ok" and box.answers[0]["data"]["level"] == "满意"
    assert reviews(hall) == [(4, "A001", 5, "staff5")]
    assert box.light == "thanks"
    assert [led.is_lit for led in box.leds] == [False, True, False, False, False]


def test_hammering_the_buttons_sends_one_review_per_ticket(box, mock_factory, hall):
    ticket = serve_one(hall, box.staff)
    wait_for(lambda: box.pending == ticket, what="the prompt")

    for _ in range(10):
        for pin in BUTTONS:
            press(mock_factory, pin)
    wait_for(lambda: box.answers, what="the answer")

    assert len(box.answers) == 1
    assert reviews(hall) == [(5, "A001", 5, "staff5")]  # the first press counted

    second = serve_one(hall, box.staff)
    wait_for(lambda: box.pending == second, what="the next ticket")
    press(mock_factory, BUTTONS[4])
    wait_for(lambda: len(box.answers) == 2, what="the second answer")
    assert sorted(reviews(hall)) == [(1, "A002", 5, "staff5"), (5, "A001", 5, "staff5")]


def test_a_press_with_nothing_to_review_sends_nothing(box, mock_factory, hall):
    press(mock_factory, BUTTONS[0])

    assert box.press(5) is False
    assert reviews(hall) == []


def test_the_server_refuses_a_review_of_a_ticket_from_another_window(hall):
    from hallq.core.devices.service import DeviceService

    devices = DeviceService(hall)
    staff = open_window(hall, 6, staff="staff6")
    devices.add(hall="district", name="review-5", role="review", window=5)
    ticket = hall.issue_ticket("district", service="MI", actor=staff)
    hall.window_action("district", 6, "call-next", actor=staff)
    hall.window_action("district", 6, "complete", actor=staff)

    from hallq.core.errors import Conflict

    with pytest.raises(Conflict) as refused:
        devices.review("district", "review-5", ticket=ticket["id"], score=5)
    assert refused.value.code == "other_window"


def test_the_prompt_is_judged_by_the_injected_clock_not_the_machines(memory_link, mock_factory, clock):
    b = ReviewBox(memory_link("review-5"), hall="district", window=5, buttons=[hardware.button(p, mock_factory) for p in BUTTONS],
                  leds=[hardware.led(p, mock_factory) for p in LEDS], prompt_seconds=120, now=clock.now)
    completed_at = clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")  # a Monday of 2026, whatever today is

    b._on_completed({"ticket": "t-fresh", "number": "A001", "at": completed_at})
    assert b.pending == "t-fresh" and b.light == "prompt"

    clock.advance(seconds=121)  # delivered after the visitor has left
    b._on_completed({"ticket": "t-old", "number": "A002", "at": completed_at})
    assert b.pending == "t-fresh"
    b._expire()
    b.close()

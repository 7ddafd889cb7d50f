"""The review box on its own, fast: a MemoryLink instead of a broker, MockFactory
buttons and LEDs. The ticket last completed at its window lights it; one press sends
one review of that ticket; a press with nothing to review, a second press, a ticket
already reviewed or completed long ago send nothing. (Against a real broker and
server: test_edge_review.py.)"""

from __future__ import annotations

from datetime import timedelta

import pytest

from hallq.mqtt import schemas
from hallq_edge import hardware
from hallq_edge.review import ReviewBox
from hallq_protocol import topics
from support.edge import press
from support.memory_link import MemoryLink
from support.waiting import wait_for

BUTTONS = [5, 6, 13, 19, 26]  # 非常满意 … 非常不满意
LEDS = [12, 16, 20, 21, 25]
COMPLETED = topics.window_completed("district", 5)


def completed(clock, ticket: str, number: str, *, ago: float = 0, reviewed: bool = False) -> dict:
    at = (clock.now() - timedelta(seconds=ago)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return schemas.checked(schemas.COMPLETED, {"hall": "district", "window": 5, "ticket": ticket, "number": number, "at": at,
                                                "reviewed": reviewed})


@pytest.fixture
def box(memory_link, mock_factory, clock):
    """A review box at window 5 whose link is up; the server records every review."""
    link = memory_link("review-5", role="review", respond={"review": lambda req: {"level": "满意", "score": req["score"]}})
    b = ReviewBox(link, hall="district", window=5, buttons=[hardware.button(p, mock_factory) for p in BUTTONS],
                  leds=[hardware.led(p, mock_factory) for p in LEDS], prompt_seconds=120, thanks_seconds=600,
                  min_interval=0, now=clock.now)
    link.start()
    b.pins = mock_factory
    yield b
    b.close()


def reviews(link) -> list[tuple]:
    return [(r["ticket"], r["score"]) for r in link.requests if r["action"] == "review"]


def test_a_press_sends_the_review_of_the_ticket_just_completed(box, clock):
    box.link.deliver(COMPLETED, completed(clock, "t-a001", "A001"), retain=True)
    assert box.pending == "t-a001" and box.light == "prompt"

    press(box.pins, BUTTONS[1])  # 满意

    wait_for(lambda: box.answers, what="the server's answer")
    assert reviews(box.link) == [("t-a001", 4)]
    assert box.answers[0]["status"] == "ok" and box.answers[0]["data"]["score"] == 4
    assert box.light == "thanks" and [led.is_lit for led in box.leds] == [False, True, False, False, False]


def test_only_the_first_press_for_a_ticket_counts(box, clock):
    box.link.deliver(COMPLETED, completed(clock, "t-a001", "A001"), retain=True)

    assert box.press(5) is True
    assert box.press(1) is False
    box.link.deliver(COMPLETED, completed(clock, "t-a001", "A001"), retain=True)  # the same ticket again (a reconnect)
    assert box.pending is None and box.press(3) is False

    wait_for(lambda: box.answers, what="the answer")
    assert reviews(box.link) == [("t-a001", 5)]


def test_nothing_is_sent_without_a_ticket_to_review(box, clock):
    assert box.press(5) is False

    box.link.deliver(COMPLETED, completed(clock, "t-a002", "A002", reviewed=True))  # already reviewed (another way)
    assert box.press(5) is False
    box.link.deliver(COMPLETED, completed(clock, "t-a003", "A003", ago=121))  # the visitor has left
    assert box.press(5) is False

    assert reviews(box.link) == [] and box.light == "dark"


def test_a_review_made_while_the_link_is_down_goes_out_when_it_returns(box, clock):
    box.link.deliver(COMPLETED, completed(clock, "t-a004", "A004"), retain=True)
    box.link.drop()

    assert box.press(2) is True  # the visitor is thanked at once
    assert reviews(box.link) == []

    box.link.start()

    wait_for(lambda: box.answers, what="the answer after the link returned")
    assert reviews(box.link) == [("t-a004", 2)]


def test_a_refused_review_is_kept_as_the_answer(memory_link, mock_factory, clock):
    link = memory_link("review-5", role="review",
                       respond={"review": MemoryLink.refused("other_window", "the ticket was served at window 6")})
    b = ReviewBox(link, hall="district", window=5, buttons=[hardware.button(p, mock_factory) for p in BUTTONS],
                  leds=[hardware.led(p, mock_factory) for p in LEDS], min_interval=0, now=clock.now)
    link.start()
    link.deliver(COMPLETED, completed(clock, "t-b001", "B001"))

    assert b.press(5) is True

    wait_for(lambda: b.answers, what="the refusal")
    assert b.answers[0]["status"] == "error" and b.answers[0]["error"]["code"] == "other_window"
    b.close()


def test_a_closed_box_leaves_no_timer_to_touch_its_leds(box, clock):
    """After close (the node stopping), the prompt's and the thanks' timers do nothing: the LEDs
    closed after it are never driven from a leftover timer thread."""
    box.link.deliver(COMPLETED, completed(clock, "t-c001", "C001"))
    assert box.light == "prompt"
    box.close()
    assert box.light == "dark" and not any(led.is_lit for led in box.leds)  # the prompt's blinking ended
    box._prompt()  # what a late `completed` would start
    box._thank(2)  # what the thanks' timer would run
    assert box.light == "dark" and not any(led.is_lit for led in box.leds)  # neither prompted nor thanked
    assert box._timer.finished.is_set()  # the prompt's timer was cancelled


def test_a_ticket_rated_on_the_phone_while_the_box_asks_darkens_the_box(box, clock):
    box.link.deliver(COMPLETED, completed(clock, "t-a001", "A001"), retain=True)
    assert box.light == "prompt"
    box.link.deliver(COMPLETED, completed(clock, "t-a001", "A001", reviewed=True), retain=True)  # the phone rated it
    assert (box.pending, box.light) == (None, "dark") and not any(led.is_lit for led in box.leds)
    assert box.press(5) is False and reviews(box.link) == []
    box.link.deliver(COMPLETED, completed(clock, "t-a002", "A002"), retain=True)
    box.link.deliver(COMPLETED, completed(clock, "t-a001", "A001", reviewed=True), retain=True)  # old news: A002 still asks
    assert (box.pending, box.light) == ("t-a002", "prompt")

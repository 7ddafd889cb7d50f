"""Helpers of the edge tests: the dispenser's pins, pressing a mock button, what the
server has issued, what a speaker was asked to say, and the day a dispenser is in."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlmodel import select

from hallq.core.models import Ticket
from hallq_edge.speech import call_text

# The dispenser's buttons (社会保险 SI, 医疗保障 MI), its LED and its printer's paper-out signal.
SI_PIN, MI_PIN, LED_PIN, PAPER_PIN = 17, 27, 22, 23


def press(pins, pin: int) -> None:
    """Press and release the button on `pin` of a gpiozero MockFactory."""
    pins.pin(pin).drive_low()
    pins.pin(pin).drive_high()


def server_tickets(hall) -> list[str]:
    """Every ticket number the hall's database holds, sorted."""
    with hall.db.read() as session:
        return sorted(t.number for t in session.exec(select(Ticket)).all())


def dispenser_today(d):
    """The business day a dispenser is in, by its clock and its hall's time zone."""
    return d.now().astimezone(ZoneInfo(d.tz)).date()


class RecordingPlayer:
    """A speaker that only remembers what it was asked to say."""

    def __init__(self):
        self.said: list[tuple[str, str]] = []

    def say_call(self, number: str, window: int, lang: str = "zh") -> None:
        self.said.append((call_text(number, window, lang), lang))

"""The review box (评价器): five buttons, 非常满意 / 满意 / 基本满意 / 不满意 /
非常不满意, each with its LED.

It learns from the server the ticket just completed at its window, lights the
buttons to invite a rating, and sends exactly one review for that ticket: a
press with no ticket waiting, a second press, a stuck or hammered button are
all ignored, so nothing floods the server. After a press the chosen LED stays
lit for a moment to thank the visitor.
"""

from __future__ import annotations

import logging
import threading
import time

from hallq_protocol import topics

from .clock import age_seconds, utcnow

log = logging.getLogger("hallq_edge.review")
LEVELS = ("非常满意", "满意", "基本满意", "不满意", "非常不满意")
SCORES = (5, 4, 3, 2, 1)  # button i (left to right) gives SCORES[i]


class ReviewBox:
    def __init__(self, link, *, hall: str, window: int, buttons: list, leds: list, prompt_seconds: float = 120.0,
                 thanks_seconds: float = 3.0, min_interval: float = 1.0, answer_timeout: float = 5.0, now=utcnow):
        if len(buttons) != 5 or len(leds) != 5:
            raise ValueError("a review box has five buttons and five LEDs")
        self.link = link
        self.hall, self.window = hall, window
        self.buttons, self.leds = buttons, leds
        self.prompt_seconds = prompt_seconds
        self.thanks_seconds = thanks_seconds
        self.min_interval = min_interval
        self.answer_timeout = answer_timeout
        self.now = now  # compared with the server's completion times: the hall's clock in tests and the demo
        self.pending: str | None = None  # public id of the ticket awaiting its review
        self.pending_number: str | None = None
        self.answers: list[dict] = []
        self.light = "dark"  # what the LEDs show: dark, prompt or thanks
        self._done: set[str] = set()
        self._last_sent = float("-inf")
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._closed = False
        # gpiozero's LEDs are not safe to drive from two threads at once (a blink
        # started on the MQTT thread and stopped by a press fails to join).
        self._lights = threading.RLock()
        for i, button in enumerate(buttons):
            button.when_pressed = lambda _=None, s=SCORES[i]: self.press(s)
        link.subscribe(topics.window_completed(hall, window), self._on_completed)

    def _on_completed(self, msg: dict) -> None:
        ticket = msg.get("ticket")
        if not isinstance(ticket, str) or ticket in self._done:
            return
        if msg.get("reviewed"):
            # Rated elsewhere (the visitor's phone) while the box asked: it stops asking.
            with self._lock:
                asked = self.pending == ticket
                if asked:
                    self.pending = None
            if asked:
                self._cancel_timer()
                self._dark()
            return
        age = age_seconds(msg.get("at"), self.now())
        if age is not None and age > self.prompt_seconds:
            return  # served long ago: the visitor has left
        with self._lock:
            self.pending, self.pending_number = ticket, msg.get("number")
        self._prompt()

    def press(self, score: int) -> bool:
        """A visitor's press; True when it became a review."""
        with self._lock:
            now = time.monotonic()
            if self.pending is None or now - self._last_sent < self.min_interval:
                return False
            ticket, self.pending = self.pending, None
            self._done.add(ticket)
            self._last_sent = now
        self._thank(SCORES.index(score))
        rid = self.link.request("review", ticket=ticket, score=score)
        threading.Thread(target=self._await, args=(rid,), daemon=True).start()
        return True

    def _await(self, rid: str) -> None:
        answer = self.link.wait_answer(rid, self.answer_timeout)
        if answer is None:
            log.warning("no answer to review %s (the request stays queued in MQTT)", rid)
            return
        self.answers.append(answer)
        if answer.get("status") != "ok":
            log.warning("review refused: %s", answer["error"]["message"])

    # -- lights -----------------------------------------------------------

    def close(self) -> None:
        """Stop: the LEDs dark, and no timer left to light or darken them after they are closed."""
        with self._lights:
            self._closed = True
            self._cancel_timer()
            for led in self.leds:
                led.off()  # also ends a prompt's blinking
            self.light = "dark"

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()

    def _later(self, seconds: float, then) -> None:
        """Run `then` after `seconds`, instead of what was due (called holding the lights' lock)."""
        self._cancel_timer()
        self._timer = threading.Timer(seconds, then)
        self._timer.daemon = True
        self._timer.start()

    def _prompt(self) -> None:
        with self._lights:
            if self._closed:
                return
            for led in self.leds:
                led.blink(on_time=0.5, off_time=0.5)
            self.light = "prompt"
            self._later(self.prompt_seconds, self._expire)

    def _expire(self) -> None:
        with self._lock:
            self.pending = None
        self._dark()

    def _thank(self, index: int) -> None:
        self._cancel_timer()
        with self._lights:
            if self._closed:
                return
            for i, led in enumerate(self.leds):
                led.on() if i == index else led.off()
            self.light = "thanks"
            self._later(self.thanks_seconds, self._dark)

    def _dark(self) -> None:
        with self._lights:
            if self._closed:
                return
            for led in self.leds:
                led.off()
            self.light = "dark"

"""The window caller (呼叫器): a keypad at the staff's desk for call next,
recall, skip, start, complete and pause/resume, with a status LED. It acts for
the staff member signed in at its window, like the staff web terminal."""

from __future__ import annotations

import logging
import threading

from hallq_protocol import topics

log = logging.getLogger("hallq_edge.caller")
KEYS = ("call_next", "recall", "skip", "start", "complete", "pause")


class WindowCaller:
    def __init__(self, link, *, hall: str, window: int, keys: dict, led, answer_timeout: float = 5.0):
        unknown = set(keys) - set(KEYS)
        if unknown:
            raise ValueError(f"unknown caller keys {sorted(unknown)}; known: {', '.join(KEYS)}")
        self.link = link
        self.hall, self.window = hall, window
        self.keys, self.led = keys, led
        self.answer_timeout = answer_timeout
        self.state: dict | None = None
        self.answers: list[dict] = []
        self._busy = threading.Lock()
        self._led_lock = threading.RLock()  # gpiozero LEDs are driven from several threads here
        for action, key in keys.items():
            key.when_pressed = lambda _=None, a=action: self._on_key(a)
        link.subscribe(topics.window_state(hall, window), self._on_state)
        link.on_link(lambda up: self._show())
        self._show()

    def _on_key(self, action: str) -> None:
        threading.Thread(target=self.press, args=(action,), daemon=True).start()

    def _on_state(self, state: dict) -> None:
        version = state.get("version")
        if not isinstance(version, int) or (self.state is not None and version < self.state.get("version", -1)):
            return
        self.state = state
        self._show()

    def press(self, action: str) -> dict | None:
        """Send one action for the window; a key pressed while one is in flight is ignored."""
        if not self._busy.acquire(blocking=False):
            return None
        try:
            if action == "pause" and self.state is not None and self.state.get("state") == "paused":
                action = "resume"  # one key toggles pause
            answer = self.link.call(action, timeout=self.answer_timeout)
            if answer is None:
                self._flash()
                return None
            self.answers.append(answer)
            if answer.get("status") != "ok":
                log.info("%s refused: %s", action, answer["error"]["message"])
                self._flash()
            return answer
        finally:
            self._busy.release()
            self._show()

    def _show(self) -> None:
        """LED: off when offline, slow blink when paused, steady otherwise."""
        with self._led_lock:
            if not self.link.connected:
                self.led.off()
            elif self.state is not None and self.state.get("state") == "paused":
                self.led.blink(on_time=1, off_time=1)
            else:
                self.led.on()

    def _flash(self) -> None:
        with self._led_lock:
            self.led.blink(on_time=0.1, off_time=0.1, n=3, background=True)

"""The call screen agent: follows the hall over MQTT and feeds the display
pages (displays/) in the local Chromium through the same Socket.IO protocol
the server speaks: 'join' → 'snapshot', then 'event' and 'queue'.

It never shows a window state older than one it has shown (versions only
grow), keeps the last state with an `offline` mark when the link drops, and
catches up from the retained messages when it returns. Each call is announced
once, even if MQTT delivers it twice.
"""

from __future__ import annotations

import logging
import threading
from collections import deque

from hallq_protocol import topics

from .clock import age_seconds, utcnow

log = logging.getLogger("hallq_edge.screen")


class NullHub:
    """Where updates go when no page server is attached (tests of the agent alone)."""

    def refresh(self) -> None: ...
    def event(self, event: dict) -> None: ...
    def queue(self, body: dict) -> None: ...


class ScreenAgent:
    def __init__(self, link, *, hall: str, announcer=None, hub=None, window: int | None = None, recent: int = 10,
                 announce_within: float = 60.0, now=utcnow):
        self.link = link
        self.hall = hall
        self.window = window  # a window screen shows one window; a hall screen all
        self.announcer = announcer
        self.hub = hub or NullHub()
        self.hall_info: dict = {"slug": hall, "name": hall}
        self.windows: dict[int, dict] = {}
        self.services: list[dict] = []
        self.calls: deque = deque(maxlen=recent)
        self.offline = True
        self.announce_within = announce_within
        self.now = now  # compared with the server's call times: the hall's clock in tests and the demo
        self._announced: set[tuple[int, int]] = set()
        self._lock = threading.RLock()
        link.subscribe(topics.config(hall, link.device), self._on_config)
        link.subscribe(topics.all_window_states(hall), self._on_state)
        link.subscribe(topics.calls(hall), self._on_call)
        link.subscribe(topics.queue(hall), self._on_queue)
        link.on_link(self._on_link)

    def snapshot(self, window: int | None = None) -> dict:
        """What a page gets when it joins: the server's snapshot plus `offline` and recent calls."""
        with self._lock:
            snap = {
                "hall": self.hall_info,
                "windows": [self.windows[n] for n in sorted(self.windows)],
                "queue": list(self.services),
                "calls": list(self.calls),
                "offline": self.offline,
            }
            if self.announcer is not None:
                snap["voice"] = "edge"  # the pages stay quiet: this agent announces
            if window is not None:
                snap["window"] = self.windows.get(window)
            return snap

    # -- MQTT -------------------------------------------------------------

    def _on_link(self, up: bool) -> None:
        with self._lock:
            self.offline = not up
        self.hub.refresh()

    def _on_config(self, config: dict) -> None:
        with self._lock:
            if isinstance(config.get("hall"), dict):
                self.hall_info = config["hall"]
        self.hub.refresh()

    def _accept_state(self, state: dict) -> bool:
        number, version = state.get("number"), state.get("version")
        if not isinstance(number, int) or not isinstance(version, int):
            return False
        with self._lock:
            shown = self.windows.get(number)
            if shown is not None and shown["version"] > version:
                return False  # older than what is on screen: ignore
            if shown is not None and shown["version"] == version:
                return False
            self.windows[number] = state
        return True

    def _on_state(self, state: dict) -> None:
        if self._accept_state(state):
            self.hub.event({"kind": "window.state", "hall": self.hall, "window": state["number"], "at": state.get("since"),
                            "data": {"window_state": state}})

    def _on_call(self, call: dict) -> None:
        window, version, number = call.get("window"), call.get("version"), call.get("number")
        if not isinstance(window, int) or not isinstance(number, str):
            return
        with self._lock:
            key = (window, version)
            if key in self._announced:
                return  # a repeat delivery of the same call
            self._announced.add(key)
            self.calls.appendleft(call)
            state = self.windows.get(window)
        kind = "ticket.recalled" if call.get("how") == "recall" else "ticket.called"
        data = {k: call.get(k) for k in ("number", "service", "window_name", "how", "recalls", "version")}
        if state is not None:
            data["window_state"] = state
        self.hub.event({"kind": kind, "hall": self.hall, "window": window, "at": call.get("at"), "data": data})
        if self.announcer is not None and (self.window is None or self.window == window) and not self._stale(call):
            self.announcer.announce(number, window)

    def _stale(self, call: dict) -> bool:
        """A call from long ago (delivered after an outage) is shown but not announced."""
        age = age_seconds(call.get("at"), self.now())
        return age is not None and age > self.announce_within

    def _on_queue(self, body: dict) -> None:
        services = body.get("services")
        if not isinstance(services, list):
            return
        with self._lock:
            self.services = services
        self.hub.queue({"hall": self.hall, "services": services})

"""The window caller (keypad) on its own, fast: a MemoryLink instead of a broker,
MockFactory keys and LED. Each key sends its window action and nothing else; the
pause key resumes a paused window; a refusal is kept as the answer; offline no key
sends anything. (Against a real broker and server: test_edge_screen.py.)"""

from __future__ import annotations

import pytest

from hallq_edge import hardware
from hallq_edge.caller import KEYS, WindowCaller
from hallq_protocol import topics
from support.edge import press
from support.memory_link import MemoryLink
from support.waiting import wait_for

PINS = {"call_next": 5, "recall": 6, "skip": 13, "start": 16, "complete": 19, "pause": 26}
LED_PIN = 21


def state(version: int, name: str = "idle") -> dict:
    return {"number": 5, "name": "5号综合窗口", "state": name, "version": version, "since": "2026-11-23T02:00:00Z",
            "ticket": None, "staff": {"name": "王芳", "staff_no": "1005"}, "services": []}


class Window:
    """The server's side for window 5, scripted: answers each action with the window's next state."""

    def __init__(self):
        self.version = 1
        self.refuse: dict | None = None

    def __call__(self, req: dict):
        if self.refuse is not None:
            return self.refuse
        self.version += 1
        return state(self.version, {"pause": "paused"}.get(req["action"], "idle"))


@pytest.fixture
def caller(memory_link, mock_factory):
    window = Window()
    link = memory_link("caller-5", role="caller", respond=window)
    c = WindowCaller(link, hall="district", window=5, keys={a: hardware.button(p, mock_factory) for a, p in PINS.items()},
                     led=hardware.led(LED_PIN, mock_factory))
    link.deliver(topics.window_state("district", 5), state(1), retain=True)
    link.start()
    c.pins, c.server = mock_factory, window
    return c


def test_each_key_sends_its_window_action(caller):
    assert set(PINS) == set(KEYS)

    for n, (action, pin) in enumerate(PINS.items(), start=1):
        press(caller.pins, pin)
        wait_for(lambda: len(caller.answers) == n, what=f"the answer to {action}")

    assert caller.link.actions() == list(PINS)
    assert all(set(r) == {"id", "action", "at"} for r in caller.link.requests)  # the caller's window is the device's own
    assert [a["status"] for a in caller.answers] == ["ok"] * len(PINS)
    assert caller.led.is_lit


def test_the_pause_key_resumes_a_paused_window(caller):
    caller.link.deliver(topics.window_state("district", 5), state(7, "paused"))

    caller.press("pause")

    assert caller.link.actions() == ["resume"]


def test_an_older_window_state_does_not_count(caller):
    caller.link.deliver(topics.window_state("district", 5), state(7, "paused"))
    caller.link.deliver(topics.window_state("district", 5), state(6, "idle"))  # delivered late

    assert caller.state["version"] == 7
    caller.press("pause")
    assert caller.link.actions() == ["resume"]


def test_a_refusal_is_kept_as_the_answer(caller):
    caller.server.refuse = MemoryLink.refused("queue_empty", "没有等候的号")

    answer = caller.press("call_next")

    assert answer["status"] == "error" and answer["error"]["code"] == "queue_empty"
    assert caller.answers == [answer]


def test_offline_no_key_sends_anything(caller):
    caller.link.drop()

    assert caller.press("call_next") is None

    assert caller.link.requests == [] and caller.answers == []
    assert not caller.led.is_lit

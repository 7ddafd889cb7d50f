"""The call screen agent on its own, fast: a MemoryLink instead of a broker, a hub that
records what the pages would get, a speaker that records what it is asked to say. A
call updates what is shown and is announced once; a window screen announces only its
window; the screen keeps its last state marked offline while the link is down and
catches up from the retained messages when it returns. (Against a real broker and
server: test_edge_screen.py.)"""

from __future__ import annotations

import pytest

from hallq.mqtt import schemas
from hallq_edge.announce import Announcer
from hallq_edge.screen import ScreenAgent
from hallq_protocol import topics
from support.edge import RecordingPlayer
from support.waiting import wait_for

HALL = {"slug": "district", "id": "cn-gd-demo-district", "name": "示范区政务服务中心", "name_en": "Demo District",
        "timezone": "Asia/Shanghai", "hours": {}, "recall_limit": 2}


class RecordingHub:
    """What the display pages would be sent."""

    def __init__(self):
        self.refreshes = 0
        self.events: list[dict] = []
        self.queues: list[dict] = []

    def refresh(self) -> None:
        self.refreshes += 1

    def event(self, event: dict) -> None:
        self.events.append(event)

    def queue(self, body: dict) -> None:
        self.queues.append(body)


def window_state(number: int, version: int, state: str = "serving", ticket: str | None = None) -> dict:
    """A window's retained state, shaped as the server publishes it (hallq.core.shapes.window_view)."""
    return {"number": number, "name": f"{number}号综合窗口", "zone": "A", "state": state, "since": "2026-11-23T02:00:00Z",
            "minutes_in_state": 0.0, "pause_reason": None, "version": version, "staff": {"name": "王芳", "staff_no": "1005"},
            "ticket": None if ticket is None else {"id": f"t-{ticket}", "number": ticket, "service": "SI", "status": "called",
                                                   "priority": "normal", "called_at": "2026-11-23T02:00:00Z", "started_at": None, "recalls": 0},
            "services": [{"code": "SI", "weight": 1.0}]}


def call(clock, window: int, number: str, version: int, how: str = "next") -> dict:
    return schemas.checked(schemas.CALL, {
        "hall": "district", "window": window, "window_name": f"{window}号综合窗口", "number": number, "ticket": f"t-{number}",
        "service": "SI", "how": how, "recalls": 1 if how == "recall" else 0, "version": version,
        "at": clock.now().strftime("%Y-%m-%dT%H:%M:%S.%fZ")})


@pytest.fixture
def screen(memory_link, clock):
    """A hall screen whose link came up with the hall's retained messages: windows 5 and 6 idle."""
    link = memory_link("screen-1", role="screen")
    player, hub = RecordingPlayer(), RecordingHub()
    agent = ScreenAgent(link, hall="district", announcer=Announcer(player), hub=hub, now=clock.now)
    link.deliver(topics.config("district", "screen-1"), {"device": "screen-1", "role": "screen", "hall": HALL}, retain=True)
    for n in (5, 6):
        link.deliver(topics.window_state("district", n), window_state(n, 1, "idle"), retain=True)
    link.start()
    agent.player = player  # what it was asked to say
    return agent


def test_it_follows_the_hall_once_its_link_is_up(screen):
    snapshot = screen.snapshot()

    assert snapshot["offline"] is False and snapshot["voice"] == "edge"
    assert snapshot["hall"]["name"] == "示范区政务服务中心"
    assert [(w["number"], w["state"]) for w in snapshot["windows"]] == [(5, "idle"), (6, "idle")]
    assert screen.hub.refreshes >= 2  # the link came up, the config arrived


def test_a_call_updates_the_screen_and_is_announced(screen, clock):
    screen.link.deliver(topics.window_state("district", 5), window_state(5, 2, ticket="A001"), retain=True)
    screen.link.deliver(topics.calls("district"), call(clock, 5, "A001", 2))

    assert screen.windows[5]["ticket"]["number"] == "A001"
    assert screen.calls[0]["number"] == "A001"
    called = screen.hub.events[-1]
    assert called["kind"] == "ticket.called" and called["window"] == 5 and called["data"]["number"] == "A001"
    assert called["data"]["window_state"]["version"] == 2
    wait_for(lambda: screen.player.said, what="the announcement")
    assert screen.player.said == [("请 A001 号到 5 号窗口办理", "zh")]


def test_a_call_delivered_twice_is_shown_and_said_once(screen, clock):
    message = call(clock, 6, "B003", 4)

    screen.link.deliver(topics.calls("district"), message)
    screen.link.deliver(topics.calls("district"), message)  # QoS 1 may deliver twice
    screen.link.deliver(topics.calls("district"), call(clock, 6, "B003", 5, how="recall"))

    assert [c["number"] for c in screen.calls] == ["B003", "B003"]
    assert [e["kind"] for e in screen.hub.events if e["kind"] != "window.state"] == ["ticket.called", "ticket.recalled"]
    assert screen.announcer.requested == ["请 B003 号到 6 号窗口办理"] * 2


def test_a_window_screen_announces_its_own_window_only(memory_link, clock):
    link = memory_link("screen-5", role="screen")
    player = RecordingPlayer()
    agent = ScreenAgent(link, hall="district", window=5, announcer=Announcer(player), now=clock.now)
    link.start()

    link.deliver(topics.calls("district"), call(clock, 6, "B001", 1))
    link.deliver(topics.calls("district"), call(clock, 5, "A001", 1))

    assert [c["number"] for c in agent.calls] == ["A001", "B001"]  # both shown
    assert agent.announcer.requested == ["请 A001 号到 5 号窗口办理"]


def test_an_older_state_delivered_late_is_never_shown(screen):
    screen.link.deliver(topics.window_state("district", 5), window_state(5, 7, ticket="A009"))
    screen.link.deliver(topics.window_state("district", 5), window_state(5, 6, "paused"))

    assert screen.windows[5]["version"] == 7 and screen.windows[5]["state"] == "serving"


def test_offline_it_keeps_the_last_state_and_catches_up_when_the_link_returns(screen):
    screen.link.deliver(topics.window_state("district", 5), window_state(5, 2, ticket="A001"), retain=True)

    screen.link.drop()
    missed = window_state(5, 3, "idle")
    screen.link.deliver(topics.window_state("district", 5), missed, retain=True)  # the broker keeps it

    snapshot = screen.snapshot(window=5)
    assert snapshot["offline"] is True and snapshot["window"]["ticket"]["number"] == "A001"

    screen.link.start()

    assert screen.offline is False and screen.windows[5] == missed
    assert screen.hub.events[-1]["kind"] == "window.state" and screen.hub.events[-1]["data"]["window_state"]["version"] == 3


def test_the_queue_goes_to_the_pages(screen):
    services = [{"service": "SI", "name": "社会保险", "waiting": 4, "estimated_wait_minutes": 12.0}]

    screen.link.deliver(topics.queue("district"), {"hall": "district", "services": services, "at": "2026-11-23T02:00:00Z"})
    screen.link.deliver(topics.queue("district"), b"not json")  # dropped by the link

    assert screen.snapshot()["queue"] == services
    assert screen.hub.queues == [{"hall": "district", "services": services}]

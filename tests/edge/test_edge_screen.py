"""Window caller → server → call screen, over a real broker: the keypad's
call shows on the screen page (the local Socket.IO protocol) and is announced;
the screen keeps its last state when the link drops and catches up after a
broker restart."""

from __future__ import annotations

import pytest

from hallq_edge import hardware
from hallq_edge.announce import Announcer
from hallq_edge.caller import WindowCaller
from hallq_edge.screen import ScreenAgent
from hallq_edge.screen_server import PageHub
from support.edge import RecordingPlayer, press
from support.mqtt import open_window
from support.project import ROOT
from support.waiting import wait_for

CALL_NEXT, RECALL, SKIP, COMPLETE, PAUSE, LED_PIN = 5, 6, 13, 19, 26, 21


@pytest.fixture
def caller(device, mock_factory, hall):
    open_window(hall, 5)
    link = device("caller", "caller-5", window=5)
    keys = {"call_next": CALL_NEXT, "recall": RECALL, "skip": SKIP, "complete": COMPLETE, "pause": PAUSE}
    c = WindowCaller(link, hall="district", window=5, keys={a: hardware.button(p, mock_factory) for a, p in keys.items()},
                     led=hardware.led(LED_PIN, mock_factory))
    wait_for(lambda: c.state is not None, what="the caller to see its window")
    return c


@pytest.fixture
def screen(device, hall):
    player = RecordingPlayer()
    agent = ScreenAgent(device("screen", "screen-1"), hall="district", announcer=Announcer(player), now=hall.clock.now)
    agent._on_link(True)
    hub = PageHub(ROOT / "displays").attach(agent)
    wait_for(lambda: len(agent.windows) == 20 and agent.services, what="the screen to receive the hall")
    agent.player = player
    return agent, hub


def events(page, name):
    return [m["args"][0] for m in page.get_received() if m["name"] == name]


def test_keypad_call_reaches_the_screen_page_and_is_announced(caller, screen, mock_factory, hall, office):
    agent, hub = screen
    page = hub.socketio.test_client(hub.app)
    page.emit("join", {"hall": "district"})
    snapshot = events(page, "snapshot")[0]
    assert snapshot["hall"]["name"] == "示范区政务服务中心"
    assert snapshot["offline"] is False and snapshot["voice"] == "edge"
    ticket = hall.issue_ticket("district", service="SI", actor=office.actor_for_login("staff5", "staff-password"))

    press(mock_factory, CALL_NEXT)

    wait_for(lambda: agent.player.said, what="the announcement")
    assert agent.player.said == [("请 A001 号到 5 号窗口办理", "zh")]
    received = wait_for(lambda: [e for e in events(page, "event") if e["kind"] == "ticket.called"], what="the page update")
    call = received[0]
    assert call["window"] == 5 and call["data"]["number"] == ticket["number"] == "A001"
    assert call["data"]["window_state"]["ticket"]["number"] == "A001"
    assert call["data"]["window_state"]["staff"] == {"name": "王芳", "staff_no": "1005"}
    assert agent.windows[5]["state"] == "serving"
    assert wait_for(lambda: caller.answers, what="the caller's answer")[-1]["status"] == "ok"

    press(mock_factory, RECALL)
    wait_for(lambda: len(agent.player.said) == 2, what="the recall announcement")
    assert agent.calls[0]["how"] == "recall"


def test_caller_keys_do_what_the_staff_terminal_does(caller, mock_factory, hall, office):
    hall.issue_ticket("district", service="SI", actor=office.actor_for_login("staff5", "staff-password"))

    assert caller.press("call_next")["status"] == "ok"
    assert caller.press("complete")["data"]["state"] == "idle"
    assert caller.press("pause")["data"]["state"] == "paused"
    wait_for(lambda: caller.state["state"] == "paused", what="the paused state")
    assert caller.press("pause")["data"]["state"] == "idle"  # the same key resumes
    refused = caller.press("call_next")
    assert refused["status"] == "error" and refused["error"]["code"] == "queue_empty"
    assert hall.window("district", 5)["state"] == "idle"


def test_screen_keeps_its_state_offline_and_resyncs_after_a_broker_restart(caller, screen, mqtt, hall, office, device):
    agent, hub = screen
    page = hub.socketio.test_client(hub.app)
    page.emit("join", {"hall": "district", "window": 5})
    page.get_received()
    hall.issue_ticket("district", service="SI", actor=office.actor_for_login("staff5", "staff-password"))
    caller.press("call_next")
    wait_for(lambda: agent.windows[5]["state"] == "serving", what="the call")
    shown = agent.windows[5]["version"]

    mqtt.broker.stop()
    wait_for(lambda: agent.offline, what="the screen to notice")
    snapshots: list[dict] = []  # the page hears of it just after the agent (hub.refresh)
    wait_for(lambda: snapshots.extend(events(page, "snapshot")) or any(s["offline"] for s in snapshots), what="the page to hear")
    offline = [s for s in snapshots if s["offline"]]
    assert offline[-1]["window"]["ticket"]["number"] == "A001"  # the last state, marked offline
    staff = office.actor_for_login("staff5", "staff-password")
    hall.window_action("district", 5, "complete", actor=staff)  # while the broker is down

    mqtt.broker.start()  # a fresh broker: no retained messages until the server republishes
    wait_for(lambda: not agent.offline and agent.windows[5]["state"] == "idle", what="the screen to catch up")
    assert agent.windows[5]["version"] > shown
    late = ScreenAgent(device("screen", "screen-2"), hall="district")
    wait_for(lambda: len(late.windows) == 20 and late.windows[5]["state"] == "idle", what="a new screen to get everything retained")
    assert caller.link.connected


def test_an_older_window_state_is_never_shown(screen):
    agent, _ = screen
    current = agent.windows[5]
    older = {**current, "version": current["version"] - 1, "state": "paused"}

    agent._on_state(older)

    assert agent.windows[5] == current


def test_a_call_delivered_long_after_it_was_made_is_shown_but_not_announced(screen):
    agent, _ = screen
    old = {"hall": "district", "window": 7, "window_name": "7号综合窗口", "number": "C009", "ticket": "x", "how": "next",
           "recalls": 0, "version": 3, "at": "2020-01-01T00:00:00.000000Z"}

    agent._on_call(old)

    assert agent.calls[0]["number"] == "C009"
    assert agent.announcer.requested == []  # requested synchronously, spoken on the announcer's thread


def test_a_call_is_judged_stale_by_the_injected_clock_not_the_machines(memory_link, clock):
    agent = ScreenAgent(memory_link("screen-9"), hall="district", announcer=Announcer(RecordingPlayer()), now=clock.now)
    called_at = clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")  # a Monday of 2026, whatever today is

    agent._on_call({"window": 5, "version": 1, "number": "A001", "at": called_at})
    clock.advance(seconds=61)  # the next one arrives a minute after it was made (an outage)
    agent._on_call({"window": 6, "version": 1, "number": "A002", "at": called_at})

    assert agent.announcer.requested == ["请 A001 号到 5 号窗口办理"]
    assert [c["number"] for c in agent.calls] == ["A002", "A001"]  # both shown, only the fresh one said


def test_the_call_screens_pages_carry_the_servers_security_headers(tmp_path):
    hub = PageHub(ROOT / "displays")
    page = hub.app.test_client().get("/")
    assert page.status_code == 200 and "<html" in page.get_data(as_text=True).lower()
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy and "frame-ancestors 'none'" in policy
    assert page.headers["X-Frame-Options"] == "DENY" and page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "same-origin"
    assert hub.app.test_client().get("/nothing-here.html").headers["X-Content-Type-Options"] == "nosniff"

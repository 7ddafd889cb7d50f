"""Live events over Socket.IO: snapshot on join, one event per change, queue summaries."""

import time

from hallq.web.extensions import socketio
from support.web import client_sign_in

H = "/api/v1/halls/district"


def received(client, name, timeout=15.0, predicate=lambda args: True):
    """Wait until `client` has received an event `name` whose payload satisfies predicate."""
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        for msg in client.get_received():
            seen.append(msg)
            if msg["name"] == name and predicate(msg["args"][0]):
                return msg["args"][0]
        time.sleep(0.02)
    raise AssertionError(f"no {name!r} received; got {[m['name'] for m in seen]}")


def test_join_gives_snapshot_then_events(app, client, users):
    kiosk = users.token("kiosk1", "device")
    staff = users.token("staff1", "staff")
    display = socketio.test_client(app)
    assert display.emit("join", {"hall": "district"}, callback=True) == {"ok": True}
    snap = received(display, "snapshot")
    assert len(snap["windows"]) == 20 and snap["hall"]["slug"] == "district"

    client.post(f"{H}/tickets", json={"service": "SI"}, headers=kiosk)
    issued = received(display, "event", predicate=lambda e: e["kind"] == "ticket.issued")
    assert issued["data"]["number"] == "A001"
    queue = received(display, "queue", predicate=lambda q: any(s["waiting"] for s in q["services"]))
    assert next(s for s in queue["services"] if s["service"] == "SI")["waiting"] == 1  # this hall's, not an earlier test's

    client.post(f"{H}/windows/3/open", headers=staff)
    client.post(f"{H}/windows/3/call-next", headers=staff)
    called = received(display, "event", predicate=lambda e: e["kind"] == "ticket.called")
    assert called["window"] == 3 and called["data"]["number"] == "A001"
    assert called["data"]["window_state"]["state"] == "serving"
    assert called["data"]["window_state"]["ticket"]["number"] == "A001"


def test_window_room_gets_only_its_window(app, client, users):
    staff = users.token("staff1", "staff")
    staff2 = users.token("staff2", "staff")
    screen5 = socketio.test_client(app)
    screen5.emit("join", {"hall": "district", "window": 5}, callback=True)
    snap = received(screen5, "snapshot")
    assert snap["window"]["number"] == 5
    client.post(f"{H}/windows/4/open", headers=staff)
    client.post(f"{H}/windows/5/open", headers=staff2)
    opened = received(screen5, "event", predicate=lambda e: e["kind"] == "window.opened" and e["window"] == 5)
    assert opened["data"]["window_state"]["number"] == 5


def test_bad_join_is_answered_with_an_error(app):
    c = socketio.test_client(app)
    assert c.emit("join", "district", callback=True)["error"]["code"] == "bad_request"
    assert c.emit("join", {"hall": "district", "window": "5"}, callback=True)["error"]["code"] == "bad_request"
    assert c.emit("join", {"hall": "nowhere"}, callback=True)["error"]["code"] == "unknown_hall"
    assert c.is_connected()


def test_window_versions_only_grow_across_events(app, client, users):
    kiosk = users.token("kiosk1", "device")
    staff = users.token("staff1", "staff")
    display = socketio.test_client(app)
    display.emit("join", {"hall": "district", "window": 1}, callback=True)
    for _ in range(3):
        client.post(f"{H}/tickets", json={"service": "SI"}, headers=kiosk)
    client.post(f"{H}/windows/1/open", headers=staff)
    for action in ["call-next", "recall", "start", "complete", "call-next", "skip"]:
        assert client.post(f"{H}/windows/1/{action}", headers=staff).status_code == 200
    time.sleep(0.1)
    versions = [
        m["args"][0]["data"]["window_state"]["version"]
        for m in display.get_received()
        if m["name"] == "event" and m["args"][0]["window"] == 1
    ]
    assert len(versions) == 7 and versions == sorted(versions) and len(set(versions)) == 7


def test_device_events_reach_the_manager_room_only(app, hall, office):
    """A device going offline or out of paper is the managers' business, not the hall screen's."""

    from hallq.core.devices.service import DeviceService

    office.add_user(name="mgr", role="manager", password="manager-pass", hall="district")
    browser = app.test_client()
    client_sign_in(browser, "mgr", "manager-pass")
    manager = socketio.test_client(app, flask_test_client=browser)
    assert manager.emit("join", {"hall": "district", "manager": True}, callback=True) == {"ok": True}
    display = socketio.test_client(app)
    assert display.emit("join", {"hall": "district", "window": 1}, callback=True) == {"ok": True}
    received(display, "snapshot")

    devices = DeviceService(hall)
    devices.add(hall="district", name="disp-1", role="dispenser")
    devices.set_availability("district", "disp-1", True)
    devices.set_availability("district", "disp-1", False)
    devices.set_status("district", "disp-1", paper="out")

    kinds = []
    received(manager, "event", predicate=lambda e: kinds.append(e) or e["kind"] == "device.paper")
    offline = [e for e in kinds if e["kind"] == "device.availability" and not e["data"]["device"]["online"]]
    assert offline and offline[0]["data"]["device"]["device"] == "disp-1" and offline[0]["data"]["device"]["last_seen"]
    assert kinds[-1]["data"]["device"]["paper"] == "out"
    # A ticket event after them: once the display has it, it would have had the device events too.
    hall.issue_ticket("district", service="SI", actor=office.actor_for_login("mgr", "manager-pass"))
    public = []
    received(display, "event", predicate=lambda e: public.append(e) or e["kind"] == "ticket.issued")
    assert [e["kind"] for e in public] == ["ticket.issued"]
    for c in (manager, display):
        c.disconnect()


def test_public_rooms_carry_no_tracking_ids_and_a_tracker_hears_its_own_ticket(app, client, users):
    kiosk = users.token("kiosk1", "device")
    staff = users.token("staff1", "staff")
    mine = client.post(f"{H}/tickets", json={"service": "SI"}, headers=kiosk).get_json()
    client.post(f"{H}/windows/3/open", headers=staff)
    display, tracker, snooper = socketio.test_client(app), socketio.test_client(app), socketio.test_client(app)
    assert display.emit("join", {"hall": "district", "window": 3}, callback=True) == {"ok": True}
    assert tracker.emit("join", {"hall": "district", "ticket": mine["id"]}, callback=True) == {"ok": True}
    # Knowing a number (it is on every screen) does not open a ticket's room.
    assert snooper.emit("join", {"hall": "district", "ticket": mine["number"]}, callback=True)["error"]["code"] == "unknown_ticket"

    client.post(f"{H}/windows/3/call-next", headers=staff)
    public_call = received(display, "event", predicate=lambda e: e["kind"] == "ticket.called")
    own_call = received(tracker, "event", predicate=lambda e: e["kind"] == "ticket.called" and "ticket" in e["data"])
    late = socketio.test_client(app)
    late.emit("join", {"hall": "district", "window": 3}, callback=True)
    snapshot = received(late, "snapshot")

    assert public_call["data"]["number"] == mine["number"] and "ticket" not in public_call["data"]
    assert public_call["data"]["window_state"]["ticket"]["number"] == mine["number"]
    assert mine["id"] not in repr(public_call) and mine["id"] not in repr(snapshot)
    assert snapshot["window"]["ticket"]["number"] == mine["number"]
    assert own_call["data"]["ticket"] == mine["id"]


def test_a_tracker_join_with_a_malformed_ticket_is_answered_with_an_error(app):
    c = socketio.test_client(app)
    assert c.emit("join", {"hall": "district", "ticket": 42}, callback=True)["error"]["code"] == "bad_request"
    assert c.emit("join", {"hall": "district", "ticket": "x" * 65}, callback=True)["error"]["code"] == "bad_request"


def test_a_screen_gone_while_its_join_is_read_is_let_go_quietly(app, monkeypatch):
    # The page was closed (or reloaded) while the server read its snapshot: its session is gone
    # before the server puts it in the hall's rooms. Nothing to join and no one to answer; the
    # handler must not fail on it (it did: KeyError from python-socketio's room map).
    import flask_socketio

    from hallq.core.service import HallService

    queue = HallService.queue

    def queue_then_leave(self, slug):
        flask_socketio.disconnect()
        return queue(self, slug)

    monkeypatch.setattr(HallService, "queue", queue_then_leave)
    c = socketio.test_client(app)
    c.emit("join", {"hall": "district"}, callback=True)
    assert not c.is_connected()
    monkeypatch.setattr(HallService, "queue", queue)
    again = socketio.test_client(app)
    assert again.emit("join", {"hall": "district"}, callback=True) == {"ok": True}

"""The balancer in a served app: managers switch its mode through the API (audited,
CSRF-checked, refused for staff) and every manager's page hears of it; in suggest
mode the suggestions are pushed to the managers; in auto mode the app's own
runner applies a change when a service backlogs, within max_changes_per_hour."""

from __future__ import annotations

import time

from sqlmodel import select

from hallq.core.models import AuditEntry
from hallq.core.office import OfficeService
from hallq.web.extensions import socketio
from support.web import client_sign_in

API = "/api/v1/halls/district/balancer"


_unread: dict[int, list] = {}


def received(client, name, predicate=lambda args: True, timeout=10.0):
    """Wait (at most `timeout`: generous, not a speed test) for an event `name` matching predicate;
    what arrived with it stays for the next call."""
    deadline = time.monotonic() + timeout
    queue = _unread.setdefault(id(client), [])
    seen = []
    while True:
        queue.extend(client.get_received())
        while queue:
            msg = queue.pop(0)
            seen.append(msg["name"])
            if msg["name"] == name and predicate(msg["args"][0]):
                return msg["args"][0]
        if time.monotonic() > deadline:
            raise AssertionError(f"no {name!r} received; got {seen}")
        time.sleep(0.02)


def manager_socket(app, hall, name="mgr"):
    """A signed-in manager's browser: its test client and its Socket.IO connection in the manager room."""
    OfficeService(hall).add_user(name=name, role="manager", password="manager-pass", hall="district")
    browser = app.test_client()
    client_sign_in(browser, name, "manager-pass")
    sock = socketio.test_client(app, flask_test_client=browser)
    assert sock.emit("join", {"hall": "district", "manager": True}, callback=True) == {"ok": True}
    return browser, sock


def backlog(hall, clock, actor):
    """MI has 14 waiting, oldest 23 min; windows 7 and 8 (qualified for MI, not serving it) are open and idle."""
    for _ in range(14):
        hall.issue_ticket("district", service="MI", actor=actor)
    clock.advance(minutes=23)
    for number in (7, 8):
        hall.window_action("district", number, "open", actor=actor)


def serves_mi(hall) -> list[int]:
    return [w["number"] for w in hall.windows("district") if any(s["code"] == "MI" for s in w["services"]) and w["number"] in (7, 8)]


def balancer_audits(hall) -> list[tuple]:
    with hall.db.read() as session:
        rows = session.exec(select(AuditEntry).where(AuditEntry.actor == "balancer")).all()
        return [(a.action, a.target) for a in rows]


def test_a_manager_switches_the_mode_through_the_api_and_every_manager_hears_it(app, client, hall, users):
    headers = users.token("boss", "manager")
    _, other = manager_socket(app, hall)
    assert client.get(API, headers=headers).get_json()["mode"] == "suggest"

    r = client.patch(API, json={"mode": "auto", "limits": {"max_changes_per_hour": 3}}, headers=headers)
    assert r.status_code == 200
    assert r.get_json()["mode"] == "auto" and r.get_json()["limits"]["max_changes_per_hour"] == 3
    event = received(other, "event", lambda e: e["kind"] == "balancer.settings")
    assert event["data"]["mode"] == "auto" and event["data"]["by"] == "boss"
    received(other, "suggestions", lambda p: p["mode"] == "auto")
    with hall.db.read() as session:
        [audit] = session.exec(select(AuditEntry).where(AuditEntry.action == "balancer.settings")).all()
        assert audit.actor == "boss" and audit.detail["after"] == {"mode": "auto", "max_changes_per_hour": 3}

    staff = users.token("s1", "staff")
    for method in (client.get, client.patch):
        r = method(API, json={"mode": "off"}, headers=staff)
        assert r.status_code == 403 and r.get_json()["error"]["code"] == "manager_only"
    r = client.patch(API, json={"mode": "sometimes"}, headers=headers)
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "validation_failed"
    r = client.patch(API, json={"limits": {"min_hold_minutes": -1}}, headers=headers)
    assert r.status_code == 422
    assert client.get(API, headers=headers).get_json()["mode"] == "auto"


def test_a_browser_session_needs_its_csrf_token(app, hall):
    browser, sock = manager_socket(app, hall)
    r = browser.patch(API, json={"mode": "off"})
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "csrf_failed"
    token = browser.get("/api/v1/session").get_json()["csrf_token"]
    r = browser.patch(API, json={"mode": "off"}, headers={"X-CSRFToken": token})
    assert r.status_code == 200 and r.get_json()["mode"] == "off"
    sock.disconnect()


def test_suggestions_are_pushed_to_the_managers_and_applied_by_id(app, client, hall, office, clock, users):
    headers = users.token("boss", "manager")
    boss = office.actor_for_token(headers["Authorization"].split()[1])
    backlog(hall, clock, boss)
    _, sock = manager_socket(app, hall)
    client.patch(API, json={"mode": "off"}, headers=headers)
    client.patch(API, json={"mode": "suggest"}, headers=headers)
    pushed = received(sock, "suggestions", lambda p: p["mode"] == "suggest" and p["suggestions"])
    [help_mi] = pushed["suggestions"]
    assert help_mi["windows"] == [7, 8]
    assert help_mi["reason"].startswith("医疗保障（MI）有 14 人等候，最久 23 分钟")

    r = client.post(f"{API}/suggestions/{help_mi['id']}/apply", headers=headers)
    assert r.status_code == 200
    assert sorted(serves_mi(hall)) == [7, 8]
    r = client.post(f"{API}/suggestions/{help_mi['id']}/apply", headers=headers)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "stale_suggestion"
    staff = users.token("s1", "staff")
    assert client.get(f"{API}/suggestions", headers=staff).status_code == 403


def test_auto_mode_in_a_served_app_applies_a_change_within_its_hourly_limit(app, client, hall, office, clock, users):
    headers = users.token("boss", "manager")
    boss = office.actor_for_token(headers["Authorization"].split()[1])
    backlog(hall, clock, boss)
    display = socketio.test_client(app)
    assert display.emit("join", {"hall": "district"}, callback=True) == {"ok": True}
    runner = app.extensions["hallq"].balancer_runner
    runner.start()  # what the served app does by itself (a test app is TESTING, so it waits to be told)
    try:
        r = client.patch(API, json={"mode": "auto", "limits": {"max_changes_per_hour": 1}}, headers=headers)
        assert r.status_code == 200
        # The change of mode makes the runner look at the hall (about a second later).
        changed = received(display, "event", lambda e: e["kind"] == "window.services_changed")
        assert changed["window"] in (7, 8) and any(s["code"] == "MI" for s in changed["data"]["window_state"]["services"])
        assert len(serves_mi(hall)) == 1
        assert balancer_audits(hall) == [("window.services", f"window {changed['window']}")]

        for _ in range(3):  # more looks within the hour change nothing more
            runner.tick("district")
        assert len(serves_mi(hall)) == 1

        clock.advance(minutes=61)
        runner.tick("district")
        assert sorted(serves_mi(hall)) == [7, 8]
        assert len(balancer_audits(hall)) == 2
    finally:
        runner.stop()
        display.disconnect()

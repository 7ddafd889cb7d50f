"""The manager's live hall: alerts, trends, the waiting list, moves, the
balancer's suggestions; and the staff member's figures for today."""

from __future__ import annotations

from hallq.core import figures
from hallq.core.balancer.balancer import Balancer
from hallq.core.office import OfficeService
from support.web import client_sign_in, csrf_token

PASSWORD = "password-manager"


def signed_in_client(app, hall, name, role):
    """A new account of `role`, and a test client signed in as it: (client, CSRF headers for its page requests, actor)."""
    OfficeService(hall).add_user(name=name, role=role, password=PASSWORD, hall="district", display_name=name.upper())
    client = app.test_client()
    client_sign_in(client, name, PASSWORD)
    # Signing in starts a new session, so a new CSRF token.
    return client, {"X-CSRFToken": csrf_token(client, "/?stay=1")}, OfficeService(hall).actor_for_login(name, PASSWORD)


def test_alert_rules():
    windows = [
        {"number": 1, "state": "idle", "minutes_in_state": 5.0, "services": [{"code": "SI"}]},
        {"number": 2, "state": "idle", "minutes_in_state": 0.5, "services": [{"code": "SI"}]},  # just finished: fine
        {"number": 3, "state": "serving", "minutes_in_state": 9.0, "services": [{"code": "SI"}]},
        {"number": 4, "state": "idle", "minutes_in_state": 9.0, "services": [{"code": "MI"}]},  # nothing waiting for it
    ]
    queue = [
        {"service": "SI", "waiting": 4, "oldest_wait_minutes": 31.0},
        {"service": "MI", "waiting": 0, "oldest_wait_minutes": None},
    ]
    devices = [{"device": "d1", "online": False, "window": 3}, {"device": "d2", "online": True, "paper": "out"},
               {"device": "old", "online": False, "revoked": True}]
    alerts = figures.hall_alerts(windows, queue, devices, wait_limit=30)
    assert alerts == [
        {"kind": "long_wait", "service": "SI", "minutes": 31.0, "limit": 30},
        {"kind": "idle_window", "window": 1, "service": "SI", "waiting": 4},
        {"kind": "device_offline", "device": "d1", "window": 3},
        {"kind": "paper_out", "device": "d2"},
    ]


def test_state_shows_waiting_tickets_and_trends_and_a_move_reaches_it(app, hall, clock):
    client, headers, mgr = signed_in_client(app, hall, "mgr", "manager")
    first = hall.issue_ticket("district", service="SI", actor=mgr)
    hall.issue_ticket("district", service="SI", actor=mgr, priority="green")
    clock.advance(minutes=3)
    state = client.get("/manager/district/state").get_json()
    assert [t["number"] for t in state["waiting"]] == ["A001", "A002"]
    assert state["waiting"][0]["waited_minutes"] == 3.0
    assert state["trends"]["SI"] == {"issued": 2, "called": 0, "trend": "rising", "minutes": 30}
    r = client.post(f"/api/v1/halls/district/tickets/{first['id']}/move", json={"service": "MI"}, headers=headers)
    assert r.status_code == 200
    moved = client.get("/manager/district/state").get_json()["waiting"]
    assert {(t["number"], t["service"]) for t in moved} == {("A001", "MI"), ("A002", "SI")}


def test_staff_figures_for_today(app, hall, clock):
    client, headers, staff = signed_in_client(app, hall, "staff01", "staff")
    for _ in range(3):
        hall.issue_ticket("district", service="SI", actor=staff)
    hall.window_action("district", 1, "open", actor=staff)
    for minutes in (6, 10):
        hall.window_action("district", 1, "call-next", actor=staff)
        hall.window_action("district", 1, "start", actor=staff)
        clock.advance(minutes=minutes)
        hall.window_action("district", 1, "complete", actor=staff)
    hall.window_action("district", 1, "call-next", actor=staff)
    hall.window_action("district", 1, "skip", actor=staff)
    figures = client.get("/staff/district/figures").get_json()
    assert figures["served"] == 2 and figures["mean_handling_minutes"] == 8.0
    assert figures["no_show"] == 0  # the skipped ticket is requeued once (the example hall allows it)
    month = figures["month"]  # the month so far: today is its only day with tickets
    assert (month["since"], month["until"], month["cases"], month["handling_mean"], month["reviews"]) == ("2026-11-01", "2026-11-23", 2, 8.0, 0)


def test_balancer_suggestions_are_shown_and_applied(app, hall):
    balancer = Balancer({"mode": "suggest", "window_qualifications": {1: {"TX": 1.0, "SI": 1.0}}})
    app.extensions["hallq"].balancer_for = lambda slug: balancer
    client, headers, mgr = signed_in_client(app, hall, "mgr", "manager")
    hall.window_action("district", 1, "open", actor=mgr)
    for _ in range(6):
        hall.issue_ticket("district", service="TX", actor=mgr)
    data = client.get("/manager/district/suggestions").get_json()
    assert data["available"] is True
    [suggestion] = [s for s in data["suggestions"] if 1 in s["windows"]]
    r = client.post(f"/manager/district/suggestions/{suggestion['id']}/apply", headers=headers)
    assert r.status_code == 200
    assert "TX" in {s["code"] for s in hall.window("district", 1)["services"]}
    r = client.post(f"/manager/district/suggestions/{suggestion['id']}/apply", headers=headers)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "stale_suggestion"


def test_a_move_naming_another_ticket_is_refused_and_moves_nothing(app, hall, office):
    client, headers, mgr = signed_in_client(app, hall, "mgr", "manager")
    first = hall.issue_ticket("district", service="SI", actor=mgr)
    second = hall.issue_ticket("district", service="SI", actor=mgr)
    r = client.post(f"/api/v1/halls/district/tickets/{first['id']}/move", json={"service": "MI", "number": second["number"]}, headers=headers)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "ticket_mismatch"
    assert {t["number"]: t["service"] for t in office.waiting_tickets("district")} == {"A001": "SI", "A002": "SI"}
    r = client.post(f"/api/v1/halls/district/tickets/{first['id']}/move", json={"service": "MI", "number": "a001"}, headers=headers)
    assert r.status_code == 200 and r.get_json()["service"] == "MI"


def test_the_live_hall_says_when_today_is_closed_and_when_the_calendar_lacks_a_year(app, hall, clock):
    from datetime import datetime, timezone

    client, headers, manager = signed_in_client(app, hall, "mgr", "manager")
    page = client.get("/manager/district", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert 'id="calendar-closed"' not in page and 'id="calendar-missing"' not in page  # a Monday of a known year

    clock.advance(days=6)  # Sunday 29 Nov 2026
    page = client.get("/manager/district", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "今天（2026-11-29）不是本厅的工作日" in page and 'id="calendar-missing"' not in page
    kiosk = client.post("/api/v1/halls/district/tickets", json={"service": "SI"}, headers=headers)
    assert kiosk.status_code == 409 and kiosk.get_json()["error"]["code"] == "hall_closed_today"

    clock.set(datetime(2099, 1, 5, 2, 0, tzinfo=timezone.utc))  # a Monday of a year the library lacks
    page = client.get("/manager/district", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "节假日日历尚无 2099 年的数据" in page and 'id="calendar-closed"' not in page
    clock.set(datetime(2098, 12, 1, 2, 0, tzinfo=timezone.utc))  # in December, the coming year too
    page = client.get("/manager/district", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "节假日日历尚无 2098, 2099 年的数据" in page

"""A visitor's phone number (issue 14, item 4): left on the tracker for a callback, it never shows
unmasked in the server's log, on MQTT, on a public page or in the public live rooms, and the
database keeps it encrypted. One run: a real embedded broker with a screen and a review box, the
Flask app, the live rooms, a manager who handles the case and reveals the number (the one place
it may appear in full)."""

from __future__ import annotations

import json
import logging

from sqlmodel import select

from hallq.core.models import AuditEntry
from hallq.core.office import OfficeService
from hallq.core.reviews.models import ReviewCase
from hallq.web.extensions import socketio
from hallq_protocol import topics
from support.mqtt import open_window
from support.waiting import wait_for
from support.web import client_sign_in, csrf_token

PHONE = "13800138000"  # left for the callback
IN_TEXT = "13912345678"  # typed into the comment by the visitor
SECRETS = (PHONE, IN_TEXT, "+8613800138000")


def test_no_surface_shows_a_visitors_number_unmasked(app, hall, mqtt, device, caplog):
    caplog.set_level(logging.DEBUG)
    sent: list[bytes] = []  # everything the server publishes over MQTT (into its embedded broker)
    deliver = mqtt.broker.deliver
    mqtt.broker.deliver = lambda topic, payload, retain: (sent.append(topic.encode() + b" " + payload), deliver(topic, payload, retain))[1]
    heard: list[bytes] = []  # everything the hall's devices receive
    screen, box = device("screen", "screen-1", window=1), device("review", "review-1", window=1)
    for link in (screen, box):
        on_message = link.client.on_message
        link.client.on_message = lambda c, u, m, on_message=on_message: (heard.append(m.payload), on_message(c, u, m))
    ignore = lambda body: None  # noqa: E731  (the raw payloads are what this test reads)
    for topic in (topics.window_state("district", 1), topics.calls("district"), topics.queue("district")):
        screen.subscribe(topic, ignore)
    box.subscribe(topics.window_completed("district", 1), ignore)
    screen_room = socketio.test_client(app)
    screen_room.emit("join", {"hall": "district", "window": 1}, callback=True)

    staff = open_window(hall, 1)
    ticket = hall.issue_ticket("district", service="SI", actor=staff)
    hall.window_action("district", 1, "call-next", actor=staff)
    hall.window_action("district", 1, "complete", actor=staff)
    visitor = app.test_client()
    rated = visitor.post(f"/api/v1/halls/district/tickets/{ticket['id']}/rating",
                         json={"score": 1, "reasons": ["态度不好"], "comment": f"请打 {IN_TEXT} 联系我", "phone": f"+86 {PHONE}", "consent": True})
    assert rated.status_code == 201
    tracker_room = socketio.test_client(app)
    tracker_room.emit("join", {"hall": "district", "ticket": ticket["id"]}, callback=True)

    OfficeService(hall).add_user(name="mgr", role="manager", password="password-mgr", hall="district")
    manager = app.test_client()
    client_sign_in(manager, "mgr", "password-mgr")
    headers = {"X-CSRFToken": csrf_token(manager, "/?stay=1")}
    case_id = manager.get("/api/v1/halls/district/cases").get_json()["cases"][0]["id"]
    for action, body in (("callback", {"reached": True, "note": "已回访"}), ("verify", {"note": "核实"}), ("rectify", {"note": "整改"})):
        assert manager.post(f"/api/v1/halls/district/cases/{case_id}/{action}", json=body, headers=headers).status_code == 200
    revealed = manager.post(f"/api/v1/halls/district/cases/{case_id}/contact", headers=headers).get_json()
    assert revealed["phone"] == PHONE  # the handling manager's own answer: the one place it is whole
    wait_for(lambda: any(b"reviewed" in m for m in heard), what="the review box to hear of the rating")

    public = {f"GET {path}": visitor.get(path).get_data(as_text=True) for path in (
        "/api/v1/halls/district/queue", "/api/v1/halls/district/windows", "/api/v1/halls/district/windows/1",
        f"/api/v1/halls/district/tickets/{ticket['id']}", f"/api/v1/halls/district/tickets/{ticket['id']}/rating",
        f"/t/district/{ticket['id']}", "/kiosk/district", "/displays/hall.html", "/api/v1/halls/district")}
    with hall.db.read() as session:
        stored = session.exec(select(ReviewCase)).one()
        sealed, masked = stored.contact_sealed, stored.contact_masked
        audit = json.dumps([a.detail for a in session.exec(select(AuditEntry))], ensure_ascii=False)
    surfaces = {
        **public,
        "rating answer": rated.get_data(as_text=True),
        "server log": caplog.text,
        "MQTT sent": b"\n".join(sent).decode("utf-8", "replace"),
        "MQTT heard by devices": b"\n".join(heard).decode("utf-8", "replace"),
        "hall and window rooms": json.dumps(screen_room.get_received(), ensure_ascii=False, default=str),
        "ticket room": json.dumps(tracker_room.get_received(), ensure_ascii=False, default=str),
        "audit": audit,
        "stored contact": sealed,
    }
    leaks = {name: [s for s in SECRETS if s in text] for name, text in surfaces.items()}
    assert {name: found for name, found in leaks.items() if found} == {}
    assert sent and heard and "138****8000" in caplog.text  # each surface was really looked at
    assert masked == "138****8000" and "138****8000" in rated.get_data(as_text=True)

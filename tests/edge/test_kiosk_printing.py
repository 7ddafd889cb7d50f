"""Kiosk tickets printed by the dispenser beside the kiosk: the kiosk issues over
HTTP, the server sends a print command over a real embedded broker, the
dispenser agent (MockFactory pins, escpos Dummy) prints it once and says so."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from hallq_protocol import topics
from support.edge import PAPER_PIN, server_tickets
from support.waiting import wait_for
from support.web import client_sign_in, csrf_token

PASSWORD = "kiosk-password"


@pytest.fixture
def wired(app, mqtt):
    """The app with the MQTT side started for it, as start_for does."""
    app.extensions["hallq"].mqtt = mqtt
    return app


@pytest.fixture
def kiosk(app, hall, office):
    """A browser signed in with the kiosk's device account; kiosk(body) posts a tap."""
    office.add_user(name="kiosk", role="device", password=PASSWORD, hall="district")
    client = app.test_client()
    client_sign_in(client, "kiosk", PASSWORD)
    csrf = csrf_token(client, "/kiosk/district")

    def tap(body: dict):
        return client.post("/kiosk/district/tickets", json=body, headers={"X-CSRFToken": csrf})

    tap.client = client
    return tap


@pytest.fixture
def results(dispenser):
    """Every result the dispenser sends back, in order (the real link still sends them)."""
    sent = []
    real = dispenser.link.send_result

    def spy(command_id, status, message=None):
        sent.append((command_id, status))
        real(command_id, status, message)

    dispenser.link.send_result = spy
    return sent


def test_a_kiosk_ticket_is_printed_by_its_dispenser(wired, kiosk, dispenser, hall):
    r = kiosk({"service": "MI", "printer": "disp-1"})

    assert r.status_code == 201
    body = r.get_json()
    assert body["print"] == "printed" and body["printed"] is True
    printed, offline = dispenser.printed.get(timeout=20)
    assert printed["number"] == body["number"] and not offline
    out = dispenser.printer.printer.output
    assert body["number"].encode() in out and "医疗保障".encode("gb18030") in out  # the dispenser's own layout
    assert server_tickets(hall) == [body["number"]]


def test_a_command_delivered_twice_prints_once(mqtt, dispenser, results, hall, manager):
    ticket = hall.issue_ticket("district", service="SI", actor=manager)
    command = {"id": "k-twice", "action": "print_ticket", "at": datetime.now(timezone.utc).isoformat(),
               "ticket": {k: ticket[k] for k in ("id", "number", "service", "service_name", "ahead", "estimated_wait_minutes", "issued_at")}}
    payload = json.dumps(command).encode()
    for _ in range(2):  # QoS 1 may deliver twice
        mqtt.link.publish(topics.command("district", "disp-1"), payload)

    wait_for(lambda: len(results) == 2, what="both deliveries answered")
    assert results == [("k-twice", "printed"), ("k-twice", "printed")]
    assert dispenser.printed.qsize() == 1
    assert dispenser.printer.printer.output.count(ticket["number"].encode()) == 1


def test_a_stale_command_is_not_printed(dispenser, results):
    old = datetime.now(timezone.utc) - timedelta(seconds=dispenser.config["request_max_age"] + 30)
    command = {"id": "k-old", "action": "print_ticket", "at": old.isoformat(),
               "ticket": {"id": "x", "number": "A099", "service": "SI"}}

    assert dispenser.command(command) == "stale"
    assert results == [("k-old", "stale")]
    assert dispenser.printer.printer.output == b"" and dispenser.printed.empty()


def test_an_offline_printer_is_said_at_once_and_the_ticket_stands(wired, kiosk, dispenser, mqtt, hall):
    dispenser.link.stop()  # says offline (retained), as its Last Will would
    wait_for(lambda: not mqtt.devices.get("district", "disp-1")["online"], what="the server to hear it is offline")

    r = kiosk({"service": "SI", "printer": "disp-1"})

    assert r.status_code == 201
    body = r.get_json()
    assert body["print"] == "offline" and body["printed"] is False
    assert server_tickets(hall) == [body["number"]]  # issued once, shown on screen


def test_out_of_paper_is_told_to_the_kiosk(wired, kiosk, dispenser, mock_factory, mqtt, hall):
    mock_factory.pin(PAPER_PIN).drive_high()

    body = kiosk({"service": "SI", "printer": "disp-1"}).get_json()

    assert body["print"] == "paper_out"
    assert dispenser.printed.empty() and server_tickets(hall) == [body["number"]]
    wait_for(lambda: mqtt.devices.get("district", "disp-1")["paper"] == "out", what="the paper state")


def test_a_printer_must_be_an_active_dispenser_of_the_hall(app, kiosk, hall, office):
    from hallq.core.devices.service import DeviceService

    registry = DeviceService(hall)
    registry.add(hall="district", name="caller-5", role="caller", window=5)
    registry.add(hall="district", name="disp-9", role="dispenser")
    registry.revoke(hall="district", name="disp-9")

    page = kiosk.client.get("/kiosk/district?printer=caller-5")
    assert page.status_code == 422 and "不是取号机" in page.get_data(as_text=True)
    assert kiosk.client.get("/kiosk/district?printer=disp-9").status_code == 404
    for printer in ("nope", "disp-9", "caller-5", 5):
        r = kiosk({"service": "SI", "printer": printer})
        assert r.status_code in (404, 422) and r.get_json()["error"]["code"] in ("unknown_printer", "not_a_dispenser")
    assert server_tickets(hall) == []  # a refused printer issues nothing

    # Without MQTT running, a good printer is accepted and the kiosk says the ticket was not printed.
    registry.add(hall="district", name="disp-1", role="dispenser")
    office.add_user(name="mgr", role="manager", password=PASSWORD, hall="district")
    admin = app.test_client()
    client_sign_in(admin, "mgr", PASSWORD)
    assert 'href="/kiosk/district?printer=disp-1"' in admin.get("/admin/district").get_data(as_text=True)
    assert kiosk.client.get("/kiosk/district?printer=disp-1").status_code == 200
    assert kiosk({"service": "SI", "printer": "disp-1"}).get_json()["print"] == "unavailable"

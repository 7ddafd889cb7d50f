"""The request bridge on its own (no broker): validation, the device checks,
one effect per request id, the age limit, structured errors."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import select

from hallq.core.devices.service import DeviceService
from hallq.core.models import Ticket
from hallq.mqtt.bridge import RequestBridge
from support.mqtt import open_window

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)


def make_bridge(hall) -> RequestBridge:
    devices = DeviceService(hall)
    devices.add(hall="district", name="disp-1", role="dispenser")
    devices.add(hall="district", name="caller-5", role="caller", window=5)
    devices.add(hall="district", name="review-5", role="review", window=5)
    return RequestBridge(hall, devices, send=lambda t, p: None, max_age=30, now=lambda: NOW)


@pytest.fixture
def bridge(hall):
    return make_bridge(hall)


@pytest.fixture
def any_bridge(any_hall):
    """The bridge on SQLite and on PostgreSQL."""
    return make_bridge(any_hall)


def ask(bridge, device: str, **body) -> dict:
    body.setdefault("at", NOW.isoformat())
    return bridge.handle("district", device, json.dumps(body).encode())


def tickets(hall) -> list[str]:
    with hall.db.read() as session:
        return [t.number for t in session.exec(select(Ticket).order_by(Ticket.id)).all()]


def test_issue_ticket_answers_with_the_ticket(bridge, hall):
    answer = ask(bridge, "disp-1", id="r1", action="issue_ticket", service="SI")

    assert answer["status"] == "ok" and answer["id"] == "r1"
    assert answer["data"]["number"] == "A001"
    assert answer["data"]["ahead"] == 0
    assert tickets(hall) == ["A001"]


def test_a_repeated_request_has_one_effect_and_the_same_answer(any_bridge):
    bridge, hall = any_bridge, any_bridge.halls
    first = ask(bridge, "disp-1", id="same", action="issue_ticket", service="SI")
    second = ask(bridge, "disp-1", id="same", action="issue_ticket", service="SI")

    assert second == first
    assert tickets(hall) == ["A001"]
    assert ask(bridge, "disp-1", id="other", action="issue_ticket", service="SI")["data"]["number"] == "A002"


def test_a_repeated_refusal_is_the_same_refusal(bridge, hall, office):
    first = ask(bridge, "caller-5", id="c1", action="call_next")
    open_window(hall, 5)
    hall.issue_ticket("district", service="SI", actor=office.actor_for_login("staff5", "staff-password"))

    assert first["error"]["code"] == "no_staff"
    assert ask(bridge, "caller-5", id="c1", action="call_next") == first


def test_an_old_request_is_refused_not_replayed(bridge, hall):
    old = (NOW - timedelta(seconds=31)).isoformat()

    answer = ask(bridge, "disp-1", id="late", action="issue_ticket", service="SI", at=old)

    assert answer["error"]["code"] == "request_expired"
    assert tickets(hall) == []


def test_a_request_dated_far_in_the_future_is_refused(bridge, hall):
    answer = ask(bridge, "disp-1", id="f", action="issue_ticket", service="SI", at=(NOW + timedelta(hours=1)).isoformat())

    assert answer["error"]["code"] == "clock_skew"


BAD_PAYLOADS = [
    (b"not json", "bad_json"),
    (b"[1, 2]", "bad_json"),
    (b"\xff\xfe", "bad_json"),
    (b'{"id": "x", "action": "launch", "at": 1}', "bad_request"),
    (b'{"id": "x", "action": "issue_ticket", "at": 1}', "bad_request"),
    (b'{"id": "x", "action": "review", "ticket": "A001", "score": 9, "at": 1}', "bad_request"),
    (b'{"id": "x", "action": "issue_ticket", "service": "SI", "at": "2026-11-23T02:00:00"}', "bad_request"),
    # No field for anything personal: an extra one is refused, not stored.
    (b'{"id": "x", "action": "issue_ticket", "service": "SI", "at": 1, "name": "\\u5f20\\u4e09"}', "bad_request"),
    (b"{" + b'"pad": "' + b"x" * 5000 + b'"}', "too_large"),
    (b"[" * 2000 + b"]" * 2000, "bad_json"),  # under 4 KiB, nested past Python's recursion limit
    (b'{"id": "x", "at": 1, "a": ' + b"[" * 1900 + b"]" * 1900 + b"}", "bad_json"),
    # Numbers are numbers: neither a string nor a boolean becomes one.
    (b'{"id": "x", "action": "reserve_block", "service": "SI", "count": "5", "at": 1}', "bad_request"),
    (b'{"id": "x", "action": "issue_ticket", "service": "SI", "window": true, "at": 1}', "bad_request"),
    (b'{"id": "x", "action": "review", "ticket": "A001", "score": "5", "at": 1}', "bad_request"),
    (b'{"id": "x", "action": "review", "ticket": "A001", "score": true, "at": 1}', "bad_request"),
]


def test_bad_payloads_get_a_structured_error(bridge, hall):
    for payload, code in BAD_PAYLOADS:
        answer = bridge.handle("district", "disp-1", payload)

        assert answer["status"] == "error", payload
        assert answer["error"]["code"] == code, payload
        assert answer["error"]["message"]
    assert tickets(hall) == []


def test_a_request_id_used_again_for_another_request_is_refused(any_bridge):
    bridge, hall = any_bridge, any_bridge.halls
    first = ask(bridge, "disp-1", id="r7", action="issue_ticket", service="SI")

    other = ask(bridge, "disp-1", id="r7", action="issue_ticket", service="MI")
    assert other["status"] == "error" and other["error"]["code"] == "id_reused" and other["id"] == "r7"
    assert tickets(hall) == ["A001"]  # nothing issued for it
    assert ask(bridge, "disp-1", id="r7", action="issue_ticket", service="SI") == first  # a true repeat still gets its answer


def test_an_unknown_device_is_refused(bridge):
    assert ask(bridge, "ghost", id="g", action="issue_ticket", service="SI")["error"]["code"] == "unknown_device"


def test_a_device_may_only_do_what_its_role_allows(bridge, hall):
    assert ask(bridge, "disp-1", id="a", action="call_next")["error"]["code"] == "action_not_allowed"
    assert ask(bridge, "caller-5", id="b", action="issue_ticket", service="SI")["error"]["code"] == "action_not_allowed"
    assert tickets(hall) == []


def test_a_request_for_another_window_is_refused(bridge, hall, office):
    open_window(hall, 5)
    hall.issue_ticket("district", service="SI", actor=office.actor_for_login("staff5", "staff-password"))

    assert ask(bridge, "caller-5", id="w", action="call_next", window=6)["error"]["code"] == "wrong_window"
    assert hall.window("district", 5)["state"] == "idle"


def test_caller_acts_for_the_staff_signed_in_at_its_window(bridge, hall, office):
    open_window(hall, 5)
    hall.issue_ticket("district", service="SI", actor=office.actor_for_login("staff5", "staff-password"))

    answer = ask(bridge, "caller-5", id="c", action="call_next")

    assert answer["status"] == "ok"
    assert answer["data"]["ticket"]["number"] == "A001"
    assert answer["data"]["staff"]["name"] == "王芳"
    assert ask(bridge, "caller-5", id="p", action="pause")["error"]["code"] == "window_busy"


def test_status_report_records_paper(bridge):
    answer = ask(bridge, "disp-1", id="s", action="status", paper="out")

    assert answer["data"]["paper"] == "out"
    assert DeviceService(bridge.halls).get("district", "disp-1")["paper"] == "out"


def test_a_revoked_device_is_refused(bridge, hall):
    DeviceService(hall).revoke(hall="district", name="disp-1")

    assert ask(bridge, "disp-1", id="r", action="issue_ticket", service="SI")["error"]["code"] == "unknown_device"


def test_reserved_blocks_never_overlap_online_numbers(any_bridge):
    bridge, hall = any_bridge, any_bridge.halls
    ask(bridge, "disp-1", id="t1", action="issue_ticket", service="SI")
    block = ask(bridge, "disp-1", id="b1", action="reserve_block", service="SI", count=20)["data"]
    after = ask(bridge, "disp-1", id="t2", action="issue_ticket", service="SI")["data"]["number"]

    assert (block["prefix"], block["first"], block["last"]) == ("A", 2, 21)
    assert after == "A022"
    handed = ask(bridge, "disp-1", id="o1", action="offline_ticket", service="SI", number="A002", issued_at=NOW.isoformat())
    assert handed["status"] == "ok"
    outside = ask(bridge, "disp-1", id="o2", action="offline_ticket", service="SI", number="A022", issued_at=NOW.isoformat())
    assert outside["error"]["code"] == "not_in_block"
    assert sorted(tickets(hall)) == ["A001", "A002", "A022"]


def test_the_request_log_forgets_old_requests(bridge, hall):
    ask(bridge, "disp-1", id="old", action="status", paper="ok")

    assert bridge.forget_old_requests(timedelta(days=1)) == 0  # by the bridge's clock, not the machine's
    bridge.now = lambda: NOW + timedelta(days=1, seconds=1)
    assert bridge.forget_old_requests(timedelta(days=1)) == 1
    assert ask(bridge, "disp-1", id="old", action="status", paper="ok")["error"]["code"] == "request_expired"


def test_two_servers_hearing_the_same_request_act_once(any_bridge, db_url):
    """Several server processes behind one broker all receive every request, at
    the same moment: each request has one effect, and whoever answers gives the
    same answer (the others stay silent)."""
    import threading

    from hallq.core.service import HallService
    from hallq.db import Database

    hall = any_bridge.halls
    other_db = Database.from_url(db_url)  # the other process's own connections
    other_halls = HallService(other_db, clock_=hall.clock)
    other = RequestBridge(other_halls, DeviceService(other_halls), send=lambda t, p: None, max_age=30, now=lambda: NOW)
    answers: dict[str, list] = {}
    try:
        for n in range(12):
            rid = f"both-{n}"
            body = json.dumps({"id": rid, "action": "issue_ticket", "service": "SI", "at": NOW.isoformat()}).encode()
            start = threading.Barrier(2)

            def hear(bridge, rid=rid, body=body, start=start):
                start.wait()
                answers.setdefault(rid, []).append(bridge.handle("district", "disp-1", body))

            threads = [threading.Thread(target=hear, args=(b,)) for b in (any_bridge, other)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
    finally:
        other_db.dispose()

    assert tickets(hall) == [f"A{n:03d}" for n in range(1, 13)]  # one each, none twice
    for rid, got in answers.items():
        said = [a for a in got if a is not None]
        assert said, rid
        assert all(a == said[0] and a["status"] == "ok" for a in said), got


def test_a_request_is_all_or_nothing(bridge, hall, monkeypatch):
    """Effect, log and answer are one transaction: a server failing as it logs the
    answer has issued nothing, and the device's retry issues once."""
    from hallq.core.devices import registry

    real = registry.log_request

    def fail_once(*args, **kwargs):
        monkeypatch.setattr(registry, "log_request", real)
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(registry, "log_request", fail_once)
    failed = ask(bridge, "disp-1", id="once", action="issue_ticket", service="SI")

    assert failed["error"]["code"] == "internal"
    assert tickets(hall) == []
    retried = ask(bridge, "disp-1", id="once", action="issue_ticket", service="SI")
    assert retried["status"] == "ok" and retried["data"]["number"] == "A001"
    assert ask(bridge, "disp-1", id="once", action="issue_ticket", service="SI") == retried
    assert tickets(hall) == ["A001"]


def test_a_request_an_earlier_server_left_unanswered_is_in_doubt(bridge, hall):
    """An earlier HallQ logged a request first and stored its answer later; a
    request it logged and never answered may or may not have had its effect."""
    from hallq.core.devices import registry

    with hall.db.write() as session:
        registry.log_request(session, registry.sender(session, hall="district", name="disp-1"), "half", "issue_ticket", NOW)

    assert ask(bridge, "disp-1", id="half", action="issue_ticket", service="SI")["error"]["code"] == "in_doubt"
    assert tickets(hall) == []

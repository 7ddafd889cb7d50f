"""Time passing in the hall: the closing-time sweep, the next day, and a restart
of the server on the same database."""

from __future__ import annotations


import pytest

from hallq.core.errors import Forbidden, Refused
from hallq.core.service import HallService
from hallq.core.txn import Actor
from hallq.db import Database
from support.halls import local, make_service, person

def act(hall, number: int, action: str, actor: Actor, **params) -> dict:
    return hall.window_action("district", number, action, actor=actor, **params)


def waiting(hall) -> dict[str, int]:
    return {q["service"]: q["waiting"] for q in hall.queue("district") if q["waiting"]}


def ticket(hall, ref) -> tuple:
    t = hall.ticket("district", ref)
    return t["status"], t["close_reason"]


@pytest.fixture
def busy_hall(hall):
    """At 10:00: A001 serving at window 1, A002 called to window 2, A003-A004
    waiting, window 3 open and idle, window 4 paused."""
    kiosk = person(hall, "kiosk1", "device")
    staff = {n: person(hall, f"s{n}") for n in (1, 2, 3, 4)}
    for _ in range(4):
        hall.issue_ticket("district", service="SI", actor=kiosk)
    for n in staff:
        act(hall, n, "open", staff[n])
    act(hall, 1, "call-next", staff[1])
    act(hall, 1, "start", staff[1])
    act(hall, 2, "call-next", staff[2])
    act(hall, 4, "pause", staff[4], reason="午休")
    hall.staff, hall.kiosk = staff, kiosk
    return hall


def test_nothing_expires_before_closing(busy_hall, clock):
    for moment in (local(0, 12, 30), local(0, 17, 29)):
        clock.set(moment)
        busy_hall.sweep("district")
        assert [ticket(busy_hall, f"A00{i}")[0] for i in (1, 2, 3, 4)] == ["serving", "called", "waiting", "waiting"]
        assert waiting(busy_hall) == {"SI": 2}


def test_closing_time_expires_waiting_and_called_tickets(busy_hall, clock, publisher):
    clock.set(local(0, 17, 30))
    start = len(publisher.events)
    busy_hall.sweep("district")
    assert ticket(busy_hall, "A001") == ("serving", None)  # the visitor being served is finished normally
    for ref in ("A002", "A003", "A004"):
        assert ticket(busy_hall, ref) == ("expired", "hall_closed")
    assert busy_hall.ticket("district", "A003")["finished_at"] == "2026-11-23T09:30:00Z"
    assert waiting(busy_hall) == {}
    states = {w["number"]: (w["state"], w["staff"] and w["staff"]["name"]) for w in busy_hall.windows("district")[:4]}
    assert states == {1: ("serving", "s1"), 2: ("idle", "s2"), 3: ("idle", "s3"), 4: ("paused", "s4")}
    events = [(e.kind, e.window, e.data.get("reason")) for e in publisher.events[start:]]
    assert sorted(events, key=str) == sorted(
        [("ticket.expired", None, "hall_closed")] * 3 + [("window.idle", 2, "hall_closed")], key=str
    )
    start = len(publisher.events)
    busy_hall.sweep("district")
    assert publisher.events[start:] == []  # a second sweep finds nothing to do

    clock.set(local(0, 17, 45))
    assert act(busy_hall, 1, "complete", busy_hall.staff[1])["state"] == "idle"
    assert ticket(busy_hall, "A001") == ("done", None)
    with pytest.raises(Refused) as err:
        busy_hall.issue_ticket("district", service="SI", actor=busy_hall.kiosk)
    assert err.value.code == "service_closed"


def test_the_next_day_closes_windows_and_expires_leftovers(busy_hall, clock):
    clock.set(local(0, 17, 30))
    busy_hall.sweep("district")
    before = {w["number"]: w["version"] for w in busy_hall.windows("district")}
    served = busy_hall.ticket("district", "A001")["id"]
    clock.set(local(1, 8, 30))
    # No timer: the first thing anyone does on the new day closes the old one.
    new = busy_hall.issue_ticket("district", service="SI", actor=busy_hall.kiosk)
    assert (new["number"], new["business_date"], new["ahead"]) == ("A001", "2026-11-24", 0)
    assert ticket(busy_hall, served) == ("expired", "day_end")  # still at window 1 when the day ended
    windows = {w["number"]: w for w in busy_hall.windows("district")}
    for n in (1, 2, 3, 4):
        assert (windows[n]["state"], windows[n]["staff"], windows[n]["ticket"]) == ("closed", None, None)
        assert windows[n]["version"] == before[n] + 1
    assert all(windows[n]["version"] == before[n] for n in range(5, 21))  # closed all along
    with pytest.raises(Forbidden):
        act(busy_hall, 1, "call-next", busy_hall.staff[1])  # yesterday's sign-in is gone
    assert waiting(busy_hall) == {"SI": 1}


def test_leftovers_of_a_day_without_a_closing_sweep_expire_as_day_end(busy_hall, clock, publisher):
    ids = {t: busy_hall.ticket("district", t)["id"] for t in ("A001", "A002", "A003")}
    clock.set(local(1, 9))
    start = len(publisher.events)
    busy_hall.sweep("district")
    for ref in ids.values():
        t = busy_hall.ticket("district", ref)
        assert (t["status"], t["close_reason"], t["business_date"]) == ("expired", "day_end", "2026-11-23")
    closed = sorted(e.window for e in publisher.events[start:] if e.kind == "window.closed")
    assert closed == [1, 2, 3, 4]
    assert all(e.data["reason"] == "day_end" for e in publisher.events[start:] if e.kind == "window.closed")
    assert waiting(busy_hall) == {}


def test_a_restarted_server_resumes_exactly(db_url, clock):

    first = make_service(db_url, clock)
    kiosk = person(first, "kiosk1", "device")
    staff = {n: person(first, f"s{n}") for n in (1, 2, 3, 4, 5)}
    for service in ("SI", "SI", "SI", "MI", "HR", "SI"):
        first.issue_ticket("district", service=service, actor=kiosk)
        clock.advance(minutes=1)
    for n in (1, 2, 3, 4):
        act(first, n, "open", staff[n])
    act(first, 1, "call-next", staff[1])
    act(first, 1, "start", staff[1])
    act(first, 2, "call-next", staff[2])
    act(first, 2, "recall", staff[2])
    act(first, 3, "call-next", staff[3])
    act(first, 3, "skip", staff[3])  # A003 back in the queue after 10 minutes
    act(first, 4, "pause", staff[4], reason="培训")

    def snapshot(service: HallService) -> tuple:
        tickets = [service.ticket("district", n) for n in ("A001", "A002", "A003", "A004", "B001", "C001")]
        return service.windows("district"), service.queue("district"), tickets

    before = snapshot(first)
    url = first.db.engine.url.render_as_string(hide_password=False)
    first.db.dispose()

    second = HallService(Database.from_url(url), clock_=clock)
    try:
        assert snapshot(second) == before
        assert second.issue_ticket("district", service="SI", actor=kiosk)["number"] == "A005"
        assert act(second, 1, "complete", staff[1])["ticket"] is None
        assert act(second, 2, "start", staff[2])["ticket"]["recalls"] == 1
        assert act(second, 3, "call-next", staff[3])["ticket"]["number"] == "A004"  # A003 still in grace
        assert act(second, 4, "resume", staff[4])["state"] == "idle"
        clock.advance(minutes=10)
        act(second, 3, "complete", staff[3])
        assert act(second, 3, "call-next", staff[3])["ticket"]["number"] == "A003"
    finally:
        second.db.dispose()

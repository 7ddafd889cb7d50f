"""Issuing tickets through HallService: numbers, classes, refusals, people ahead."""

from __future__ import annotations

import copy

import pytest
from sqlmodel import func, select

from hallq.core.errors import Conflict, Forbidden, HallError, Invalid, NotFound, Refused
from hallq.core.hallfile import HallFile
from hallq.core.models import Ticket
from support.halls import EXAMPLE, MONDAY_10AM, local, person, variant

def ticket_count(hall) -> int:
    with hall.db.read() as session:
        return session.exec(select(func.count()).select_from(Ticket)).one()


@pytest.fixture
def device(hall):
    return person(hall, "kiosk1", "device")


def issue(hall, device, service="SI", **kw) -> dict:
    return hall.issue_ticket("district", service=service, actor=device, **kw)


# -- numbering -----------------------------------------------------------


def test_numbers_count_up_per_prefix(hall, device):
    numbers = [issue(hall, device, s)["number"] for s in ("SI", "SI", "MI", "SI", "MI", "HR")]
    assert numbers == ["A001", "A002", "B001", "A003", "B002", "C001"]


def test_numbers_restart_on_the_next_business_day(hall, device, clock):
    assert [issue(hall, device)["number"] for _ in range(3)] == ["A001", "A002", "A003"]
    clock.set(local(1, 9))
    first = issue(hall, device)
    assert first["number"] == "A001"
    assert first["business_date"] == "2026-11-24"
    assert hall.ticket("district", "A001")["id"] == first["id"]  # a number means today's ticket


def test_business_day_is_the_halls_local_date_not_utc(any_hall, clock):
    # Open round the clock, so 07:00 Tuesday in Shanghai (still Monday in UTC) issues tickets.
    any_hall.load_hall(variant("allday", hours=["00:00-24:00"], stop_issuing_minutes_before_close=0))
    kiosk = person(any_hall, "kiosk9", "device", "allday")
    assert any_hall.issue_ticket("allday", service="SI", actor=kiosk)["number"] == "A001"
    clock.set(local(1, 7))
    assert clock.now().date() == MONDAY_10AM.date()  # same UTC date...
    t = any_hall.issue_ticket("allday", service="SI", actor=kiosk)
    assert (t["number"], t["business_date"]) == ("A001", "2026-11-24")  # ...new local day


# -- priority classes ----------------------------------------------------


def test_priority_classes_are_kept_and_validated(hall, device):
    assert issue(hall, device)["priority"] == "normal"
    assert issue(hall, device, priority="green")["priority"] == "green"
    assert issue(hall, device, priority="appointment")["priority"] == "appointment"
    with pytest.raises(Invalid) as err:
        issue(hall, device, priority="vip")
    assert err.value.code == "bad_priority"
    assert issue(hall, device)["number"] == "A004"  # the refusal took no number


def test_unknown_service_is_not_found(hall, device):
    for bad in ("XX", "", None, 7):
        with pytest.raises(NotFound) as err:
            hall.issue_ticket("district", service=bad, actor=device)
        assert err.value.code == "unknown_service"
    with pytest.raises(NotFound):
        hall.issue_ticket("nowhere", service="SI", actor=device)


# -- refusals ------------------------------------------------------------


def test_quota_reached_is_refused_without_consuming_a_number(any_hall, publisher):
    kiosk = person(any_hall, "kiosk1", "device")
    spec = copy.deepcopy(EXAMPLE)
    next(s for s in spec["services"] if s["code"] == "CX")["daily_quota"] = 2
    any_hall.load_hall(HallFile.model_validate(spec))
    assert [issue(any_hall, kiosk, "CX")["number"] for _ in range(2)] == ["H001", "H002"]
    before = len(publisher.events)
    for _ in range(3):
        with pytest.raises(Refused) as err:
            issue(any_hall, kiosk, "CX")
        assert err.value.code == "quota_reached"
        assert err.value.as_dict()["details"] == {"quota": 2}
    assert len(publisher.events) == before  # nothing was announced for a refusal
    assert ticket_count(any_hall) == 2
    # Raising the quota shows the refused requests left the counter alone.
    next(s for s in spec["services"] if s["code"] == "CX")["daily_quota"] = 3
    any_hall.load_hall(HallFile.model_validate(spec))
    assert issue(any_hall, kiosk, "CX")["number"] == "H003"


@pytest.mark.parametrize(
    "hh, mm",
    [(8, 0), (8, 29), (11, 45), (11, 59), (12, 30), (13, 29), (17, 15), (17, 29), (17, 30), (20, 0)],
)
def test_outside_hours_is_refused_as_service_closed(hall, device, clock, hh, mm):
    # Hours 08:30-12:00 and 13:30-17:30; issuing stops 15 minutes before each close.
    clock.set(local(0, hh, mm))
    with pytest.raises(Refused) as err:
        issue(hall, device)
    assert err.value.code == "service_closed"
    assert "08:30-12:00" in err.value.message
    assert ticket_count(hall) == 0


@pytest.mark.parametrize("hh, mm", [(8, 30), (11, 44), (13, 30), (17, 14)])
def test_inside_hours_issues(hall, device, clock, hh, mm):
    clock.set(local(0, hh, mm))
    assert issue(hall, device)["number"] == "A001"


def test_refused_outside_hours_takes_no_number(hall, device, clock):
    clock.set(local(0, 8, 0))
    with pytest.raises(Refused):
        issue(hall, device)
    clock.set(local(0, 8, 30))
    assert issue(hall, device)["number"] == "A001"


def test_a_service_with_its_own_hours(hall, device, clock):
    clock.set(local(0, 8, 45))  # the hall is open; real-estate starts at 09:00
    assert issue(hall, device, "SI")["number"] == "A001"
    with pytest.raises(Refused) as err:
        issue(hall, device, "RE")
    assert err.value.code == "service_closed"
    assert err.value.details["hours"] == ["09:00-12:00", "13:30-17:00"]
    clock.set(local(0, 16, 50))  # RE closes at 17:00, so it stops issuing at 16:45
    with pytest.raises(Refused):
        issue(hall, device, "RE")
    clock.set(local(0, 9, 0))
    assert issue(hall, device, "RE")["number"] == "G001"


def test_issuing_needs_an_account_of_this_hall(hall, device):
    with pytest.raises(Forbidden) as err:
        hall.issue_ticket("district", service="SI", actor=None)
    assert err.value.code == "login_required"
    hall.load_hall(variant("north"))
    north_kiosk = person(hall, "kiosk-north", "device", "north")
    with pytest.raises(Forbidden) as err:
        hall.issue_ticket("district", service="SI", actor=north_kiosk)
    assert err.value.code == "other_hall"
    assert hall.issue_ticket("north", service="SI", actor=north_kiosk)["number"] == "A001"
    assert issue(hall, device)["number"] == "A001"  # each hall counts on its own


# -- people ahead and the estimate ---------------------------------------


def test_people_ahead_and_estimate(hall, device, clock):
    tickets = []
    for _ in range(3):
        tickets.append(issue(hall, device))
        clock.advance(minutes=1)
    assert [t["ahead"] for t in tickets] == [0, 1, 2]
    # No window open yet: every window configured for SI stands in. Windows 1-3
    # give SI 2/3 of their time, 4, 5, 8 and 9 give 1/3, window 12 gives 1/4.
    planned = 3 * 2 / 3 + 4 / 3 + 1 / 4
    assert tickets[2]["estimated_wait_minutes"] == round(2 * 12 / planned, 1)
    assert issue(hall, device, "MI")["ahead"] == 0  # another service's queue

    s1 = person(hall, "s1")
    hall.window_action("district", 1, "open", actor=s1)
    third = hall.ticket("district", tickets[2]["id"])
    assert third["ahead"] == 2
    assert third["estimated_wait_minutes"] == round(2 * 12 / (2 / 3), 1)  # only window 1 works

    hall.window_action("district", 1, "call-next", actor=s1)
    third = hall.ticket("district", tickets[2]["id"])
    assert third["ahead"] == 1
    called = hall.ticket("district", tickets[0]["id"])
    assert (called["status"], called["ahead"], called["window"]["number"]) == ("called", None, 1)


def test_priority_changes_who_is_ahead(hall, device, clock):
    normal = [issue(hall, device)]
    clock.advance(minutes=5)
    normal.append(issue(hall, device))
    clock.advance(minutes=5)
    # Green starts 20 minutes ahead, appointment 10: both go before tickets issued 10 minutes ago.
    green = issue(hall, device, priority="green")
    assert green["ahead"] == 0
    appointment = issue(hall, device, priority="appointment")
    assert appointment["ahead"] == 2  # the first normal ticket (a tie, issued earlier) and green
    assert hall.ticket("district", normal[0]["id"])["ahead"] == 1  # green jumped ahead
    assert hall.ticket("district", normal[1]["id"])["ahead"] == 3


def test_estimate_promised_at_issue_is_stored(hall, device):
    for _ in range(4):
        t = issue(hall, device)
    with hall.db.read() as session:
        promised = session.exec(select(Ticket.estimated_wait_minutes).where(Ticket.public_id == t["id"])).one()
    assert promised == t["estimated_wait_minutes"] > 0


def test_estimate_at_issue_follows_every_window_change(hall, device, clock):
    """The hall's configuration is kept between writes that only move tickets;
    whatever a window does, the next ticket's estimate is what a fresh look gives."""
    s1, s4 = person(hall, "s1"), person(hall, "s4")
    steps = [
        lambda: None,
        lambda: hall.window_action("district", 1, "open", actor=s1),
        lambda: hall.window_action("district", 1, "call-next", actor=s1),
        lambda: hall.window_action("district", 4, "open", actor=s4),
        lambda: hall.window_action("district", 1, "complete", actor=s1),
        lambda: hall.window_action("district", 4, "pause", actor=s4, reason="break"),
        lambda: hall.window_action("district", 1, "call-next", actor=s1),
        lambda: hall.window_action("district", 1, "skip", actor=s1),
        lambda: hall.window_action("district", 4, "resume", actor=s4),
        lambda: hall.window_action("district", 4, "close", actor=s4),
    ]
    estimates = []
    for step in steps:
        step()
        clock.advance(minutes=1)
        t = issue(hall, device)
        assert t["estimated_wait_minutes"] == hall.ticket("district", t["id"])["estimated_wait_minutes"]
        estimates.append(t["estimated_wait_minutes"])
    assert len(set(estimates)) > 3  # the windows' changes did move the estimate


def test_issue_publishes_one_event_after_commit(hall, device, publisher):
    before = len(publisher.events)
    t = issue(hall, device, "MI", priority="green")
    new = publisher.events[before:]
    assert [e.kind for e in new] == ["ticket.issued"]
    assert new[0].data == {"ticket": t["id"], "number": "B001", "service": "MI", "priority": "green"}


# -- finding and moving tickets -------------------------------------------


def test_find_ticket_by_public_id_or_number(hall, device):
    t = issue(hall, device)
    assert hall.ticket("district", t["id"])["number"] == "A001"
    assert hall.ticket("district", "a001")["id"] == t["id"]
    for ref in ("A002", "nope", ""):
        with pytest.raises(NotFound) as err:
            hall.ticket("district", ref)
        assert err.value.code == "unknown_ticket"


def test_manager_moves_a_waiting_ticket(hall, device, clock):
    manager = person(hall, "boss", "manager")
    t = issue(hall, device, "SI")
    clock.advance(minutes=3)
    later = issue(hall, device, "MI")
    s1 = person(hall, "s1")
    with pytest.raises(Forbidden) as err:
        hall.move_ticket("district", t["id"], service="MI", actor=s1)
    assert err.value.code == "manager_only"
    moved = hall.move_ticket("district", t["id"], service="MI", actor=manager)
    assert (moved["number"], moved["service"], moved["ahead"]) == ("A001", "MI", 0)
    assert hall.ticket("district", later["id"])["ahead"] == 1  # it kept its place by issue time
    with pytest.raises(Conflict) as err:
        hall.move_ticket("district", t["id"], service="MI", actor=manager)
    assert err.value.code == "same_service"
    with pytest.raises(NotFound):
        hall.move_ticket("district", t["id"], service="ZZ", actor=manager)
    hall.window_action("district", 4, "open", actor=manager)
    hall.window_action("district", 4, "call-next", actor=manager)
    with pytest.raises(Conflict) as err:
        hall.move_ticket("district", t["id"], service="SI", actor=manager)
    assert err.value.code == "ticket_not_waiting"


def test_every_refusal_is_a_hall_error_with_a_code(hall, device):
    for kwargs in ({"service": "XX"}, {"service": "SI", "priority": 3}, {"service": ["SI"]}):
        with pytest.raises(HallError) as err:
            hall.issue_ticket("district", actor=device, **kwargs)
        body = err.value.as_dict()
        assert body["code"] and body["message"]


def test_an_account_with_a_name_too_long_is_refused_not_cut(hall, office):
    with pytest.raises(Invalid) as refused:
        office.add_user(name="longname", role="staff", password="staff-password", hall="district", display_name="王" * 5000)

    assert refused.value.code == "too_long"
    assert office.actor_for_login("longname", "staff-password") is None

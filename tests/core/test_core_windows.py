"""What happens at a window, through HallService: calling, recalls, skips,
transfers, pauses, who may act where, pooled calling and service changes."""

from __future__ import annotations


import pytest
from sqlmodel import select

from hallq.core.errors import Conflict, Forbidden, Invalid, NotFound
from hallq.core.models import AuditEntry
from support.halls import MONDAY_10AM, Desk, person, variant

@pytest.fixture
def kiosk(hall):
    return person(hall, "kiosk1", "device")


def issue(hall, kiosk, service="SI", priority=None, slug="district") -> dict:
    return hall.issue_ticket(slug, service=service, priority=priority, actor=kiosk)


def status(hall, ref, slug="district") -> str:
    return hall.ticket(slug, ref)["status"]


def conflict(code: str, fn, *args, **kw) -> Conflict:
    with pytest.raises(Conflict) as err:
        fn(*args, **kw)
    assert err.value.code == code, err.value.as_dict()
    return err.value


# -- open and close ------------------------------------------------------


def test_open_signs_the_staff_member_in(hall):
    s1, s2 = person(hall, "s1"), person(hall, "s2")
    view = Desk(hall, 1, s1)("open")
    assert (view["state"], view["staff"]["name"], view["ticket"]) == ("idle", "s1", None)
    assert Desk(hall, 1, s1)("open")["version"] == view["version"]  # opening twice changes nothing
    conflict("window_taken", Desk(hall, 1, s2), "open")
    assert Desk(hall, 2, s2)("open")["state"] == "idle"
    closed = Desk(hall, 1, s1)("close")
    assert (closed["state"], closed["staff"]) == ("closed", None)
    with pytest.raises(Forbidden):
        Desk(hall, 1, s1)("close")  # signed out with the close
    conflict("already_at_window", Desk(hall, 1, s2), "open")  # one window per staff member
    Desk(hall, 2, s2)("close")
    assert Desk(hall, 1, s2)("open")["staff"]["name"] == "s2"  # free for anyone again


def test_versions_grow_with_every_change(hall, kiosk):
    desk = Desk(hall, 1, person(hall, "s1"))
    issue(hall, kiosk)
    versions = [hall.window("district", 1)["version"]]
    for action, params in [
        ("open", {}), ("call-next", {}), ("recall", {}), ("start", {}),
        ("complete", {}), ("pause", {"reason": "午休"}), ("resume", {}), ("close", {}),
    ]:
        versions.append(desk(action, **params)["version"])
    assert versions == list(range(versions[0], versions[0] + 9))


# -- state errors ----------------------------------------------------------


def test_a_closed_window_does_nothing_but_open(hall, kiosk, boss):
    issue(hall, kiosk)
    desk = Desk(hall, 3, boss)
    for action, params in [
        ("call-next", {}), ("call", {"ticket": "A001"}), ("recall", {}), ("skip", {}), ("start", {}),
        ("complete", {}), ("transfer", {"service": "MI"}), ("pause", {"reason": "x"}), ("resume", {}),
    ]:
        err = conflict("window_closed", desk, action, **params)
        assert err.details == {"state": "closed"}
    assert status(hall, "A001") == "waiting"


def test_state_errors_at_an_open_window(hall, kiosk):
    desk = Desk(hall, 1, person(hall, "s1"))
    desk("open")
    conflict("queue_empty", desk, "call-next")
    for action in ("recall", "skip", "start", "complete", "resume"):
        conflict("window_idle", desk, action)
    issue(hall, kiosk)
    issue(hall, kiosk)
    desk("call-next")
    conflict("window_busy", desk, "call-next")
    conflict("window_busy", desk, "call", ticket="A002")
    conflict("window_busy", desk, "pause", reason="break")
    conflict("window_busy", desk, "close")
    desk("complete")
    desk("pause", reason="break")
    conflict("window_paused", desk, "call-next")
    conflict("window_paused", desk, "pause", reason="again")
    assert status(hall, "A002") == "waiting"


def test_unknown_window_and_action(hall, boss):
    with pytest.raises(NotFound) as err:
        Desk(hall, 99, boss)("open")
    assert err.value.code == "unknown_window"
    with pytest.raises(NotFound) as err:
        Desk(hall, 1, boss)("dance")
    assert err.value.code == "unknown_action"


def test_a_window_with_no_services_says_so(hall, kiosk, boss):
    hall.set_window_services("district", 1, {}, actor=boss)
    issue(hall, kiosk)
    desk = Desk(hall, 1, boss)
    desk("open")
    conflict("no_services", desk, "call-next")


# -- pause ---------------------------------------------------------------


def test_pause_needs_a_reason(hall):
    desk = Desk(hall, 1, person(hall, "s1"))
    desk("open")
    for reason in (None, "", "   "):
        with pytest.raises(Invalid) as err:
            desk("pause", reason=reason)
        assert err.value.code == "reason_required"
    with pytest.raises(Invalid) as err:
        desk("pause", reason="长" * 101)
    assert err.value.code == "reason_too_long"
    assert hall.window("district", 1)["state"] == "idle"
    view = desk("pause", reason=" 系统故障 ")
    assert (view["state"], view["pause_reason"]) == ("paused", "系统故障")
    view = desk("resume")
    assert (view["state"], view["pause_reason"]) == ("idle", None)
    with hall.db.read() as session:
        rows = session.exec(select(AuditEntry.action, AuditEntry.actor, AuditEntry.detail).order_by(AuditEntry.id)).all()
    assert ("window.pause", "s1", {"reason": "系统故障"}) in [tuple(r) for r in rows]


# -- calling ---------------------------------------------------------------


def test_call_next_goes_by_issue_time_within_a_class(hall, kiosk, clock):
    for _ in range(3):
        issue(hall, kiosk)
        clock.advance(minutes=1)
    desk = Desk(hall, 1, person(hall, "s1"))
    desk("open")
    order = []
    for _ in range(3):
        view = desk("call-next")
        assert view["state"] == "serving"
        assert view["last_ticket"]["window"] == {"number": 1, "name": "1号综合窗口"}
        order.append(view["ticket"]["number"])
        desk("complete")
    assert order == ["A001", "A002", "A003"]
    assert [status(hall, n) for n in order] == ["done"] * 3
    conflict("queue_empty", desk, "call-next")


def test_call_a_particular_ticket(hall, kiosk, boss):
    for service in ("SI", "SI", "HR"):
        issue(hall, kiosk, service)
    desk = Desk(hall, 1, person(hall, "s1"))
    desk("open")
    with pytest.raises(Invalid) as err:
        desk("call")
    assert err.value.code == "missing_field"
    conflict("service_not_served", desk, "call", ticket="C001")  # window 1 serves SI and MI
    view = desk("call", ticket="a002")
    assert (view["ticket"]["number"], view["ticket"]["status"]) == ("A002", "called")
    desk("complete")
    conflict("ticket_not_waiting", desk, "call", ticket="A002")
    with pytest.raises(NotFound):
        desk("call", ticket="A999")
    # A manager may call any ticket to any window.
    Desk(hall, 2, boss)("open")
    assert Desk(hall, 2, boss)("call", ticket="C001")["ticket"]["number"] == "C001"
    Desk(hall, 3, boss)("open")
    conflict("ticket_not_waiting", Desk(hall, 3, boss), "call", ticket="C001")
    assert desk.called() == "A001"


def test_start_then_complete(hall, kiosk, clock):
    t = issue(hall, kiosk)
    desk = Desk(hall, 1, person(hall, "s1"))
    desk("open")
    desk("call-next")
    clock.advance(minutes=2)
    view = desk("start")
    assert (view["state"], view["ticket"]["status"]) == ("serving", "serving")
    conflict("bad_ticket_state", desk, "start")
    conflict("bad_ticket_state", desk, "recall")
    conflict("bad_ticket_state", desk, "skip")
    clock.advance(minutes=12)
    view = desk("complete")
    assert (view["state"], view["ticket"]) == ("idle", None)
    done = hall.ticket("district", t["id"])
    assert done["status"] == "done"
    assert (done["called_at"], done["started_at"], done["finished_at"]) == (
        "2026-11-23T02:00:00Z", "2026-11-23T02:02:00Z", "2026-11-23T02:14:00Z",
    )


def test_completing_a_called_ticket_starts_and_ends_it(hall, kiosk):
    t = issue(hall, kiosk)
    desk = Desk(hall, 1, person(hall, "s1"))
    desk("open")
    desk("call-next")
    desk("complete")
    done = hall.ticket("district", t["id"])
    assert done["status"] == "done" and done["started_at"] == done["finished_at"]


# -- recall and skip -------------------------------------------------------


def test_recall_limit_then_no_show(hall, kiosk):
    hall.load_hall(variant("strict", requeue_skipped=False, recall_limit=3))
    kiosk2 = person(hall, "kiosk2", "device", "strict")
    issue(hall, kiosk2, slug="strict")
    issue(hall, kiosk2, slug="strict")
    desk = Desk(hall, 1, person(hall, "s9", slug="strict"), slug="strict")
    desk("open")
    desk("call-next")
    for n in (1, 2, 3):
        view = desk("recall")
        assert (view["state"], view["ticket"]["recalls"]) == ("serving", n)
    view = desk("recall")  # the fourth
    assert (view["state"], view["ticket"]) == ("idle", None)
    gone = hall.ticket("strict", "A001")
    assert (gone["status"], gone["close_reason"]) == ("no_show", "recall_limit")
    assert desk.called() == "A002"


def test_recall_limit_on_a_hall_that_requeues_gives_one_more_chance(hall, kiosk, clock):
    issue(hall, kiosk)
    desk = Desk(hall, 1, person(hall, "s1"))
    desk("open")
    desk("call-next")
    for _ in range(4):
        view = desk("recall")
    assert view["state"] == "idle"
    back = hall.ticket("district", "A001")
    assert (back["status"], back["recalls"]) == ("waiting", 0)


def test_skip_requeues_once_after_the_grace_period(hall, kiosk, clock):
    issue(hall, kiosk)  # A001 10:00
    clock.advance(minutes=1)
    issue(hall, kiosk)  # A002 10:01
    desk = Desk(hall, 1, person(hall, "s1"))
    desk("open")
    assert desk.called() == "A001"
    view = desk("skip")
    assert (view["state"], view["last_ticket"]["status"]) == ("idle", "waiting")
    clock.advance(minutes=1)
    issue(hall, kiosk)  # A003 10:02
    assert desk.called() == "A002"  # A001 sits out its grace period
    desk("complete")
    clock.advance(minutes=8)  # 10:10, grace ends 10:11
    assert desk.called() == "A003"
    desk("complete")
    conflict("queue_empty", desk, "call-next")
    clock.advance(minutes=1)
    issue(hall, kiosk)  # A004 10:11
    assert desk.called() == "A001"  # back at its place by issue time, before A004
    view = desk("skip")  # a second skip is final
    assert view["last_ticket"]["status"] == "no_show"
    assert hall.ticket("district", "A001")["close_reason"] == "skipped"
    clock.advance(minutes=30)
    assert desk.called() == "A004"
    desk("complete")
    conflict("queue_empty", desk, "call-next")


def test_skip_on_a_hall_without_requeue_is_final(hall, kiosk):
    hall.load_hall(variant("strict", requeue_skipped=False))
    kiosk2 = person(hall, "kiosk2", "device", "strict")
    issue(hall, kiosk2, slug="strict")
    desk = Desk(hall, 1, person(hall, "s9", slug="strict"), slug="strict")
    desk("open")
    desk("call-next")
    desk("skip")
    assert hall.ticket("strict", "A001")["status"] == "no_show"


# -- transfer ------------------------------------------------------------


def test_transfer_keeps_the_place_by_original_issue_time(hall, kiosk, clock):
    issue(hall, kiosk, "SI")  # A001 10:00
    clock.advance(minutes=5)
    hr = issue(hall, kiosk, "HR")  # C001 10:05
    assert hr["ahead"] == 0
    desk = Desk(hall, 1, person(hall, "s1"))
    desk("open")
    desk("call-next")
    clock.advance(minutes=5)
    desk("start")
    conflict("same_service", desk, "transfer", service="SI")
    with pytest.raises(NotFound):
        desk("transfer", service="ZZ")
    with pytest.raises(Invalid):
        desk("transfer")
    view = desk("transfer", service="HR")
    assert (view["state"], view["ticket"]) == ("idle", None)
    moved = view["last_ticket"]
    assert (moved["number"], moved["service"], moved["status"], moved["window"]) == ("A001", "HR", "waiting", None)
    assert moved["ahead"] == 0 and moved["started_at"] is None
    assert hall.ticket("district", hr["id"])["ahead"] == 1
    hr_desk = Desk(hall, 7, person(hall, "s7"))  # window 7 serves HR and CX
    hr_desk("open")
    assert hr_desk.called() == "A001"
    hr_desk("complete")
    assert hr_desk.called() == "C001"


# -- who may act where --------------------------------------------------------


def test_staff_act_only_at_their_own_window(hall, kiosk):
    s1, s2 = person(hall, "s1"), person(hall, "s2")
    issue(hall, kiosk)
    with pytest.raises(Forbidden) as err:
        Desk(hall, 1, s1)("call-next")  # not signed in there yet
    assert err.value.code == "not_your_window"
    Desk(hall, 1, s1)("open")
    for action in ("call-next", "pause", "close"):
        with pytest.raises(Forbidden) as err:
            Desk(hall, 1, s2)(action, reason="x")
        assert err.value.code == "not_your_window"
    assert hall.window("district", 1)["state"] == "idle"


def test_managers_act_at_any_window_of_their_hall_only(hall, kiosk, boss):
    issue(hall, kiosk)
    s1 = person(hall, "s1")
    Desk(hall, 1, s1)("open")
    assert Desk(hall, 1, boss)("call-next")["ticket"]["number"] == "A001"  # a manager helps out
    assert Desk(hall, 1, s1)("complete")["state"] == "idle"  # and the window stays s1's
    hall.load_hall(variant("north"))
    other = person(hall, "north-boss", "manager", "north")
    for action in ("open", "call-next", "close"):
        with pytest.raises(Forbidden) as err:
            Desk(hall, 1, other)(action)
        assert err.value.code == "other_hall"
    with pytest.raises(Forbidden) as err:
        hall.set_window_services("district", 1, {"SI": 1}, actor=other)
    assert err.value.code == "manager_only"
    admin = person(hall, "root", "admin", slug=None)
    assert Desk(hall, 1, admin)("pause", reason="检修")["state"] == "paused"


def test_devices_do_not_work_windows(hall, kiosk):
    with pytest.raises(Forbidden) as err:
        Desk(hall, 1, kiosk)("open")
    assert err.value.code == "staff_only"


# -- pooled calling ------------------------------------------------------------


def test_green_channel_goes_before_normal(hall, kiosk, clock):
    issue(hall, kiosk)  # A001 normal 10:00
    clock.advance(minutes=5)
    issue(hall, kiosk, priority="green")  # A002 10:05
    issue(hall, kiosk, priority="appointment")  # A003 10:05
    desk = Desk(hall, 1, person(hall, "s1"))
    desk("open")
    order = []
    for _ in range(3):
        order.append(desk.called())
        desk("complete")
    # Scores at 10:05: green 20, appointment 10, normal 5 (then 5.x as minutes pass).
    assert order == ["A002", "A003", "A001"]


@pytest.mark.parametrize("longer, first", [(19, "A002"), (20, "A001"), (35, "A001")])
def test_a_long_wait_beats_a_fresh_green_ticket(hall, kiosk, clock, longer, first):
    issue(hall, kiosk)  # A001 normal
    clock.advance(minutes=longer)
    issue(hall, kiosk, priority="green")  # A002
    desk = Desk(hall, 1, person(hall, "s1"))
    desk("open")
    assert desk.called() == first


def test_window_weight_prefers_its_main_service(hall, kiosk, clock):
    issue(hall, kiosk, "SI")  # A001 10:00
    clock.advance(minutes=4)
    issue(hall, kiosk, "MI")  # B001 10:04
    clock.advance(minutes=6)
    # At 10:10, window 4 (MI 2, SI 1) scores MI 2×6=12 against SI 1×10=10,
    # window 1 (SI 2, MI 1) scores SI 2×10=20 against MI 1×6=6.
    mi_desk, si_desk = Desk(hall, 4, person(hall, "s4")), Desk(hall, 1, person(hall, "s1"))
    mi_desk("open")
    si_desk("open")
    assert mi_desk.called() == "B001"
    assert si_desk.called() == "A001"


def test_same_score_goes_to_the_earlier_ticket(hall, kiosk, clock):
    issue(hall, kiosk, "SI")  # A001 10:00
    issue(hall, kiosk, "MI")  # B001 10:00
    clock.advance(minutes=10)
    desk = Desk(hall, 12, person(hall, "s12"))  # weight 1 for both
    desk("open")
    assert desk.called() == "A001"


# -- changing a window's services --------------------------------------------------


def test_set_window_services_replaces_them_and_is_audited(hall, kiosk, boss):
    issue(hall, kiosk, "SI")
    issue(hall, kiosk, "HR")
    s1 = person(hall, "s1")
    with pytest.raises(Forbidden) as err:
        hall.set_window_services("district", 1, {"HR": 1}, actor=s1)
    assert err.value.code == "manager_only"
    before = hall.window("district", 1)
    view = hall.set_window_services("district", 1, {"HR": 2, "CX": 1.5}, actor=boss)
    assert view["services"] == [{"code": "CX", "weight": 1.5}, {"code": "HR", "weight": 2.0}]
    assert view["version"] == before["version"] + 1
    with hall.db.read() as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "window.services")).one()
        assert (entry.actor, entry.actor_role, entry.target) == ("boss", "manager", "window 1")
        assert entry.detail == {"before": {"SI": 2.0, "MI": 1.0}, "after": {"HR": 2.0, "CX": 1.5}}
        assert entry.at == MONDAY_10AM
    desk = Desk(hall, 1, s1)
    desk("open")
    assert desk.called() == "C001"  # A001 (SI) is no longer this window's
    desk("complete")
    conflict("queue_empty", desk, "call-next")
    # Keeping one service updates its weight and drops the rest.
    assert hall.set_window_services("district", 1, {"HR": 1}, actor=boss)["services"] == [{"code": "HR", "weight": 1.0}]


@pytest.mark.parametrize(
    "services, error, code",
    [
        ({"ZZ": 1}, NotFound, "unknown_service"),
        ({"SI": 0}, Invalid, "bad_weight"),
        ({"SI": -1}, Invalid, "bad_weight"),
        ({"SI": 101}, Invalid, "bad_weight"),
        ({"SI": True}, Invalid, "bad_weight"),
        ({"SI": "2"}, Invalid, "bad_weight"),
        (["SI"], Invalid, "bad_services"),
    ],
)
def test_set_window_services_refuses_bad_input(hall, boss, services, error, code):
    before = hall.window("district", 1)
    with pytest.raises(error) as err:
        hall.set_window_services("district", 1, services, actor=boss)
    assert err.value.code == code
    assert hall.window("district", 1) == before


# -- events ------------------------------------------------------------------


def test_window_events_carry_the_new_window_state(hall, kiosk, publisher):
    issue(hall, kiosk)
    desk = Desk(hall, 5, person(hall, "s5"))
    desk("open")
    start = len(publisher.events)
    view = desk("call-next")
    events = publisher.events[start:]
    assert [e.kind for e in events] == ["ticket.called"]
    called = events[0]
    assert (called.window, called.data["number"], called.data["how"]) == (5, "A001", "next")
    assert called.data["window_state"] == {k: v for k, v in view.items() if k != "last_ticket"}
    start = len(publisher.events)
    with pytest.raises(Conflict):
        desk("call-next")
    assert publisher.events[start:] == []  # a refused action announces nothing

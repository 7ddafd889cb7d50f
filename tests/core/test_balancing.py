"""The live balancer on the example district hall: it proposes the right move
for a constructed backlog with a plain reason, refuses windows whose staff is
not qualified, and in each mode does what the mode says (auto within its
limits, every change audited)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from hallq.core.balancer.balancer import Balancer, BalancerSettings, Change, Suggestion
from hallq.core.errors import Conflict, Invalid
from hallq.core.models import AuditEntry
from support.halls import person

QUALIFIED = {
    4: {"MI": 1.0, "SI": 0.9},
    5: {"MI": 1.0, "SI": 0.9},
    7: {"HR": 1.0, "CX": 0.9, "MI": 0.9},
    8: {"HR": 1.0, "SI": 0.9},  # not qualified for MI
}


@pytest.fixture
def backlog(hall, clock, boss):
    """MI has 14 tickets (oldest 23 min); windows 4 and 5 serve MI and are busy;
    7 and 9 are idle and qualified for MI (9's staff member, li, by name); 8 is idle and is not."""
    for _ in range(14):
        hall.issue_ticket("district", service="MI", actor=boss)
    clock.advance(minutes=23)
    li = person(hall, "li", "staff")
    for number in (4, 5, 7, 8):
        hall.window_action("district", number, "open", actor=boss)
    hall.window_action("district", 9, "open", actor=li)
    for number in (4, 5):
        hall.window_action("district", number, "call-next", actor=boss)
    return hall


def balancer(mode: str = "suggest", **settings) -> Balancer:
    return Balancer(
        BalancerSettings.parse(
            {"mode": mode, "window_qualifications": QUALIFIED, "qualifications": {"li": {"HF": 1.0, "SI": 0.9, "MI": 0.9}}, **settings}
        )
    )


def waiting(hall, service: str) -> int:
    return next(q["waiting"] for q in hall.queue("district") if q["service"] == service)


def audit_lines(hall) -> list[tuple]:
    with hall.db.read() as session:
        rows = session.exec(select(AuditEntry).where(AuditEntry.action == "window.services").order_by(AuditEntry.id)).all()
        return [(a.actor, a.actor_role, a.target, a.detail) for a in rows]


def services_of(hall, number: int) -> dict:
    return {s["code"]: s["weight"] for s in hall.window("district", number)["services"]}


def test_it_suggests_the_idle_qualified_windows_with_a_plain_reason(backlog):
    found = balancer().suggestions(backlog, "district")
    assert len(found) == 1
    help_mi = found[0]
    assert help_mi.kind == "help" and help_mi.service == "MI"
    assert [c.window for c in help_mi.changes] == [7, 9]
    assert help_mi.reason_en == "MI has 12 waiting, oldest 23 min; windows 7 and 9 are idle and qualified"
    assert help_mi.reason == "医疗保障（MI）有 12 人等候，最久 23 分钟；7、9 号窗口空闲且具备资格"
    # A helping window keeps its own services and gives MI the weight of its main one.
    assert help_mi.changes[0].after == {"HR": 2.0, "CX": 1.0, "MI": 2.0}
    assert help_mi.as_dict()["windows"] == [7, 9]


def test_applying_a_suggestion_goes_through_the_engine_and_is_audited(backlog, boss):
    b = balancer()
    suggestion = b.suggestions(backlog, "district")[0]
    b.apply(backlog, "district", suggestion.id, actor=boss)
    assert "MI" in services_of(backlog, 7) and "MI" in services_of(backlog, 9)
    audits = audit_lines(backlog)
    assert sorted(target for _, _, target, _ in audits) == ["window 7", "window 9"]
    assert all(actor == "boss" and "MI" in detail["after"] and "MI" not in detail["before"] for actor, _, _, detail in audits)
    # Applied once; the same id again is stale.
    with pytest.raises(Conflict) as err:
        b.apply(backlog, "district", suggestion.id, actor=boss)
    assert err.value.code == "stale_suggestion"


def test_it_refuses_a_window_whose_staff_is_not_qualified(backlog, boss):
    before = services_of(backlog, 8)
    forced = Suggestion("help", "MI", (Change(8, before, {**before, "MI": 1.0}),), "", "")
    with pytest.raises(Conflict) as err:
        balancer().apply(backlog, "district", forced, actor=boss)
    assert err.value.code == "not_qualified"
    assert services_of(backlog, 8) == before


def test_a_suggestion_is_refused_once_the_hall_has_changed(backlog, boss):
    b = balancer()
    suggestion = b.suggestions(backlog, "district")[0]
    backlog.set_window_services("district", 7, {"HR": 1.0}, actor=boss)
    with pytest.raises(Conflict) as err:
        b.apply(backlog, "district", suggestion, actor=boss)
    assert err.value.code == "stale_suggestion"
    assert "MI" not in services_of(backlog, 9)  # nothing of it was applied


def test_off_and_suggest_modes_change_nothing(backlog):
    assert balancer("off").tick(backlog, "district") == []
    assert len(balancer("suggest").tick(backlog, "district")) == 1
    assert "MI" not in services_of(backlog, 7) and "MI" not in services_of(backlog, 9)


def test_auto_mode_applies_within_its_limits_and_audits(backlog, clock):
    b = balancer("auto", max_changes_per_hour=1)
    applied = b.tick(backlog, "district")
    assert [c.window for s in applied for c in s.changes] == [7]
    assert "MI" in services_of(backlog, 7) and "MI" not in services_of(backlog, 9)
    assert b.tick(backlog, "district") == []  # the hour's one change is spent
    clock.advance(minutes=61)
    assert [c.window for s in b.tick(backlog, "district") for c in s.changes] == [9]
    assert [line[:3] for line in audit_lines(backlog)] == [("balancer", "manager", "window 7"), ("balancer", "manager", "window 9")]


def test_auto_mode_holds_a_window_it_just_changed(backlog, boss, clock):
    b = balancer("auto", min_hold_minutes=30)
    b.tick(backlog, "district")
    # The manager takes MI off window 7 again; the balancer leaves it alone for 30 minutes.
    backlog.set_window_services("district", 7, {"HR": 2.0, "CX": 1.0}, actor=boss)
    clock.advance(minutes=5)
    assert all(c.window != 7 for s in b.tick(backlog, "district") for c in s.changes)
    clock.advance(minutes=30)
    assert any(c.window == 7 for s in b.tick(backlog, "district") for c in s.changes)


def test_a_helper_goes_back_when_its_own_service_needs_it(backlog, boss, clock):
    b = balancer("auto")
    b.tick(backlog, "district")
    # MI's queue is served; then HR (window 7's own service) builds up.
    for number in (4, 5):
        backlog.window_action("district", number, "complete", actor=boss)
    while waiting(backlog, "MI"):
        for number in (4, 5, 7, 9):
            if waiting(backlog, "MI"):
                backlog.window_action("district", number, "call-next", actor=boss)
                backlog.window_action("district", number, "complete", actor=boss)
    for _ in range(8):
        backlog.issue_ticket("district", service="HR", actor=boss)
    clock.advance(minutes=20)
    found = b.suggestions(backlog, "district")
    release = [s for s in found if s.kind == "release"]
    assert release and release[0].service == "MI"
    assert [c.after for c in release[0].changes if c.window == 7] == [{"HR": 2.0, "CX": 1.0}]
    assert "MI is calm again" in release[0].reason_en and "回到本岗业务" in release[0].reason


def test_settings_and_modes_are_checked():
    with pytest.raises(Invalid) as err:
        BalancerSettings.parse({"mode": "sometimes"})
    assert err.value.code == "bad_balancer_settings"
    with pytest.raises(Invalid):
        BalancerSettings.parse({"trigger": -1})
    with pytest.raises(Invalid):
        BalancerSettings.parse({"colour": "blue"})
    b = Balancer()
    assert b.mode == "suggest"
    b.set_mode("auto")
    assert b.mode == "auto"
    with pytest.raises(Invalid):
        b.set_mode("always")

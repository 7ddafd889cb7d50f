"""HallQ's calling policy (core/policies.py): the documented formula, the
engine's contract, and the policy at work in the engine."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlmodel import select

from hallq.core.accounts import users as accounts
from hallq.core.calling import make_policy
from hallq.core.calling.accumulating import AccumulatingPriorityPolicy, policy_for_hall
from hallq.core.calling.policy import AgingPriorityPolicy, Candidate
from hallq.core.enums import Priority
from hallq.core.errors import Invalid
from hallq.core.models import Hall, User
from support.halls import MONDAY_10AM

NOW = MONDAY_10AM


def head(ticket_id: int, service: int, waited: float, priority=Priority.NORMAL, weight: float = 1.0) -> Candidate:
    return Candidate(ticket_id, service, priority, NOW - timedelta(minutes=waited), weight)


def test_make_policy_finds_the_accumulating_policy():
    assert isinstance(make_policy("accumulating"), AccumulatingPriorityPolicy)


def test_without_targets_or_proficiency_it_chooses_like_the_aging_policy():
    rng = random.Random(5)
    plain, aging = AccumulatingPriorityPolicy(), AgingPriorityPolicy()
    for _ in range(300):
        heads = [
            head(i, rng.randint(1, 4), rng.uniform(0, 60), rng.choice(list(Priority)), rng.choice([1.0, 2.0]))
            for i in range(rng.randint(1, 8))
        ]
        assert plain.choose(heads, NOW, 1) == aging.choose(heads, NOW, 1)


def test_priority_never_falls_as_a_ticket_waits():
    """The contract in core/policy.py, for every (service, class) with targets and detours."""
    policy = AccumulatingPriorityPolicy(
        targets={1: 10.0, 2: 30.0}, proficiency={(7, 2): 0.8}, handling={1: 10.0, 2: 20.0}
    )
    for service in (1, 2):
        for priority in Priority:
            scores = [policy.score(head(1, service, w, priority), NOW, 7) for w in range(0, 120, 3)]
            assert scores == sorted(scores)


def test_a_tighter_target_is_served_first_at_equal_wait():
    policy = AccumulatingPriorityPolicy(targets={1: 30.0, 2: 10.0})
    assert policy.choose([head(1, 1, 12), head(2, 2, 12)], NOW, 1).ticket_id == 2
    # ...but the relaxed service's ticket still moves once it has waited long enough.
    assert policy.choose([head(1, 1, 40), head(2, 2, 12)], NOW, 1).ticket_id == 1


def test_a_window_helps_outside_its_main_service_only_past_the_detour():
    # Window 7 is 20% slower on service 2 (20 min): detour = 3 × (1/0.8 − 1) × 20 = 15 min.
    policy = AccumulatingPriorityPolicy(proficiency={(7, 2): 0.8}, handling={1: 10.0, 2: 20.0}, patience=3)
    assert policy.choose([head(1, 1, 10), head(2, 2, 24)], NOW, 7).ticket_id == 1
    assert policy.choose([head(1, 1, 10), head(2, 2, 26)], NOW, 7).ticket_id == 2
    # Another window without the slowness takes the older ticket at once.
    assert policy.choose([head(1, 1, 10), head(2, 2, 11)], NOW, 8).ticket_id == 2
    # With nothing of its own waiting, the window helps straight away.
    assert policy.choose([head(2, 2, 0)], NOW, 7).ticket_id == 2


def test_green_channel_keeps_its_head_start():
    policy = AccumulatingPriorityPolicy(targets={1: 20.0, 2: 20.0})
    assert policy.choose([head(1, 1, 15), head(2, 2, 0, Priority.GREEN)], NOW, 1).ticket_id == 2
    assert policy.choose([head(1, 1, 25), head(2, 2, 0, Priority.GREEN)], NOW, 1).ticket_id == 1


def test_settings_in_the_halls_words_are_checked(hall):
    with hall.db.read() as session:
        row = session.exec(select(Hall).where(Hall.slug == "district")).one()
        policy = policy_for_hall(session, row, targets={"SI": 10, "RE": 40}, proficiency={7: {"CX": 0.8}})
        assert len(policy.targets) == 2 and len(policy.detours) == 1
        for bad in ({"targets": {"NOPE": 10}}, {"targets": {"SI": 0}}, {"proficiency": {99: {"SI": 0.9}}}, {"proficiency": {7: {"SI": 3}}}):
            with pytest.raises(Invalid):
                policy_for_hall(session, row, **bad)


def test_the_engine_calls_with_the_policy(hall, clock):
    with hall.db.write() as session:
        hall_row = session.exec(select(Hall).where(Hall.slug == "district")).one()
        user = User(name="boss", role="manager", hall_id=hall_row.id, created_at=NOW)
        session.add(user)
        session.flush()
        boss = accounts.actor_for(user)
    with hall.db.read() as session:
        hall_row = session.exec(select(Hall).where(Hall.slug == "district")).one()
        # Window 1 serves SI (main) and MI; make MI slow there: detour 3 × 0.25 × 10 = 7.5 min.
        hall.policy = policy_for_hall(session, hall_row, proficiency={1: {"MI": 0.8}})
    mi = hall.issue_ticket("district", service="MI", actor=boss)["number"]
    clock.advance(minutes=5)
    si = hall.issue_ticket("district", service="SI", actor=boss)["number"]
    hall.window_action("district", 1, "open", actor=boss)
    # MI waited 5 minutes longer, but window 1's weight (SI 2, MI 1) and the detour keep it on SI.
    assert hall.window_action("district", 1, "call-next", actor=boss)["ticket"]["number"] == si
    hall.window_action("district", 1, "complete", actor=boss)
    assert hall.window_action("district", 1, "call-next", actor=boss)["ticket"]["number"] == mi

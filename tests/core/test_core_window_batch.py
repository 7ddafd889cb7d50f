"""Window actions asked at the same moment run together (one group commit, one
transaction, each action in a savepoint of its own), with each outcome, a refusal
included, exactly as if run alone: no ticket called twice, nothing of a refused
action kept, each action audited as its own actor's."""

from __future__ import annotations

import sys
import threading

from sqlalchemy import event
from sqlmodel import Session, select

from hallq.core.errors import Conflict, Forbidden
from hallq.core.models import AuditEntry
from support.halls import person
from support.waiting import wait_for


class Gate:
    """A listener that holds the first ticket.called event's thread (the group commit's leader,
    after its commit) until opened: meanwhile the others queue up for one batch."""

    def __init__(self):
        self.opened = threading.Event()
        self.held = threading.Event()

    def publish(self, event) -> None:
        if event.kind == "ticket.called" and not self.held.is_set():
            self.held.set()
            self.opened.wait(30)


def queued_in_group_commit(threads: list[threading.Thread]) -> bool:
    """Every thread is waiting inside GroupCommit.submit for its batch."""
    frames = sys._current_frames()
    for t in threads:
        frame, names = frames.get(t.ident), []
        while frame is not None:
            names.append(frame.f_code.co_name)
            frame = frame.f_back
        if "submit" not in names or "wait" not in names:
            return False
    return True


def run_as_one_batch(hall, leader: tuple, others: list[tuple]) -> tuple[dict, int]:
    """Run the `leader` action, hold it after its commit until every one of `others` is queued
    behind it, then let them run (as one batch). Each action is (key, window, action, actor,
    params); returns each key's outcome (the window view, or the exception) and how many
    transactions the queued ones took."""
    gate = Gate()
    hall.publisher.add(gate)
    commits: list = []
    count = lambda session: commits.append(session)  # noqa: E731
    event.listen(Session, "after_commit", count)
    outcomes: dict[str, object] = {}

    def act(key: str, number: int, action: str, actor, params: dict) -> None:
        try:
            outcomes[key] = hall.window_action("district", number, action, actor=actor, **params)
        except Exception as exc:  # noqa: BLE001 - the outcome the caller would get
            outcomes[key] = exc

    try:
        first = threading.Thread(target=act, args=leader)
        first.start()
        wait_for(gate.held.is_set, what="the first call to be committed")
        queued = [threading.Thread(target=act, args=a) for a in others]
        for t in queued:
            t.start()
        wait_for(lambda: queued_in_group_commit(queued), what="the others to queue for one batch")
        before = len(commits)
        gate.opened.set()
        for t in [first, *queued]:
            t.join(30)
    finally:
        event.remove(Session, "after_commit", count)
        hall.publisher.remove(gate)
    return outcomes, len(set(commits[before:]))


def test_actions_at_many_windows_at_once_run_as_one_batch_as_if_one_after_another(hall):
    kiosk = person(hall, "kiosk1", "device")
    staff = {n: person(hall, f"staff{n}", "staff") for n in range(1, 7)}
    for n, actor in staff.items():
        hall.window_action("district", n, "open", actor=actor)
    issued = [hall.issue_ticket("district", service="SI", actor=kiosk)["number"] for _ in range(5)]

    outcomes, transactions = run_as_one_batch(hall, ("leader", 1, "call-next", staff[1], {}), [
        *[(f"call{n}", n, "call-next", staff[n], {}) for n in range(2, 6)],
        ("complete6", 6, "complete", staff[6], {}),  # nobody called there: refused
        ("pause6", 6, "pause", staff[6], {"reason": "午休"}),
        ("intruder", 2, "pause", staff[6], {"reason": "午休"}),  # not staff6's window: refused
    ])

    assert transactions == 1  # the seven queued actions: one session, one transaction (and its savepoints)
    called = [outcomes[k]["last_ticket"]["number"] for k in ("leader", "call2", "call3", "call4", "call5")]
    assert sorted(called) == issued  # each waiting ticket called once, at one window
    assert {n: hall.window("district", n)["ticket"]["number"] for n in range(1, 6)} == dict(zip(range(1, 6), called))
    assert isinstance(outcomes["complete6"], Conflict) and isinstance(outcomes["intruder"], Forbidden)
    assert outcomes["pause6"]["state"] == "paused" and hall.window("district", 2)["state"] == "serving"
    with hall.db.read() as session:
        pauses = [(e.actor, e.target) for e in session.exec(select(AuditEntry).where(AuditEntry.action == "window.pause"))]
    assert pauses == [("staff6", "window 6")]  # its own actor's; the refused one left nothing


def test_an_unforeseen_failure_in_a_batch_is_only_its_own(hall):
    kiosk = person(hall, "kiosk1", "device")
    staff = {n: person(hall, f"staff{n}", "staff") for n in range(1, 5)}
    for n, actor in staff.items():
        hall.window_action("district", n, "open", actor=actor)
    for _ in range(3):
        hall.issue_ticket("district", service="SI", actor=kiosk)

    outcomes, _ = run_as_one_batch(hall, ("leader", 1, "call-next", staff[1], {}), [
        ("call2", 2, "call-next", staff[2], {}),
        ("broken", 3, "pause", staff[3], {"reason": 42}),  # no caller in HallQ sends this: not a HallError
        ("call4", 4, "call-next", staff[4], {}),
    ])

    # The batch rolled back as a whole, then each ran on its own: only the broken one failed.
    assert isinstance(outcomes["broken"], AttributeError) and hall.window("district", 3)["state"] == "idle"
    assert sorted(outcomes[k]["last_ticket"]["number"] for k in ("leader", "call2", "call4")) == ["A001", "A002", "A003"]

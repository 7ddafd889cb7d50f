"""Tickets issued together (one group commit, one transaction) are numbered, counted and
refused exactly as if they had been issued one after another."""

from __future__ import annotations

import copy
import threading
from collections import defaultdict

from sqlalchemy import event
from sqlmodel import select

from hallq.core.clock import business_date
from hallq.core.errors import HallError
from hallq.core.hallfile import HallFile
from hallq.core.models import Hall
from hallq.core.tickets import issue as tickets
from hallq.core.txn import Txn
from support.halls import EXAMPLE, make_service, person

# service, priority: the example hall's services, a green-channel and an appointment
# visitor, a service with a quota of 2 asked three times, an unknown service, a bad class.
REQUESTS = [
    ("SI", None), ("SI", "green"), ("MI", None), ("CX", None), ("SI", None), ("XX", None),
    ("SI", "appointment"), ("CX", "green"), ("CX", None), ("SI", "vip"), ("MI", "green"), ("SI", None),
]


def hall_with_small_quota(slug: str) -> HallFile:
    data = copy.deepcopy(EXAMPLE)
    data["hall"].update(id=f"test-{slug}", slug=slug, hours=["00:00-24:00"], stop_issuing_minutes_before_close=0)
    for service in data["services"]:
        service["hours"] = []
        service["daily_quota"] = 2 if service["code"] == "CX" else None
    return HallFile.model_validate(data)


def summary(outcome) -> tuple:
    if isinstance(outcome, HallError):
        return ("refused", outcome.code)
    ticket, ahead, wait = outcome
    return (ticket.number, str(ticket.priority), ahead, wait)


def test_a_batch_issues_as_if_one_after_another(sqlite_url, clock):
    service = make_service(sqlite_url, clock)
    service.load_hall(hall_with_small_quota("one-by-one"))
    service.load_hall(hall_with_small_quota("together"))
    service.window_action("one-by-one", 1, "open", actor=person(service, "m1", "manager", "one-by-one"))
    service.window_action("together", 1, "open", actor=person(service, "m2", "manager", "together"))

    alone = []
    for code, priority in REQUESTS:
        with service.db.write() as session:
            hall = session.exec(select(Hall).where(Hall.slug == "one-by-one")).one()
            tx = Txn(session=session, hall=hall, now=clock.now())
            alone.append(summary(tickets.issue_tickets(tx, [(code, priority, "api")], boost=service.boost)[0]))
    with service.db.write() as session:
        hall = session.exec(select(Hall).where(Hall.slug == "together")).one()
        tx = Txn(session=session, hall=hall, now=clock.now())
        together = [summary(o) for o in tickets.issue_tickets(tx, [(c, p, "api") for c, p in REQUESTS], boost=service.boost)]

    assert together == alone
    # And what that is: numbers in order per prefix, refusals that take no number,
    # the green-channel visitor ahead of the normal ones issued before.
    assert [s[0] for s in together] == [
        "A001", "A002", "B001", "H001", "A003", "refused", "A004", "H002", "refused", "refused", "B002", "A005",
    ]
    assert together[5] == ("refused", "unknown_service")
    assert together[8] == ("refused", "quota_reached")
    assert together[9] == ("refused", "bad_priority")
    assert [s[2] for s in together if s[0].startswith("A")] == [0, 0, 2, 1, 4]
    # The refused CX ticket gave its number back: CX's counter stands at 2.
    with service.db.write() as session:
        hall = session.exec(select(Hall).where(Hall.slug == "together")).one()
        day = business_date(clock.now(), hall.timezone)
        assert tickets.next_number(Txn(session=session, hall=hall, now=clock.now()), "H", day, 0) == 2


def test_many_callers_at_once_share_transactions_and_lose_nothing(sqlite_url, clock):
    """24 threads issue 10 tickets each: fewer transactions than tickets, one numbering with no gap
    or repeat, refusals past the quota, and each answer's count of people ahead exact."""
    service = make_service(sqlite_url, clock)
    service.load_hall(hall_with_small_quota("rush"))
    kiosk = person(service, "kiosk1", "device", "rush")
    commits = []
    event.listen(service.db.engine, "commit", lambda conn: commits.append(1))
    answers, refusals = [], []
    lock = threading.Lock()
    start = threading.Barrier(24)

    def visitor(k: int) -> None:
        start.wait()
        for i in range(10):
            code = ("SI", "MI", "CX")[(k + i) % 3]
            priority = "green" if (k * 10 + i) % 7 == 0 else None
            try:
                answer = service.issue_ticket("rush", service=code, priority=priority, actor=kiosk)
            except HallError as exc:
                with lock:
                    refusals.append((code, exc.code))
            else:
                with lock:
                    answers.append(answer)

    threads = [threading.Thread(target=visitor, args=(k,)) for k in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    by_service = defaultdict(list)
    for a in answers:
        by_service[a["service"]].append(a)
    assert len(by_service["CX"]) == 2 and len(refusals) == 80 - 2
    assert set(refusals) == {("CX", "quota_reached")}
    for code, issued in by_service.items():
        numbers = sorted(int(a["number"][1:]) for a in issued)
        assert numbers == list(range(1, len(issued) + 1)), code  # no gap, no repeat
    assert len(answers) == 160 + 2
    assert len(commits) < len(answers) + len(refusals)  # tickets did share transactions
    # With the clock fixed every ticket has the same issue time, so a ticket's people
    # ahead are the earlier tickets of its service whose class is boosted as much or more.
    boost = service.boost
    for code, issued in by_service.items():
        issued.sort(key=lambda a: int(a["number"][1:]))
        for i, a in enumerate(issued):
            mine = boost.get(a["priority"], 0.0)
            assert a["ahead"] == sum(1 for b in issued[:i] if boost.get(b["priority"], 0.0) >= mine), a

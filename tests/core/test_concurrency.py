"""Twenty windows calling at once, each through its own HallService and
connection pool (as separate server processes would), while kiosks issue
tickets: every ticket is called exactly once, by one window, and none is lost."""

from __future__ import annotations

import copy
import os
import threading
import time
import tomllib
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlmodel import select

from hallq.core.accounts import users as accounts
from hallq.core.errors import Conflict
from hallq.core.hallfile import HallFile
from hallq.core.models import Hall, Ticket, User, Window
from hallq.core.service import HallService
from hallq.db import Database
from support.halls import MONDAY_10AM
from support.project import EXAMPLE_HALL

pytestmark = pytest.mark.slow

WINDOWS = 20
KIOSKS = 4
TICKETS = int(os.environ.get("HALLQ_CONCURRENCY_TICKETS", "1000"))  # per kiosk: TICKETS // KIOSKS
SERVICES = ["SI", "MI", "HR", "HF", "BL", "TX", "RE", "CX"]


def unlimited_hall() -> HallFile:
    """The example hall without daily quotas (they add up to fewer than TICKETS)."""
    data = copy.deepcopy(tomllib.loads(EXAMPLE_HALL.read_text(encoding="utf-8")))
    for service in data["services"]:
        service.pop("daily_quota", None)
    return HallFile.model_validate(data)


def make_accounts(db: Database, names: list[tuple[str, str]]) -> dict:
    """Accounts written straight to the database: argon2 costs ~0.5 s a password here."""
    with db.write() as session:
        hall_id = session.exec(select(Hall.id).where(Hall.slug == "district")).one()
        users = [User(name=n, role=r, hall_id=hall_id, created_at=MONDAY_10AM) for n, r in names]
        session.add_all(users)
        session.flush()
        return {u.name: accounts.actor_for(u) for u in users}


def test_twenty_windows_never_call_a_ticket_twice(db_url, clock):
    setup = HallService(Database.from_url(db_url), clock_=clock)
    setup.db.create_all()
    setup.load_hall(unlimited_hall())
    actors = make_accounts(
        setup.db, [(f"kiosk{k}", "device") for k in range(KIOSKS)] + [(f"s{n}", "staff") for n in range(1, WINDOWS + 1)]
    )
    for n in range(1, WINDOWS + 1):
        setup.window_action("district", n, "open", actor=actors[f"s{n}"])

    # One service (engine and pool) per thread, like one server process each.
    services = [HallService(Database.from_url(db_url), clock_=clock) for _ in range(KIOSKS + WINDOWS)]
    start = threading.Barrier(KIOSKS + WINDOWS)
    issuing_done = threading.Event()
    kiosks_left = [KIOSKS]
    lock = threading.Lock()
    retries = Counter()

    def kiosk(k: int) -> list[dict]:
        service, actor = services[k], actors[f"kiosk{k}"]
        issued = []
        start.wait()
        try:
            for i in range(TICKETS // KIOSKS):
                priority = "green" if i % 7 == 0 else "appointment" if i % 11 == 0 else "normal"
                t = service.issue_ticket("district", service=SERVICES[(i + k) % len(SERVICES)], priority=priority, actor=actor)
                issued.append(t)
        finally:
            with lock:
                kiosks_left[0] -= 1
                if kiosks_left[0] == 0:
                    issuing_done.set()
        return issued

    def window(n: int) -> list[str]:
        service, actor = services[KIOSKS + n - 1], actors[f"s{n}"]
        called = []
        start.wait()
        while True:
            # Read before asking: an empty queue after the last ticket was issued means done.
            finished_issuing = issuing_done.is_set()
            try:
                view = service.window_action("district", n, "call-next", actor=actor)
            except Conflict as exc:
                if exc.code == "queue_empty":
                    if finished_issuing:
                        return called
                    time.sleep(0.02)  # kiosks are still issuing (a pause, not a timing assertion)
                    continue
                if exc.code == "busy":  # other windows kept taking the head; a caller retries
                    retries[n] += 1
                    continue
                raise
            called.append(view["ticket"]["id"])
            done = service.window_action("district", n, "complete", actor=actor)
            assert (done["state"], done["ticket"]) == ("idle", None)

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=KIOSKS + WINDOWS) as pool:
        kiosk_jobs = [pool.submit(kiosk, k) for k in range(KIOSKS)]
        window_jobs = {n: pool.submit(window, n) for n in range(1, WINDOWS + 1)}
        issued = [t for job in kiosk_jobs for t in job.result()]
        calls = {n: job.result() for n, job in window_jobs.items()}
    elapsed = time.perf_counter() - began
    print(f"\n{db_url.split(':')[0]}: {TICKETS} tickets issued, called and completed by {WINDOWS} windows "
          f"in {elapsed:.1f} s; busy retries {sum(retries.values())}")

    # Numbers: unique, and per prefix exactly 1..count with no gaps.
    numbers = [t["number"] for t in issued]
    assert len(numbers) == len(set(numbers)) == TICKETS
    by_prefix = Counter(n[0] for n in numbers)
    assert sorted(numbers) == sorted(f"{p}{i:03d}" for p, count in by_prefix.items() for i in range(1, count + 1))

    # Calls: nobody called twice, nobody left out.
    all_calls = [tid for ids in calls.values() for tid in ids]
    assert len(all_calls) == len(set(all_calls)) == TICKETS
    assert set(all_calls) == {t["id"] for t in issued}
    called_by = {tid: n for n, ids in calls.items() for tid in ids}

    with setup.db.read() as session:
        windows = {w.id: w for w in session.exec(select(Window)).all()}
        rows = session.exec(select(Ticket.public_id, Ticket.status, Ticket.window_id)).all()
        assert len(rows) == TICKETS
        assert Counter(str(status) for _, status, _ in rows) == {"done": TICKETS}
        assert all(windows[wid].number == called_by[pid] for pid, _, wid in rows)
        assert all((w.state, w.current_ticket_id) == ("idle", None) for w in windows.values())
    assert all(q["waiting"] == 0 for q in setup.queue("district"))

    for service in services + [setup]:
        service.db.dispose()


def test_a_new_day_begun_by_twenty_windows_at_once(db_url, clock):
    """The first writes of a day all find the sweep due; whoever sweeps last must
    not undo what the others did after sweeping (PostgreSQL runs them in parallel)."""
    setup = HallService(Database.from_url(db_url), clock_=clock)
    setup.db.create_all()
    setup.load_hall(unlimited_hall())
    actors = make_accounts(setup.db, [(f"s{n}", "staff") for n in range(1, WINDOWS + 1)])
    for n in range(1, WINDOWS + 1):
        setup.window_action("district", n, "open", actor=actors[f"s{n}"])  # yesterday
    clock.advance(days=1, hours=-1)  # 09:00 the next morning

    services = [HallService(Database.from_url(db_url), clock_=clock) for _ in range(WINDOWS)]
    start = threading.Barrier(WINDOWS)

    def open_window(n: int) -> dict:
        start.wait()
        return services[n - 1].window_action("district", n, "open", actor=actors[f"s{n}"])

    with ThreadPoolExecutor(max_workers=WINDOWS) as pool:
        opened = dict(zip(range(1, WINDOWS + 1), pool.map(open_window, range(1, WINDOWS + 1))))
    now = {w["number"]: w for w in setup.windows("district")}
    for n, view in opened.items():
        assert view["state"] == "idle"
        assert (now[n]["state"], now[n]["staff"]["name"], now[n]["version"]) == ("idle", f"s{n}", view["version"]), n
    for service in services + [setup]:
        service.db.dispose()

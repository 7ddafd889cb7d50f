"""Cost of one call-next decision with 100 windows and 1,000 waiting tickets.

Prints p50/p99 of (a) the decision alone: reading the heads of the window's
queues and letting the calling policy choose, and (b) a whole call-next
transaction (decision, atomic claim, window update, commit) on SQLite.
The hall runs on a FixedClock (a Monday morning), so the figures do not depend
on the date or hour the script runs at.
Usage:  python benchmarks/call_next_decision.py [--policy aging] [--rounds 2000] [--smoke]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import datetime, timezone

from hallq.core.calling import make_policy
from hallq.core.clock import FixedClock
from hallq.core.hallfile import HallFile
from hallq.core.office import OfficeService
from hallq.core.service import HallService
from hallq.core.txn import Txn, find_hall
from hallq.core.windows import actions as windows
from hallq.db import Database

SERVICES = [f"S{i}" for i in range(10)]


def big_hall(n_windows: int) -> HallFile:
    rng = random.Random(1)
    return HallFile.model_validate(
        {
            "hall": {"id": "bench", "slug": "bench", "name": "基准大厅", "hours": ["00:00-24:00"]},
            "services": [
                {"code": code, "name": code, "prefix": chr(ord("A") + i), "handling_minutes": 10 + i} for i, code in enumerate(SERVICES)
            ],
            "windows": [
                {"number": n, "name": f"{n}号窗口", "services": {c: rng.choice([1.0, 2.0]) for c in rng.sample(SERVICES, 3)}}
                for n in range(1, n_windows + 1)
            ],
        }
    )


def quantiles(samples: list[float]) -> tuple[float, float]:
    q = statistics.quantiles(samples, n=100)
    return q[49] * 1000, q[98] * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--policy", default="aging")
    ap.add_argument("--windows", type=int, default=100)
    ap.add_argument("--waiting", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=2000)
    ap.add_argument("--smoke", action="store_true", help="a tiny run (10 windows, 100 waiting, 100 rounds): does it still work?")
    args = ap.parse_args()
    if args.smoke:
        args.windows, args.waiting, args.rounds = 10, 100, 100

    tmp = tempfile.mkdtemp(prefix="hallq-bench-")
    db = Database.from_url(f"sqlite:///{tmp}/bench.db")
    db.create_all()
    clock = FixedClock(datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc))  # a Monday, 09:00 in Shanghai
    policy = make_policy(args.policy)
    service = HallService(db, clock_=clock, policy=policy)
    service.load_hall(big_hall(args.windows))
    admin = OfficeService(service).add_user(name="bench-admin", role="admin", password="bench-password") and OfficeService(service).actor_for_login(
        "bench-admin", "bench-password"
    )
    rng = random.Random(2)
    for _ in range(args.waiting):
        clock.advance(seconds=3)
        service.issue_ticket("bench", service=rng.choice(SERVICES), priority=rng.choice(["normal"] * 8 + ["green", "appointment"]), actor=admin)
    for n in range(1, args.windows + 1):
        service.window_action("bench", n, "open", actor=admin)

    decision = []
    for i in range(args.rounds):
        number = 1 + i % args.windows
        with db.read() as session:
            tx = Txn(session=session, hall=find_hall(session, "bench"), now=clock.now(), actor=admin)
            window = windows.get_window(tx, number, lock=False)
            weights = tx.window_services(window)
            t0 = time.perf_counter()
            policy.choose(windows.queue_heads(tx, weights), tx.now, window.id)
            decision.append(time.perf_counter() - t0)

    whole = []
    for i in range(args.rounds):
        number = 1 + i % args.windows
        clock.advance(seconds=1)
        t0 = time.perf_counter()
        service.window_action("bench", number, "call-next", actor=admin)
        whole.append(time.perf_counter() - t0)
        service.window_action("bench", number, "complete", actor=admin)
        service.issue_ticket("bench", service=rng.choice(SERVICES), actor=admin)  # keep ~1,000 waiting

    waiting = sum(s["waiting"] for s in service.queue("bench"))
    d50, d99 = quantiles(decision)
    w50, w99 = quantiles(whole)
    print(f"policy                     {policy.name}")
    print(f"windows / waiting          {args.windows} / {waiting}")
    print(f"decision p50 / p99         {d50:.3f} ms / {d99:.3f} ms   (target p99 <= 1 ms)")
    print(f"call-next txn p50 / p99    {w50:.3f} ms / {w99:.3f} ms")


if __name__ == "__main__":
    main()

"""Cost of HallQ's decisions with 100 windows and 1,000 waiting tickets.

The seed city hall (100 windows, five service groups, two per window), with
HallQ's accumulating-priority policy configured with service-level targets
and proficiency (0.9 outside each window's main group, so detours count), on
a SQLite file. Prints p50/p99 of:
  (a) the call-next decision: read the heads of the window's queues, let the policy choose;
  (b) the policy's choice alone (no database);
  (c) a whole call-next transaction (decision, claim, window update, commit);
  (d) one wait prediction for every waiting ticket, and one balancer look.
The hall runs on a FixedClock (the scenario's first day, 08:30), so the figures
do not depend on the date or hour the script runs at.
Usage:  python benchmarks/simulate_decision.py [--waiting 1000] [--rounds 2000] [--smoke]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import timedelta

from sqlmodel import select

from hallq.core.balancer.balancer import Balancer
from hallq.core.calling.accumulating import policy_for_hall
from hallq.core.clock import FixedClock
from hallq.core.models import Hall
from hallq.core.service import HallService
from hallq.core.txn import Actor, Txn, find_hall
from hallq.core.windows import actions as windows
from hallq.db import Database
from hallq.sim.layouts import LAYOUTS, window_services
from hallq.core.waits.predictor import WaitPredictor
from hallq.sim.scenario import load_scenario


def quantiles(samples: list[float]) -> tuple[float, float]:
    q = statistics.quantiles(samples, n=100)
    return q[49] * 1000, q[98] * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--waiting", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=2000)
    ap.add_argument("--looks", type=int, default=20, help="wait predictions and balancer looks to time")
    ap.add_argument("--smoke", action="store_true", help="a tiny run (100 waiting, 100 rounds, 2 looks): does it still work?")
    args = ap.parse_args()
    if args.smoke:
        args.waiting, args.rounds, args.looks = 100, 100, 2

    city = load_scenario("seed-city")
    layout = window_services(LAYOUTS["hallq"], city)
    tmp = tempfile.mkdtemp(prefix="hallq-bench-")
    db = Database.from_url(f"sqlite:///{tmp}/bench.db")
    db.create_all()
    clock = FixedClock(city.midnight(city.day(0)) + timedelta(hours=8, minutes=30))
    service = HallService(db, clock_=clock)
    service.load_hall(city.hall_with(layout))
    with db.read() as session:
        hall = session.exec(select(Hall).where(Hall.slug == city.slug)).one()
        proficiency = {p.number: {c: (1.0 if c in p.main else 0.9) for c in p.qualified} for p in city.windows}
        policy = policy_for_hall(session, hall, targets={"A": 15, "B": 25, "C": 25, "D": 20, "E": 15}, proficiency=proficiency)
    service.policy = policy
    boss = Actor(name="bench", role="admin")
    rng = random.Random(2)
    codes = list(city.mix)
    weights = list(city.mix.values())
    for _ in range(args.waiting):
        clock.advance(seconds=1)
        service.issue_ticket(
            city.slug, service=rng.choices(codes, weights)[0], priority=rng.choice(["normal"] * 8 + ["green", "appointment"]), actor=boss
        )
    for plan in city.windows:
        # Opened by a staff-less admin: the benchmark needs no accounts.
        service.work.write(city.slug, lambda tx, n=plan.number: windows.open_window(tx, windows.get_window(tx, n)), actor=boss)

    decision, choice = [], []
    for i in range(args.rounds):
        number = 1 + i % len(city.windows)
        with db.read() as session:
            tx = Txn(session=session, hall=find_hall(session, city.slug), now=clock.now(), actor=boss)
            window = windows.get_window(tx, number, lock=False)
            served = tx.window_services(window)
            t0 = time.perf_counter()
            heads = windows.queue_heads(tx, served)
            t1 = time.perf_counter()
            policy.choose(heads, tx.now, window.id)
            t2 = time.perf_counter()
            decision.append(t2 - t0)
            choice.append(t2 - t1)

    whole = []
    for i in range(args.rounds):
        number = 1 + i % len(city.windows)
        clock.advance(seconds=1)
        t0 = time.perf_counter()
        service.window_action(city.slug, number, "call-next", actor=boss)
        whole.append(time.perf_counter() - t0)
        service.window_action(city.slug, number, "complete", actor=boss)
        service.issue_ticket(city.slug, service=rng.choices(codes, weights)[0], actor=boss)  # keep ~1,000 waiting

    predict, look = [], []
    balancer = Balancer({"mode": "suggest", "window_qualifications": {p.number: p.qualified for p in city.windows}})
    for _ in range(args.looks):
        t0 = time.perf_counter()
        predicted = WaitPredictor().predict(service, city.slug)
        predict.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        balancer.suggestions(service, city.slug)
        look.append(time.perf_counter() - t0)

    waiting = sum(s["waiting"] for s in service.queue(city.slug))
    d50, d99 = quantiles(decision)
    c50, c99 = quantiles(choice)
    w50, w99 = quantiles(whole)
    print(f"policy                      {policy.name} (targets, proficiency, detours)")
    print(f"windows / waiting           {len(city.windows)} / {waiting}")
    print(f"decision p50 / p99          {d50:.3f} ms / {d99:.3f} ms   (target p99 <= 1 ms)")
    print(f"policy choice p50 / p99     {c50:.3f} ms / {c99:.3f} ms")
    print(f"call-next txn p50 / p99     {w50:.3f} ms / {w99:.3f} ms")
    print(f"predict all waiting         {statistics.median(predict) * 1000:.0f} ms median ({len(predicted)} tickets)")
    print(f"balancer look + propose     {statistics.median(look) * 1000:.1f} ms median")


if __name__ == "__main__":
    main()

"""What the live wait predictor costs: one play of a busy hall, and issuing with and without it.

Builds the seed-city hall (scenarios/seed-city.toml: its windows and services) on a Monday at
10:00 in its own time zone, on a FixedClock, in an SQLite file: every window open and serving,
--waiting tickets waiting (spread over the services by the scenario's mix, every tenth a green
channel one). Then prints:

* one play of the hall (LiveWaits: what it learns, then the forward play with a probe per
  service and class), p50 / p99 / max over --rounds plays;
* one ticket issued by one thread through HallService.issue_ticket, mean and p99, without the
  predictor and with it (the play brought up to date before the issue at most every
  `wait_prediction_seconds`, 2 s, as the server does).

Usage:  python benchmarks/wait_play.py [--waiting 300] [--rounds 200] [--issues 600] [--smoke]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from hallq.core.clock import as_utc
from hallq.core.waits.live import LiveWaits
from hallq.sim.engine import EngineHall
from hallq.sim.scenario import load_scenario


def busy_hall(db_url: str, waiting: int, seed: int = 1):
    scenario = load_scenario("seed-city")
    zone = ZoneInfo(scenario.hall.hall.timezone)
    start = as_utc(datetime(2026, 11, 23, 10, 0, tzinfo=zone))
    engine = EngineHall(scenario.hall, start, db_url=db_url)
    rng = random.Random(seed)
    services, weights = zip(*scenario.mix.items())
    for number in engine.window_ids:
        engine.action(number, "open")
    for i in range(waiting + len(engine.window_ids)):
        engine.issue(rng.choices(services, weights)[0], "green" if i % 10 == 9 else "normal", "kiosk")
    for number in engine.window_ids:
        engine.call_next(number)
    return scenario, engine


def ms(samples: list[float]) -> str:
    q = statistics.quantiles(samples, n=100, method="inclusive") if len(samples) > 1 else samples * 99
    return f"p50 {q[49] * 1000:.1f} ms, p99 {q[98] * 1000:.1f} ms, max {max(samples) * 1000:.1f} ms"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--waiting", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--issues", type=int, default=600)
    ap.add_argument("--smoke", action="store_true", help="a tiny run (30 waiting, 5 plays, 20 issues): does it still work?")
    args = ap.parse_args()
    if args.smoke:
        args.waiting, args.rounds, args.issues = 30, 5, 20
    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'hall.db'}"
        scenario, engine = busy_hall(db_url, args.waiting)
        hall, slug = engine.service, engine.slug
        print(f"seed-city hall: {len(engine.window_ids)} windows open and serving, {args.waiting} waiting, {len(scenario.mix)} services")

        waits = LiveWaits(min_seconds=0.0, max_age_seconds=0.0)  # every look plays the hall again
        plays = []
        for _ in range(args.rounds):
            t0 = time.perf_counter()
            play = waits.current(hall, slug)
            plays.append(time.perf_counter() - t0)
        placed = len(play.tickets)
        print(f"one play: {ms(plays)}; it placed {placed} waiting tickets and {len(play.next)} probes")
        assert placed == args.waiting, f"the play placed {placed} of {args.waiting} waiting tickets"

        def issuing(label: str) -> list[float]:
            times = []
            rng = random.Random(2)
            services, weights = zip(*scenario.mix.items())
            for _ in range(args.issues):
                t0 = time.perf_counter()
                engine.issue(rng.choices(services, weights)[0], "normal", "kiosk")
                times.append(time.perf_counter() - t0)
            print(f"issue, {label}: mean {statistics.mean(times) * 1000:.2f} ms, {ms(times)}")
            return times

        issuing("simple estimate")
        hall.use_waits(LiveWaits())
        issuing("predictor (played again at most every 2 s)")
        engine.close()


if __name__ == "__main__":
    main()

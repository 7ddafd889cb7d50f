"""Issue tickets through the engine alone: `HallService.issue_ticket` from many threads, no HTTP.

The example hall on a SQLite file (WAL, as served), its daily quotas lifted, on
a FixedClock (a Monday morning, so the run does not depend on the date or hour).
Prints tickets/s and the number of duplicate ticket numbers (must be 0) for
--threads threads, then for one thread alone, each on a fresh database: the
engine's own rate, which the HTTP benchmark (issue_tickets_http.py) adds the
web stack to.
Usage:  python benchmarks/issue_tickets_engine.py [--tickets 6000] [--threads 32] [--smoke]
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from hallq.core.clock import FixedClock
from hallq.core.hallfile import parse_hall_file
from hallq.core.office import OfficeService
from hallq.core.service import HallService
from hallq.db import Database

EXAMPLE = Path(__file__).resolve().parent.parent / "server/hallq/examples/district-hall.toml"
SERVICES = ["SI", "MI", "HR", "HF", "BL", "TX", "RE", "CX"]
MONDAY_10AM = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)  # 10:00 in Shanghai: the example hall is open


def run(tmp: Path, tickets: int, threads: int) -> tuple[int, int, int, float]:
    """Issue `tickets` from `threads` threads on a fresh database: (issued, errors, duplicates, seconds)."""
    db = Database.from_url(f"sqlite:///{tmp / f'engine-{threads}.db'}")
    db.create_all()
    service = HallService(db, clock_=FixedClock(MONDAY_10AM))
    spec = parse_hall_file(EXAMPLE)
    for s in spec.services:
        s.daily_quota = None  # the benchmark issues far more than a day's quota
    service.load_hall(spec)
    OfficeService(service).add_user(name="bench-kiosk", role="device", password="bench-password", hall="district")
    kiosk = OfficeService(service).actor_for_login("bench-kiosk", "bench-password")
    numbers: list[str] = []
    errors: list[str] = []
    start = threading.Barrier(threads + 1)

    def issue(offset: int, count: int) -> None:
        start.wait()
        for i in range(count):
            try:
                numbers.append(service.issue_ticket("district", service=SERVICES[(offset + i) % len(SERVICES)], actor=kiosk)["number"])
            except Exception as exc:  # noqa: BLE001 - counted and shown, the run goes on
                errors.append(f"{type(exc).__name__}: {exc}")

    per = tickets // threads
    workers = [threading.Thread(target=issue, args=(i, per)) for i in range(threads)]
    for w in workers:
        w.start()
    start.wait()
    t0 = time.perf_counter()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - t0
    db.dispose()
    if errors:
        print("first error:", errors[0])
    return len(numbers), len(errors), len(numbers) - len(set(numbers)), elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tickets", type=int, default=6000)
    ap.add_argument("--threads", type=int, default=32)
    ap.add_argument("--smoke", action="store_true", help="a tiny run (200 tickets, 4 threads): does it still work?")
    args = ap.parse_args()
    if args.smoke:
        args.tickets, args.threads = 200, 4
    with tempfile.TemporaryDirectory(prefix="hallq-bench-") as d:
        for threads in (args.threads, 1):
            issued, errors, dupes, elapsed = run(Path(d), args.tickets, threads)
            print(f"{threads:>2} thread{'s' if threads > 1 else ' '}  tickets issued {issued} ({errors} errors)  "
                  f"throughput {issued / elapsed:.0f} tickets/s  duplicate numbers {dupes}")


if __name__ == "__main__":
    main()

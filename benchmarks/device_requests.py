"""What one device request costs the server: the request bridge alone, no broker.

Every device request the server handles goes through `RequestBridge.handle`: check the
device, look for an earlier delivery of the same request, act, log the request with its
answer, commit. This runs it one request after another, as the one thread that handles a
server process's device requests does, for the three requests a hall sends most:
a screen's or a dispenser's status report, a dispenser's ticket, a caller's call-next
(each followed by complete, which is not timed). The example hall with its daily quotas
lifted, on a FixedClock (a Monday morning), devices registered as `hallq device add` does.

Prints per kind: requests a second, p50 / p99 in ms, and SQL statements per request
(BEGIN and COMMIT included): the database round trips a request costs, which is what
limits a server process's request rate on PostgreSQL.

--postgres URL runs it on a fresh database on that PostgreSQL server too (dropped after).
--before REF runs the same on the server code of git commit REF (git archive) for a
before/after comparison under the same conditions.

Usage:  python benchmarks/device_requests.py [--requests 2000] [--postgres URL] [--before REF] [--smoke]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "server/hallq/examples/district-hall.toml"
MONDAY_10AM = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)  # 10:00 in Shanghai: the example hall is open
KINDS = ("status", "issue_ticket", "call_next")


def measure(url: str, requests: int) -> dict:
    """In this process, with whatever `hallq` is on the path: {kind: {rate, p50, p99, statements}}."""
    from sqlalchemy import event

    from hallq.core.clock import FixedClock
    from hallq.core.devices.service import DeviceService
    from hallq.core.hallfile import parse_hall_file
    from hallq.core.office import OfficeService
    from hallq.core.service import HallService
    from hallq.db import Database
    from hallq.mqtt.bridge import RequestBridge

    clock = FixedClock(MONDAY_10AM)
    db = Database.from_url(url)
    db.create_all()
    halls = HallService(db, clock_=clock)
    spec = parse_hall_file(EXAMPLE)
    for s in spec.services:
        s.daily_quota = None  # far more than a day's tickets
    halls.load_hall(spec)
    devices = DeviceService(halls)
    devices.add(hall="district", name="disp-1", role="dispenser")
    devices.add(hall="district", name="screen-1", role="screen")
    devices.add(hall="district", name="caller-5", role="caller", window=5)
    office = OfficeService(halls)
    office.add_user(name="bench-staff", role="staff", password="bench-password", hall="district")
    staff = office.actor_for_login("bench-staff", "bench-password")
    halls.window_action("district", 5, "open", actor=staff)
    bridge = RequestBridge(halls, devices, send=lambda topic, payload: None, max_age=30, now=clock.now)

    statements = [0]
    seen: list[str] = []
    if os.environ.get("HALLQ_SHOW_STATEMENTS"):
        event.listen(db.engine, "before_cursor_execute", lambda conn, cur, sql, *rest: seen.append(" ".join(sql.split())[:160]))
    event.listen(db.engine, "before_cursor_execute", lambda *args: statements.__setitem__(0, statements[0] + 1))
    if db.engine.dialect.name != "sqlite":  # psycopg sends BEGIN on its own; SQLite's BEGIN IMMEDIATE is a statement counted above
        event.listen(db.engine, "begin", lambda conn: statements.__setitem__(0, statements[0] + 1))
    event.listen(db.engine, "commit", lambda conn: statements.__setitem__(0, statements[0] + 1))
    ids = iter(range(10 ** 9))

    def ask(device: str, action: str, **body) -> dict:
        body.update(id=f"r{next(ids)}", action=action, at=clock.now().isoformat())
        answer = bridge.handle("district", device, json.dumps(body).encode())
        if answer is None or answer["status"] != "ok":
            raise SystemExit(f"{action} of {device} was answered {answer}")
        return answer

    def status() -> None:
        ask("screen-1", "status", detail={"firmware": "1.4.2", "uptime": next(ids)})

    def issue() -> None:
        ask("disp-1", "issue_ticket", service="SI")

    def call() -> None:
        ask("caller-5", "call_next")

    def complete() -> None:
        ask("caller-5", "complete")

    for _ in range(requests):  # the caller's queue: one ticket per call
        issue()
    results = {}
    for kind, request, after in (("status", status, None), ("issue_ticket", issue, None), ("call_next", call, complete)):
        took, counted = [], 0
        for i in range(requests):
            clock.advance(milliseconds=10)  # time moves on, as in a hall (a device's last seen is written every 30 s)
            before = statements[0]
            t0 = time.perf_counter()
            request()
            took.append(time.perf_counter() - t0)
            counted += statements[0] - before
            if after is not None:
                after()
        q = statistics.quantiles(took, n=100, method="inclusive")
        results[kind] = {"rate": len(took) / sum(took), "p50": q[49] * 1000, "p99": q[98] * 1000, "statements": counted / len(took)}
    db.dispose()
    return results


def in_child(url: str, requests: int, pythonpath: str | None) -> dict:
    """measure() in a fresh process, on this checkout's code or the given PYTHONPATH's."""
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    proc = subprocess.run([sys.executable, __file__, "--child", url, "--requests", str(requests)],
                          env=env, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"the measuring process failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=2000, help="requests of each kind (default 2000)")
    ap.add_argument("--postgres", help="a PostgreSQL server's URL: also measure on a fresh database there")
    ap.add_argument("--before", metavar="REF", help="also measure the server code of this git commit")
    ap.add_argument("--smoke", action="store_true", help="a tiny run (50 requests of each kind): does it still work?")
    ap.add_argument("--child", metavar="URL", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.requests)))
        return
    if args.smoke:
        args.requests = 50
    sys.path.insert(0, str(ROOT / "benchmarks"))
    codes = [("this checkout", None)]
    print(f"device requests, one after another, {args.requests} of each kind; latencies are p50 / p99", flush=True)
    with tempfile.TemporaryDirectory(prefix="hallq-requests-") as d:
        tmp = Path(d)
        if args.before:
            from _server import code_of

            codes.insert(0, (args.before, code_of(args.before, tmp)))
        for database in ["sqlite"] + (["postgresql"] if args.postgres else []):
            for label, pythonpath in codes:
                if database == "sqlite":
                    url = f"sqlite:///{tmp / f'requests-{len(os.listdir(tmp))}.db'}"
                    results = in_child(url, args.requests, pythonpath)
                else:
                    from _server import fresh_postgres

                    with fresh_postgres(args.postgres) as url:
                        results = in_child(url, args.requests, pythonpath)
                for kind in KINDS:
                    r = results[kind]
                    print(f"{label:<14} {database:<10} {kind:<13} {r['rate']:7.0f} requests/s  {r['p50']:6.2f} / {r['p99']:6.2f} ms"
                          f"  {r['statements']:4.1f} statements", flush=True)


if __name__ == "__main__":
    main()

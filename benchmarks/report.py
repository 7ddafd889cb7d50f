"""The hall's figures on six months of history (issue 13): how long the roll-ups, a month's
report and the statistics page's API calls take, and whether issue and call-next slow down.

Fills a SQLite database with the example hall's working days (China's calendar) of the last
--months months up to the day before --today (this month included), about --per-day tickets each (2,551: the seed city hall's
figure), with their journeys and reviews, from a seeded fast generator (rows written in bulk:
waits about 11 minutes, handling about 16, 2% walked away, 3% no-shows, 85% of the completed
rated, 95% of those five stars). Then measures and prints:

- rebuilding every day's roll-ups (`hallq stats rebuild`: StatsService.rebuild; goal ≤ 60 s);
- a month's full report: the figures and the Excel workbook (goal ≤ 1 s);
- the statistics page's API calls, GET /api/v1/halls/{hall}/stats?month=M for each month,
  through the Flask app in process (goal p99 ≤ 200 ms);
- issue + call-next + complete on --today, with the history and on an empty database, on hall
  engines made alike on each, in turns that alternate between the two (goal: the ratio ≈ 1).
  Both databases are settled first as a hall's would be after six months (settle: VACUUM ANALYZE
  on PostgreSQL, a checkpoint of the write-ahead log on SQLite).

With --postgres URL (a PostgreSQL server's URL, e.g. postgresql://postgres@127.0.0.1:5432/postgres)
the two databases are PostgreSQL ones instead, created afresh on that server and dropped after.

Usage:  python benchmarks/report.py [--months 6] [--per-day 2551] [--today 2026-11-30] [--seed 1] [--postgres URL] [--smoke]
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "server"), str(ROOT / "edge")]

SCORES = [5] * 950 + [4] * 30 + [3] * 10 + [2] * 6 + [1] * 4


def service_for(db_url: str, now: datetime):
    from hallq.core.clock import FixedClock
    from hallq.core.hallfile import parse_hall_file
    from hallq.core.service import HallService
    from hallq.db import Database
    from hallq.demo import EXAMPLE

    db = Database.from_url(db_url)
    db.create_all()
    halls = HallService(db, clock_=FixedClock(now))
    halls.load_hall(parse_hall_file(EXAMPLE))
    return halls


@contextmanager
def databases(postgres: str | None, names: tuple[str, ...]):
    """A URL per name: SQLite files in a temporary folder, or fresh databases on the PostgreSQL server."""
    if not postgres:
        with tempfile.TemporaryDirectory() as d:
            yield {name: f"sqlite:///{d}/{name}.db" for name in names}
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    server = make_url(postgres)
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    made = {name: f"hallq_bench_{name}_{os.getpid()}" for name in names}
    with admin.connect() as c:
        for db in made.values():
            c.execute(text(f'CREATE DATABASE "{db}"'))
    try:
        yield {name: server.set(database=db).render_as_string(hide_password=False) for name, db in made.items()}
    finally:
        with admin.connect() as c:
            for db in made.values():
                c.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        admin.dispose()


def generate(halls, first: date, last: date, per_day: int, seed: int) -> tuple[int, int, int]:
    """Write the history in bulk; (days, tickets, steps)."""
    from sqlalchemy import insert, select

    from hallq.core import calendar, clock
    from hallq.core.accounts.users import create_user
    from hallq.core.reviews.models import Review
    from hallq.core.enums import Role
    from hallq.core.models import Hall, Service, Ticket, TicketStep, Window, WindowService

    rng = random.Random(seed)

    def setup(session):
        hall = session.execute(select(Hall).where(Hall.slug == "district")).scalars().one()
        services = session.execute(select(Service).where(Service.hall_id == hall.id)).scalars().all()
        windows = session.execute(select(Window).where(Window.hall_id == hall.id)).scalars().all()
        serving = {s.id: [] for s in services}
        for link in session.execute(select(WindowService)).scalars().all():
            serving.setdefault(link.service_id, []).append(link.window_id)
        staff = {}
        for w in windows:
            user = create_user(session, name=f"bench{w.number:02d}", role=Role.STAFF, password="not-used-here",
                               now=datetime(2026, 1, 1, tzinfo=timezone.utc), hall=hall, display_name=f"员工{w.number:02d}")
            session.flush()
            staff[w.id] = user.id
        return hall.id, hall.timezone, calendar.of_hall(hall), serving, staff, [(s, s.daily_quota or 100) for s in services if serving.get(s.id)]

    hall_id, tz, cal, serving, staff, mix = halls.work.change(setup)
    population = [s for s, _ in mix]
    cumulative = list(itertools.accumulate(w for _, w in mix))
    days = tickets = steps = 0
    day = first
    while day <= last:
        if not cal.is_working_day(day):
            day += timedelta(days=1)
            continue
        opening = clock.day_start_moment(day, tz) + timedelta(hours=8, minutes=30)
        ticket_rows, step_rows, outcomes = [], [], []
        counters: dict[str, int] = {}
        n = int(per_day * rng.uniform(0.9, 1.1))
        for _ in range(n):
            service = rng.choices(population, cum_weights=cumulative)[0]
            counters[service.prefix] = counters.get(service.prefix, 0) + 1
            issued = opening + timedelta(seconds=rng.uniform(0, 8 * 3600))
            r = rng.random()
            outcome = "walked_away" if r < 0.02 else "no_show" if r < 0.05 else "completed"
            window_id = rng.choice(serving[service.id])
            called = issued + timedelta(minutes=rng.expovariate(1 / 11.2))
            started = called + timedelta(minutes=rng.uniform(0.2, 1.5))
            finished = started + timedelta(minutes=16.12 * rng.lognormvariate(-0.08, 0.4))
            status = {"completed": "done", "no_show": "no_show", "walked_away": "expired"}[outcome]
            ticket_rows.append(dict(public_id=f"{rng.getrandbits(96):024x}", hall_id=hall_id, business_date=day,
                                    number=f"{service.prefix}{counters[service.prefix]:03d}", service_id=service.id,
                                    priority="normal", status=status, issued_at=issued, queued_at=issued, available_at=issued,
                                    window_id=None if outcome == "walked_away" else window_id,
                                    staff_id=None if outcome == "walked_away" else staff[window_id],
                                    called_at=None if outcome == "walked_away" else called,
                                    started_at=started if outcome == "completed" else None,
                                    finished_at=finished if outcome == "completed" else called,
                                    recalls=0, requeues=0, transfers=0, channel="kiosk", estimated_wait_minutes=11.0, simple_wait_minutes=9.0,
                                    close_reason="day_end" if outcome == "walked_away" else None))
            outcomes.append((outcome, service.id, window_id, issued, called, started, finished))
        def write_day(session) -> None:
            connection = session.connection()
            connection.execute(insert(Ticket), ticket_rows)
            ids = connection.execute(select(Ticket.id).where(Ticket.hall_id == hall_id, Ticket.business_date == day)
                                     .order_by(Ticket.id)).scalars().all()
            reviews = []
            for ticket_id, (outcome, service_id, window_id, issued, called, started, finished) in zip(ids, outcomes):
                who = dict(ticket_id=ticket_id, hall_id=hall_id, leg=1, service_id=service_id, detail="")
                step_rows.append({**who, "at": issued, "step": "issued", "window_id": None, "staff_id": None})
                if outcome == "walked_away":
                    step_rows.append({**who, "at": clock.day_end_moment(day, tz), "step": "closed", "window_id": None, "staff_id": None})
                    continue
                at = {"window_id": window_id, "staff_id": staff[window_id]}
                step_rows.append({**who, **at, "at": called, "step": "called"})
                if outcome == "no_show":
                    step_rows.append({**who, **at, "at": called + timedelta(minutes=3), "step": "no_show"})
                    continue
                step_rows.append({**who, **at, "at": started, "step": "started"})
                step_rows.append({**who, **at, "at": finished, "step": "completed"})
                if rng.random() < 0.85:
                    reviews.append(dict(hall_id=hall_id, ticket_id=ticket_id, window_id=window_id, staff_id=staff[window_id],
                                        score=rng.choice(SCORES), at=finished + timedelta(seconds=20), channel="review_box"))
            connection.execute(insert(TicketStep), step_rows)
            if reviews:
                connection.execute(insert(Review), reviews)

        halls.work.change(write_day)
        days, tickets, steps = days + 1, tickets + len(ticket_rows), steps + len(step_rows)
        day += timedelta(days=1)
    return days, tickets, steps


def months_before(today: date, count: int) -> list[tuple[int, int]]:
    out = []
    y, m = today.year, today.month
    for _ in range(count):
        m -= 1
        if m == 0:
            y, m = y - 1, 12
        out.append((y, m))
    return out[::-1]


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


STEPS = ("issue", "call-next", "complete")


def window_cycle(halls, spent: dict[str, float]):
    """A function that runs one issue + call-next + complete at window 1 (the hall's clock then moves
    1 s) and adds each step's seconds to `spent`, after signing in its staff member and kiosk and
    opening the window."""
    from hallq.core.office import OfficeService

    office = OfficeService(halls)
    for name, role in (("bench-now", "staff"), ("bench-kiosk", "device")):
        office.add_user(name=name, role=role, password=f"{name}-password", hall="district")
    staff, kiosk = (office.actor_for_login(name, f"{name}-password") for name in ("bench-now", "bench-kiosk"))
    halls.issue_ticket("district", service="SI", actor=kiosk)  # warm up: the day's first write sweeps and rolls up
    halls.window_action("district", 1, "open", actor=staff)
    steps = (lambda: halls.issue_ticket("district", service="SI", actor=kiosk),
             lambda: halls.window_action("district", 1, "call-next", actor=staff),
             lambda: halls.window_action("district", 1, "complete", actor=staff))

    def cycle() -> None:
        for name, step in zip(STEPS, steps):
            t0 = time.perf_counter()
            step()
            spent[name] = spent.get(name, 0.0) + time.perf_counter() - t0
        halls.clock.advance(seconds=1)

    for _ in range(20):  # untimed: the statement caches and the database's pages warm up
        cycle()
    spent.clear()
    return cycle


def compare_cycles(halls: dict[str, object], count: int, rounds: int = 10) -> dict[str, dict[str, float]]:
    """Seconds per step (and per cycle, "cycle") for each named hall engine: `count` cycles each, run
    in `rounds` turns that alternate between them (and which goes first), so neither gains from the
    machine's quieter minute."""
    spent = {name: {} for name in halls}
    cycles = {name: window_cycle(engine, spent[name]) for name, engine in halls.items()}
    names = list(cycles)
    per_round = max(1, count // rounds)
    for turn in range(rounds):
        for name in names if turn % 2 == 0 else reversed(names):
            for _ in range(per_round):
                cycles[name]()
    done = per_round * rounds
    return {name: {**{step: spent[name][step] / done for step in STEPS}, "cycle": sum(spent[name].values()) / done}
            for name in names}


def settle(db) -> None:
    """Bring a database to where a hall's would be after six months. On PostgreSQL, VACUUM ANALYZE:
    autovacuum did it long ago, while the bulk-written history would otherwise be vacuumed by a
    worker beside the timed cycles, and planned with the statistics of empty tables until then. On
    SQLite, a checkpoint that empties the write-ahead log the rebuild above filled."""
    from sqlalchemy import text

    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("VACUUM ANALYZE"))
    elif db.engine.dialect.name == "sqlite":
        with db.engine.connect() as c:
            c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--months", type=int, default=6)
    ap.add_argument("--per-day", type=int, default=2551)
    ap.add_argument("--today", default="2026-11-30", help="the day after the history (a working day), YYYY-MM-DD")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cycles", type=int, default=200, help="issue + call-next + complete cycles, each database")
    ap.add_argument("--postgres", help="a PostgreSQL server's URL: the databases are made there (default: SQLite files)")
    ap.add_argument("--smoke", action="store_true", help="a tiny run (one month of 60 tickets a day): does it still work?")
    args = ap.parse_args()
    if args.smoke:
        args.months, args.per_day, args.cycles = 1, 60, 20

    from hallq.core import clock
    from hallq.core.stats.service import StatsService, month_days
    from hallq.reports.workbook import xlsx_bytes

    today = date.fromisoformat(args.today)
    span = months_before(today, args.months - 1) + [(today.year, today.month)]  # the last --months months, this one included
    first = date(*span[0], 1)
    now = clock.day_start_moment(today, "Asia/Shanghai") + timedelta(hours=10)
    with tempfile.TemporaryDirectory() as d, databases(args.postgres, ("history", "empty")) as urls:
        print(f"databases                  {'PostgreSQL at ' + args.postgres.rsplit('@', 1)[-1] if args.postgres else 'SQLite files'}")
        halls = service_for(urls["history"], now)
        t0 = time.perf_counter()
        days, tickets, steps = generate(halls, first, today - timedelta(days=1), args.per_day, args.seed)
        print(f"history                    {days} working days, {tickets} tickets, {steps} steps, written in {time.perf_counter() - t0:.1f} s")
        stats = StatsService(halls)

        t0 = time.perf_counter()
        rebuilt = stats.rebuild("district")
        rebuild = time.perf_counter() - t0
        print(f"stats rebuild              {len(rebuilt)} days in {rebuild:.2f} s  (goal: at most 60 s for six months)")

        from hallq.core.txn import SYSTEM

        month = month_days(*span[-2 if len(span) > 1 else -1])  # the last whole month
        took = []
        for _ in range(5):
            t0 = time.perf_counter()
            report = stats.report("district", *month, viewer=SYSTEM)
            xlsx_bytes(report)
            took.append(time.perf_counter() - t0)
        print(f"month report + workbook    {month[0]:%Y-%m}: {report['totals']['tickets']} tickets, "
              f"median {statistics.median(took) * 1000:.0f} ms, max {max(took) * 1000:.0f} ms  (goal: at most 1 s)")

        from hallq.assembly import build
        from hallq.config import load_settings
        from hallq.core.office import OfficeService
        from hallq.core.waits.live import LiveWaits
        from hallq.web import create_app

        office = OfficeService(halls)
        office.add_user(name="bench-manager", role="manager", password="bench-manager-password", hall="district")
        headers = {"Authorization": "Bearer " + office.create_token("bench-manager")}
        # No background balancer: it would outlive the databases (dropped first on PostgreSQL).
        settings = load_settings(instance_path=Path(d) / "instance", secret_key="bench", balancer_interval_seconds=0)
        app = create_app(hallq=build(settings, halls=halls))
        client = app.test_client()
        calls = []
        for _ in range(3 if args.smoke else 10):
            for y, m in span:
                t0 = time.perf_counter()
                answer = client.get(f"/api/v1/halls/district/stats?month={y}-{m:02d}", headers=headers)
                calls.append(time.perf_counter() - t0)
                assert answer.status_code == 200, answer.get_json()
        print(f"stats API (month)          {len(calls)} calls: p50 {quantile(calls, 0.5) * 1000:.1f} ms, "
              f"p99 {quantile(calls, 0.99) * 1000:.1f} ms  (goal: p99 at most 200 ms)")

        # The cycles run on a hall engine made alike on each database (the app's live pages, voice and
        # balancer hear this one's events: they would be timed on one side only), alternating.
        halls.close()
        halls.db.dispose()
        engines = {name: service_for(urls[name], now) for name in ("history", "empty")}
        for engine in engines.values():
            settle(engine.db)
            if settings.wait_prediction:  # visitors are told the predictor's waits, as the server tells them
                engine.use_waits(LiveWaits(min_seconds=settings.wait_prediction_seconds))
        took = compare_cycles(engines, args.cycles)
        for engine in engines.values():
            engine.close()  # its queue summaries come after the cycles: they must not outlive the database
            engine.db.dispose()
        for step in (*STEPS, "cycle"):
            with_history, without = took["history"][step], took["empty"][step]
            label = "issue + call-next + complete" if step == "cycle" else f"  {step}"
            print(f"{label:<29}with history {with_history * 1000:.2f} ms, empty {without * 1000:.2f} ms, "
                  f"ratio {with_history / without:.2f}" + ("  (goal: about 1)" if step == "cycle" else ""))


if __name__ == "__main__":
    main()

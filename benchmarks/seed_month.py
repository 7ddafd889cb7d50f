"""The seed figures out of `hallq report`, for a simulated month of the seed-city scenario.

Simulates every working day of a month of a scenario (default: seed-city, November 2026, the
`hallq` policy) through the real engine, keeping the days in one SQLite file, as
`hallq simulate --keep` does; then runs `hallq report --month --csv` on that file and sets the
hall's own figures (the report's totals.csv) beside the simulator's ground truth for the same
tickets (what the simulator itself did: tickets it took, visitors it served, when it called
them, how long it kept each at a window, what they pressed on the review boxes) and beside the
seed hall's published figures. Fails when a figure of the report differs from the simulator's.

Usage:  python benchmarks/seed_month.py [--scenario seed-city] [--month 2026-11] [--policy hallq] [--days N] [--smoke]
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "server"), str(ROOT / "edge")]

# The seed city hall's published figures (shared/DOMAIN.md: Oct 2019 - Feb 2020).
SEED = {"cases_per_working_day": 2551, "wait_mean": 11.2, "handling_mean": 16.12, "five_star_rate": 0.9535,
        "active_rating_rate": 0.95}
# (figure, the report's totals.csv label, how close it must be to the simulator's: the report
# gives minutes to a tenth, and a rate to a hundredth of a percent)
CHECKS = [
    ("working_days", "工作日数", 0),
    ("tickets", "取号数", 0),
    ("cases", "办件数", 0),
    ("cases_per_working_day", "日均办件", 0.05),
    ("wait_mean", "平均等候(分钟)", 0.05),
    ("handling_mean", "平均办理(分钟)", 0.05),
    ("no_show_rate", "过号率", 0.0001),
    ("reviews", "评价数", 0),
    ("active_rating_rate", "主动评价率", 0.0001),
    ("five_star_rate", "非常满意率", 0.0001),
]


def working_days(scenario, year: int, month: int):
    from datetime import date, timedelta

    from hallq.core import calendar

    days = calendar.of_hall(scenario.hall.hall)
    first, out = date(year, month, 1), []
    day = first
    while day.month == month:
        if days.is_working_day(day):
            out.append(day)
        day += timedelta(days=1)
    return out


def truth(result: dict, days: int) -> dict:
    """The simulator's own figures, counted the way the hall's are (docs/figures.md), over the
    month's `days` working days."""
    fig = result["policies"][next(iter(result["policies"]))]
    reviews = fig.get("reviews", {"count": 0, "by_score": {}})
    return {
        "working_days": days,
        "tickets": fig["tickets"],
        "cases": fig["cases"],
        "cases_per_working_day": fig["cases"] / days,
        "wait_mean": fig["mean_ticket_wait"],
        "handling_mean": fig["mean_handling"],
        "no_show_rate": fig["no_shows"] / fig["tickets"] if fig["tickets"] else None,
        "reviews": reviews["count"],
        "active_rating_rate": reviews["count"] / fig["cases"] if fig["cases"] else None,
        "five_star_rate": reviews["by_score"].get(5, 0) / reviews["count"] if reviews["count"] else None,
    }


def read_totals(path: Path) -> dict[str, str]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return {row[0]: row[1] for row in csv.reader(f) if len(row) == 2}


def number(text: str) -> float | None:
    return float(text) if text not in ("", None) else None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="seed-city")
    ap.add_argument("--month", default="2026-11", help="YYYY-MM: every working day of it is simulated")
    ap.add_argument("--policy", default="hallq")
    ap.add_argument("--days", type=int, default=None, help="only the month's first N working days")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", help="keep the simulated month in this SQLite file (default: a temporary one)")
    ap.add_argument("--smoke", action="store_true", help="the town scenario, its first two days, nine in ten visitors rating: does it still work?")
    args = ap.parse_args(argv)
    if args.smoke:
        args.scenario, args.days = "town", 2

    from click.testing import CliRunner

    from hallq.cli import cli
    from hallq.sim.runner import simulate
    from hallq.sim.scenario import load_scenario

    year, month = (int(x) for x in args.month.split("-"))
    scenario = load_scenario(args.scenario)
    month_days = working_days(scenario, year, month)
    days = month_days[: args.days]
    changes = {"first_day": days[0], **({"rated": 0.9, "scores": {5: 8, 4: 1, 1: 1}} if args.smoke else {})}
    scenario = dataclasses.replace(scenario, spec=scenario.spec.model_copy(update=changes))
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(args.keep or Path(tmp) / "month.db").resolve()
        db.unlink(missing_ok=True)
        url = f"sqlite:///{db}"
        started = time.perf_counter()
        result = simulate(scenario, [args.policy], days=len(days), seed=args.seed, keep=url,
                          progress=lambda r: print(f"  day {r.day + 1}/{len(days)} simulated", file=sys.stderr, flush=True))
        simulated = time.perf_counter() - started
        env = {**os.environ, "HALLQ_DATABASE_URL": url}
        out = CliRunner().invoke(cli, ["report", "--hall", scenario.slug, "--month", args.month, "--csv", str(Path(tmp) / "csv")], env=env)
        if out.exit_code != 0:
            print(out.output, file=sys.stderr)
            raise SystemExit(f"hallq report failed ({out.exit_code})")
        totals = read_totals(Path(tmp) / "csv" / "totals.csv")
    sim = truth(result, len(month_days))
    print(f"{scenario.name}, {args.month}: {len(days)} of its {len(month_days)} working days ({days[0]} to {days[-1]}), policy {args.policy}, "
          f"seed {args.seed}; simulated in {simulated:.0f} s")
    print(f"{'figure':24} {'hallq report':>14} {'simulator':>12} {'seed hall':>10}")
    wrong = []
    for key, label, tolerance in CHECKS:
        got, want = number(totals.get(label)), sim[key]
        seed = SEED.get(key)
        print(f"{key:24} {_show(got):>14} {_show(want):>12} {_show(seed):>10}")
        if (got is None) != (want is None) or (got is not None and abs(got - want) > tolerance + 1e-9):
            wrong.append(key)
    if wrong:
        print(f"hallq report differs from the simulator in: {', '.join(wrong)}", file=sys.stderr)
        return 1
    print("hallq report agrees with the simulator on every figure")
    return 0


def _show(x) -> str:
    if x is None:
        return "-"
    if isinstance(x, float) and x < 1 and x != 0:
        return f"{x:.2%}"
    return f"{x:,.2f}" if isinstance(x, float) and not x.is_integer() else f"{x:,.0f}"


if __name__ == "__main__":
    raise SystemExit(main())

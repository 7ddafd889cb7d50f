"""Every simulation target of the balancing issue, in one command.

Runs the shipped scenarios through the simulator (the real engine, in-memory
SQLite), writes each run's figures as JSON, and prints the targets with the
measured figure and whether it is met:

  seed city   HallQ mean wait ≤ 1.03× fully pooled and ≤ 0.70× dedicated (≥ 50 days);
              worst service's p95 ≤ 1.10× the hall's p95; prediction MAE ≤ 0.6× simple
  district    HallQ with the live balancer ≤ 1.20× fully pooled
  surge       the surging service's backlog clears ≥ 30% sooner with the balancer
  (and, as sensitivity rows, the seed city and the district with staff at 0.9 on their second service)
  flat        pooled FCFS within 10% of Erlang C
  all         no policy below the fluid lower bound

The full run takes about 1.5 hours with --jobs 2 on the project's two shared
cores (a seed-city day is ~2,500 visitors through the engine, 20–30 s); --scale
0.1 gives a quick look, --smoke one day of the two smallest halls (seconds).
Run it under `nice -n 19` on a shared machine.
Usage:  python benchmarks/simulate_targets.py [--jobs 2] [--scale 1.0] [--out DIR] [--only NAME] [--smoke]
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import sys
import tempfile
import time
from pathlib import Path

from hallq.sim.report import table
from hallq.sim.runner import simulate
from hallq.sim.scenario import SCENARIO_DIR, load_scenario

ALL = ["dedicated", "fqm", "pooled", "hallq", "hallq+balancer"]

# (name, scenario, policies, days, predict every n-th ticket)
RUNS = [
    ("flat", "flat", ["pooled"], 200, 1),
    ("town", "town", ALL, 30, 1),
    ("district", "district", ALL, 30, 1),
    ("district-surge", "district-surge", ["hallq", "hallq+balancer"], 30, 1),
    ("seed-city", "seed-city", ["pooled", "hallq", "dedicated"], 50, 5),
    ("seed-city-fqm", "seed-city", ["fqm"], 10, 5),
    ("seed-city-secondary-0.9", "seed-city-secondary", ["hallq"], 10, 5),
    ("district-secondary-0.9", "district-secondary", ["hallq+balancer"], 30, 1),
]


def secondary_variant(tmp: Path, name: str) -> str:
    """A shipped scenario with staff 10% slower on their second qualification (a
    sensitivity check): `secondary_proficiency`, and the district's [[staffing]]
    lines, which name the main service first and the second one after it."""
    text = (SCENARIO_DIR / f"{name}.toml").read_text(encoding="utf-8")
    text = text.replace("secondary_proficiency = 1.0", "secondary_proficiency = 0.9")
    text, n = re.subn(r"qualified = \{ (\w+) = 1\.0, (\w+) = 1\.0 \}", r"qualified = { \1 = 1.0, \2 = 0.9 }", text)
    if name == "district" and n != 20:
        raise SystemExit(f"expected 20 [[staffing]] lines in district.toml, found {n}")
    text = text.replace(f'name = "{name}"', f'name = "{name}-secondary"', 1)
    text = text.replace('hall_file = "../', f'hall_file = "{SCENARIO_DIR.parent.as_posix()}/')
    path = tmp / f"{name}-secondary.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the --jobs workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def ratio(a, b):
    return None if a is None or not b else a / b


def targets(results: dict) -> list[tuple[str, str, float | None, bool | None]]:
    """(target, the figure, measured value, met?) for what the runs measured."""
    rows = []
    city = results.get("seed-city", {}).get("policies", {})
    if {"hallq", "pooled", "dedicated"} <= set(city):
        r = ratio(city["hallq"]["mean_wait"], city["pooled"]["mean_wait"])
        rows.append(("seed city: HallQ mean wait ≤ 1.03× pooled", "HallQ ÷ pooled", r, r is not None and r <= 1.03))
        r = ratio(city["hallq"]["mean_wait"], city["dedicated"]["mean_wait"])
        rows.append(("seed city: HallQ mean wait ≤ 0.70× dedicated", "HallQ ÷ dedicated", r, r is not None and r <= 0.70))
        f = city["hallq"]["fairness"]
        rows.append(("fairness: worst service p95 ≤ 1.10× hall p95 (seed city, HallQ)", "worst ÷ hall", f, f is not None and f <= 1.10))
        p = (city["hallq"].get("prediction") or {}).get("ratio")
        rows.append(("prediction MAE ≤ 0.6× simple estimate (seed city, HallQ)", "MAE ÷ simple MAE", p, p is not None and p <= 0.6))
    district = results.get("district", {}).get("policies", {})
    if {"hallq+balancer", "pooled"} <= set(district):
        r = ratio(district["hallq+balancer"]["mean_wait"], district["pooled"]["mean_wait"])
        rows.append(("district: HallQ + balancer ≤ 1.20× pooled", "HallQ+b ÷ pooled", r, r is not None and r <= 1.20))
        p = (district["hallq+balancer"].get("prediction") or {}).get("ratio")
        rows.append(("prediction MAE ≤ 0.6× simple estimate (district, HallQ + balancer)", "MAE ÷ simple MAE", p, p is not None and p <= 0.6))
    surge = results.get("district-surge", {}).get("policies", {})
    if {"hallq", "hallq+balancer"} <= set(surge):
        r = ratio(surge["hallq+balancer"].get("surge_clear_minutes"), surge["hallq"].get("surge_clear_minutes"))
        rows.append(("surge: backlog clears ≥ 30% sooner with the balancer", "with ÷ without", r, r is not None and r <= 0.70))
    flat = results.get("flat")
    if flat:
        r = ratio(flat["policies"]["pooled"]["mean_wait"], flat["bounds"]["erlang_c_wait"])
        rows.append(("flat: pooled within 10% of Erlang C", "pooled ÷ Erlang C", r, r is not None and abs(r - 1) <= 0.10))
    slower = results.get("district-secondary-0.9", {}).get("policies", {})
    if "hallq+balancer" in slower and "pooled" in district:
        # Not a target: the district with staff 10% slower on their second service.
        r = ratio(slower["hallq+balancer"]["mean_wait"], district["pooled"]["mean_wait"])
        rows.append(("(sensitivity, not a target) district at 0.9 on the second service: HallQ + balancer ÷ pooled", "HallQ+b ÷ pooled", r, None))
    holds = all(all(run["bound_holds"].values()) for run in results.values())
    rows.append(("no policy beats the fluid lower bound (every run)", "", None, holds))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every run's days (at least 1)")
    ap.add_argument("--out", default=None, help="directory for the JSON figures (default: a new temporary one)")
    ap.add_argument("--only", action="append", help="run only these (repeatable): " + ", ".join(r[0] for r in RUNS))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--smoke", action="store_true", help="one day of flat and town only: does it still work?")
    args = ap.parse_args()
    if args.smoke:
        args.only, args.scale = ["flat", "town"], 0.001

    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="hallq-sim-"))
    out.mkdir(parents=True, exist_ok=True)
    results = {}
    for name, ref, policies, days, every in RUNS:
        if args.only and name not in args.only:
            continue
        if ref.endswith("-secondary"):
            ref = secondary_variant(out, ref.removesuffix("-secondary"))
        scenario = load_scenario(ref)
        days = max(1, round(days * args.scale))
        started, cpu = time.monotonic(), cpu_seconds()
        print(f"== {name}: {days} days of {', '.join(policies)}", file=sys.stderr, flush=True)
        figures = simulate(scenario, policies, days=days, seed=args.seed, jobs=args.jobs, predict_every=every)
        figures["wall_seconds"] = time.monotonic() - started
        figures["cpu_seconds_per_policy_day"] = (cpu_seconds() - cpu) / (days * len(policies))
        results[name] = figures
        (out / f"{name}.json").write_text(json.dumps(figures, ensure_ascii=False, indent=2), encoding="utf-8")
        print(f"\n## {name} ({figures['wall_seconds'] / 60:.1f} min; {figures['cpu_seconds_per_policy_day']:.1f} CPU seconds "
              "per simulated day of one policy)\n" + table(scenario, figures["policies"], figures["bounds"]), flush=True)

    print("\n## Targets")
    for target, figure, value, met in targets(results):
        shown = "" if value is None else f"{figure} = {value:.3f}"
        print(f"{'    ' if met is None else 'MET ' if met else 'MISS'}  {target}  {shown}")
    print(f"\nfigures in {out}")


if __name__ == "__main__":
    main()

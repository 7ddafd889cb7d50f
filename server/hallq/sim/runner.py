"""Run many simulated days for several policies, in one process or several."""

from __future__ import annotations

import multiprocessing
import traceback
from typing import Callable

from ..core.errors import Invalid
from .day import DayResult, DayRun
from .layouts import LAYOUTS
from .report import PolicyFigures, bounds, check_bound
from .scenario import Scenario, load_scenario
from .visitors import day_visitors

DEFAULT_POLICIES = ["dedicated", "fqm", "pooled", "hallq", "hallq+balancer"]


def check_policies(names: list[str]) -> list[str]:
    unknown = [n for n in names if n not in LAYOUTS]
    if unknown:
        raise Invalid("unknown_policy", f"unknown policy {', '.join(unknown)}; known: {', '.join(LAYOUTS)}")
    return list(dict.fromkeys(names))


def run_one(scenario: Scenario, policy: str, day: int, seed: int, predict_every: int = 1, db_url: str | None = None) -> DayResult:
    """One day of one policy (on `db_url`'s database, which keeps it, or on one of its own)."""
    visitors = day_visitors(scenario, seed, day)
    return DayRun(scenario, LAYOUTS[policy], visitors, day, predict_every=predict_every, db_url=db_url).run()


_worker_scenario: Scenario | None = None


def _init(source: str) -> None:
    global _worker_scenario
    _worker_scenario = load_scenario(source)


def _work(task) -> DayResult:
    policy, day, seed, predict_every = task
    try:
        return run_one(_worker_scenario, policy, day, seed, predict_every)
    except Exception as exc:
        # Not every exception survives the trip back from a worker process; say what happened here.
        raise RuntimeError(f"{policy}, day {day}, seed {seed}: {type(exc).__name__}: {exc}\n{traceback.format_exc()}") from None


def simulate(
    scenario: Scenario,
    policies: list[str],
    *,
    days: int,
    seed: int = 1,
    jobs: int = 1,
    predict_every: int = 1,
    progress: Callable[[DayResult], None] | None = None,
    keep: str | None = None,
) -> dict:
    """Run `days` days of each policy on identical visitors; the figures as a JSON-ready dict.

    With `keep` (a database URL) the days of the one policy are kept there, one after another on
    the hall's working days, for the hall's own figures (`hallq report`) to be read from."""
    policies = check_policies(policies)
    if days < 1:
        raise Invalid("bad_days", "simulate at least one day")
    if keep and (len(policies) != 1 or jobs > 1):
        raise Invalid("keep_one_policy", "keeping the days in a database needs one policy and one job")
    tasks = [(p, d, seed, predict_every) for d in range(days) for p in policies]
    figures = {p: PolicyFigures(p) for p in policies}
    if jobs > 1:
        with multiprocessing.get_context("spawn").Pool(jobs, initializer=_init, initargs=(scenario.source,)) as pool:
            for r in pool.imap_unordered(_work, tasks):
                figures[r.layout].add(r, scenario)
                if progress:
                    progress(r)
    else:
        for p, d, s, every in tasks:
            r = run_one(scenario, p, d, s, every, db_url=keep)
            figures[p].add(r, scenario)
            if progress:
                progress(r)
    summaries = {p: figures[p].summary(scenario.services) for p in policies}
    refs = bounds(scenario)
    return {
        "scenario": scenario.name,
        "source": scenario.source,
        "days": days,
        "seed": seed,
        "windows": len(scenario.windows),
        "visitors_per_day": scenario.spec.visitors,
        "mean_handling": scenario.mean_handling(),
        "peak_ratio": scenario.peak_ratio(),
        "bounds": refs,
        "bound_holds": check_bound(summaries, refs["fluid_bound_wait"]),
        "policies": summaries,
    }

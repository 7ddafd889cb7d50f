"""Figures from simulated days: per policy mean and 95th-percentile waits (overall
and per service), utilisation, prediction accuracy, surge clearance, and the
queueing bounds they are checked against."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .day import DayResult
from .queueing import erlang_c_wait, fluid_mean_wait
from .scenario import Scenario
from .scenario_file import minute_of_day


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0–100), linear between order statistics."""
    if not values:
        return None
    xs = sorted(values)
    k = (len(xs) - 1) * q / 100.0
    lo = math.floor(k)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def _mean(values) -> float | None:
    values = list(values)
    return sum(values) / len(values) if values else None


def bounds(scenario: Scenario) -> dict:
    """Erlang C at the day's average load, and the fluid bounds for the day's profile."""
    rates = scenario.rates()
    show = 1 - scenario.spec.no_show
    shown = [(a, b, {c: r * show for c, r in seg.items()}) for a, b, seg in rates]
    opening, closing = scenario.open_minutes()
    issuing = sum(b - a for a, b, seg in rates if sum(seg.values()) > 0)
    arrivals = sum((b - a) * sum(seg.values()) for a, b, seg in shown)
    handling = scenario.mean_handling()
    duty = sum(scenario.on_duty(m + 0.5) for m in range(int(opening), int(closing))) / max(closing - opening, 1)
    windows = int(duty) if duty == int(duty) else duty
    erlang = erlang_c_wait(int(round(duty)), arrivals / issuing, handling) if issuing else 0.0
    return {
        "erlang_c_wait": None if math.isinf(erlang) else erlang,
        "erlang_c_windows": windows,
        "offered_load": arrivals / issuing * handling if issuing else 0.0,
        "fluid_bound_wait": fluid_mean_wait(shown, scenario.handling, scenario.on_duty, closing, order="shortest"),
        "fluid_fcfs_wait": fluid_mean_wait(shown, scenario.handling, scenario.on_duty, closing, order="fcfs"),
    }


def clear_minutes(backlog: list[int], start: int, end: int) -> float | None:
    """Minutes from a surge's start until its service's backlog is back to where it was."""
    if start >= len(backlog):
        return None
    before = max(backlog[max(start - 15, 0) : start], default=0)
    for m in range(end, len(backlog)):
        if backlog[m] <= max(before, 2):
            return float(m - start)
    return float(len(backlog) - start)


@dataclass
class PolicyFigures:
    policy: str
    days: int = 0
    waits: list[tuple[str, str, float]] = field(default_factory=list)
    busy: float = 0.0
    duty: float = 0.0
    expired: int = 0
    refused: int = 0
    moves: int = 0
    empty_calls: int = 0
    predictions: list[tuple[float, float, float]] = field(default_factory=list)
    clears: list[float] = field(default_factory=list)
    day_means: list[float] = field(default_factory=list)
    seconds: float = 0.0
    issued: int = 0
    no_shows: int = 0
    handling: list[float] = field(default_factory=list)
    ticket_waits: list[float] = field(default_factory=list)
    reviews: dict[int, int] = field(default_factory=dict)

    def add(self, r: DayResult, scenario: Scenario) -> None:
        self.days += 1
        self.issued += len(r.waits) + r.no_shows
        self.no_shows += r.no_shows
        self.handling.extend(r.handling)
        self.ticket_waits.extend(r.ticket_waits)
        for score, n in r.reviews.items():
            self.reviews[score] = self.reviews.get(score, 0) + n
        self.waits.extend(r.waits)
        self.busy += r.busy_minutes
        self.duty += r.duty_minutes
        self.expired += r.expired
        self.refused += r.refused
        self.moves += r.moves
        self.empty_calls += r.empty_calls
        self.predictions.extend(r.predictions)
        self.seconds += r.seconds
        if r.waits:
            self.day_means.append(sum(w for _, _, w in r.waits) / len(r.waits))
        opening = scenario.open_minutes()[0]
        for s in scenario.surges:
            start = int(minute_of_day(s.start) - opening)
            end = int(minute_of_day(s.end) - opening)
            cleared = clear_minutes(r.backlog.get(s.service, []), start, end)
            if cleared is not None:
                self.clears.append(cleared)

    def summary(self, services: list[str]) -> dict:
        all_waits = [w for _, _, w in self.waits]
        per_service = {}
        for code in services:
            ws = [w for c, _, w in self.waits if c == code]
            if ws:
                per_service[code] = {"visitors": len(ws), "mean_wait": _mean(ws), "p95_wait": percentile(ws, 95)}
        hall_p95 = percentile(all_waits, 95)
        worst = max((v["p95_wait"] for v in per_service.values()), default=None)
        day_means = self.day_means
        spread = None
        if len(day_means) > 1:
            m = _mean(day_means)
            spread = math.sqrt(sum((x - m) ** 2 for x in day_means) / (len(day_means) - 1) / len(day_means))
        out = {
            "days": self.days,
            "visitors": len(all_waits),
            "mean_wait": _mean(all_waits),
            "mean_wait_stderr": spread,
            "p95_wait": hall_p95,
            "worst_service_p95": worst,
            "fairness": (worst / hall_p95) if worst is not None and hall_p95 else None,
            "per_service": per_service,
            "utilisation": self.busy / self.duty if self.duty else None,
            "expired": self.expired,
            "refused": self.refused,
            "balancer_moves": self.moves,
            "empty_calls": self.empty_calls,
            "seconds": self.seconds,
            # As the hall's own figures count them (docs/figures.md): tickets issued, cases
            # completed, the wait of every ticket called (no-shows too), handling, reviews.
            "tickets": self.issued,
            "cases": len(self.handling),
            "no_shows": self.no_shows,
            "mean_ticket_wait": _mean(self.ticket_waits),
            "mean_handling": _mean(self.handling),
        }
        reviews = sum(self.reviews.values())
        if reviews:
            out["reviews"] = {"count": reviews, "by_score": dict(sorted(self.reviews.items())),
                              "five_star_rate": self.reviews.get(5, 0) / reviews,
                              "rating_rate": reviews / len(self.handling) if self.handling else None}
        if self.predictions:
            out["prediction"] = {
                "count": len(self.predictions),
                "mae": _mean(abs(p - w) for p, _, w in self.predictions),
                "bias": _mean(p - w for p, _, w in self.predictions),
                "simple_mae": _mean(abs(s - w) for _, s, w in self.predictions),
            }
            out["prediction"]["ratio"] = out["prediction"]["mae"] / out["prediction"]["simple_mae"] if out["prediction"]["simple_mae"] else None
        if self.clears:
            out["surge_clear_minutes"] = _mean(self.clears)
        return out


def check_bound(summaries: dict[str, dict], bound: float) -> dict[str, bool]:
    """Whether each policy's mean wait stays at or above the fluid lower bound."""
    return {name: s["mean_wait"] is None or s["mean_wait"] >= bound - 1e-9 for name, s in summaries.items()}


LEGEND = """\
columns (waits in minutes, from taking a ticket to being called):
  days       working days simulated
  mean       mean wait of every visitor
  p95        95% of visitors waited at most this long
  worst p95  the p95 of the service whose visitors waited longest
  fair       worst p95 ÷ p95: 1.00 means every service waits alike, higher means one service waits more
  util       share of the windows' staffed time spent serving
  expired    visitors still waiting when the hall closed
  moves      changes the balancer made to which services windows serve
  pred MAE   how far off HallQ's predicted wait was, on average (minutes)
  simple     the same for the simple estimate (people ahead × handling time), to compare
  clear      minutes until a surge's queue was back to normal
  -          not measured for this policy or scenario
bounds: fluid (any order) is the least mean wait any order of calling can give on average; fluid FCFS
  and Erlang C are what a hall where every window serves everything, in order of arrival, tends to"""

BELOW_BOUND = (
    "  That is, its mean wait came out lower than the least any order of calling can give on average\n"
    "  for this hall's expected visitors and windows on duty. Over a few days it can be luck (fewer\n"
    "  or later visitors than expected: run more --days); if it stays below over many days, the\n"
    "  simulation is wrong somewhere and its figures should not be trusted."
)


def table(scenario: Scenario, summaries: dict[str, dict], refs: dict) -> str:
    """The printed comparison."""
    lines = [
        f"scenario {scenario.name}: {len(scenario.windows)} windows, ~{scenario.spec.visitors:g} visitors/day, "
        f"mean handling {scenario.mean_handling():.2f} min, peak {scenario.peak_ratio():.2f}× the day's mean",
        f"{'policy':<16}{'days':>5}{'mean':>8}{'p95':>8}{'worst p95':>10}{'fair':>6}{'util':>6}{'expired':>8}{'moves':>6}{'pred MAE':>9}{'simple':>8}{'clear':>7}",
    ]
    for name, s in summaries.items():
        pred = s.get("prediction") or {}
        lines.append(
            f"{name:<16}{s['days']:>5}{_f(s['mean_wait']):>8}{_f(s['p95_wait']):>8}{_f(s['worst_service_p95']):>10}"
            f"{_f(s['fairness'], 2):>6}{_f(s['utilisation'], 2):>6}{s['expired']:>8}{s['balancer_moves']:>6}"
            f"{_f(pred.get('mae')):>9}{_f(pred.get('simple_mae')):>8}{_f(s.get('surge_clear_minutes'), 0):>7}"
        )
    erlang = refs.get("erlang_c_wait")
    lines.append(
        f"bounds: fluid (any order) {refs['fluid_bound_wait']:.2f} min, fluid FCFS {refs['fluid_fcfs_wait']:.2f} min, "
        f"Erlang C ({refs['erlang_c_windows']:g} windows, load {refs['offered_load']:.1f}) "
        + ("overloaded" if erlang is None else f"{erlang:.2f} min")
    )
    beaten = [n for n, ok in check_bound(summaries, refs["fluid_bound_wait"]).items() if not ok]
    if beaten:
        lines += [f"BELOW THE FLUID BOUND: {', '.join(beaten)}", BELOW_BOUND]
    else:
        lines.append("no policy beats the fluid bound (the least mean wait any order of calling can give on average)")
    lines.append(LEGEND)
    return "\n".join(lines)


def _f(x, digits: int = 1) -> str:
    return "-" if x is None else f"{x:.{digits}f}"

"""A simulated day's visitors, drawn once so every policy meets the same people.

Common random numbers: the arrivals, services, classes, no-shows and each
visitor's handling time at full speed depend only on (scenario, seed, day).
A policy changes who is served where and when, never who comes.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from statistics import NormalDist

from ..core.enums import Priority
from .scenario import Scenario

_NORMAL = NormalDist()


@dataclass(frozen=True, slots=True)
class Visitor:
    index: int
    arrival: float  # minute of the day
    service: str
    priority: Priority
    no_show: bool  # takes a ticket, then is gone when called
    minutes: float  # handling time at a window working at full speed
    score: int | None = None  # what the visitor presses on the review box once served (None: does not rate)


def handling_minutes(kind: str, mean: float, cv: float, u: float) -> float:
    """The handling time whose cumulative probability is u, for the configured distribution."""
    u = min(max(u, 1e-12), 1 - 1e-12)
    if kind == "fixed" or cv == 0:
        return mean
    if kind == "exponential":
        return -mean * math.log(1 - u)
    sigma2 = math.log(1 + cv * cv)
    mu = math.log(mean) - sigma2 / 2
    return math.exp(mu + math.sqrt(sigma2) * _NORMAL.inv_cdf(u))


def day_visitors(scenario: Scenario, seed: int, day: int) -> list[Visitor]:
    """The visitors of one simulated day, in order of arrival."""
    rng = random.Random(f"hallq-sim:{seed}:{day}")
    spec = scenario.spec
    volume = 1.0
    if spec.day_cv > 0:
        sigma = math.sqrt(math.log(1 + spec.day_cv**2))
        volume = math.exp(rng.gauss(-sigma * sigma / 2, sigma))
    arrivals: list[tuple[float, str]] = []
    for start, end, rates in scenario.rates():
        for code in sorted(rates):
            rate = rates[code] * volume
            if rate <= 0:
                continue
            t = start + rng.expovariate(rate)
            while t < end:
                arrivals.append((t, code))
                t += rng.expovariate(rate)
    arrivals.sort()
    # Drawn apart, so that rating changes none of the day's other draws.
    ratings = random.Random(f"hallq-sim-reviews:{seed}:{day}")
    scores, weights = zip(*sorted(spec.scores.items()))
    visitors = []
    for i, (t, code) in enumerate(arrivals):
        r = rng.random()
        if r < spec.green:
            priority = Priority.GREEN
        elif r < spec.green + spec.appointment:
            priority = Priority.APPOINTMENT
        else:
            priority = Priority.NORMAL
        no_show = rng.random() < spec.no_show
        minutes = handling_minutes(spec.handling, scenario.handling[code], spec.handling_cv, rng.random())
        score = ratings.choices(scores, weights)[0] if spec.rated and ratings.random() < spec.rated else None
        visitors.append(Visitor(i, t, code, priority, no_show, minutes, score))
    return visitors

"""Queueing references the simulator is checked against.

* Erlang C: the stationary M/M/c queue (Poisson arrivals, exponential handling,
  c identical windows serving everyone). Exact for that model.
* The fluid bound: the day's expected arrivals treated as a deterministic flow
  into the windows on duty (breaks taken out), every window serving every
  service at full speed. Served shortest-handling-first it is a lower bound on
  the mean wait of any policy (no order keeps fewer people waiting, and
  randomness only adds queueing); served first-come-first-served it is what
  pooled FCFS tends to in a very busy hall.
"""

from __future__ import annotations

import math
from collections import deque


def erlang_b(servers: int, load: float) -> float:
    """Blocking probability of c servers offered `load` erlangs (stable recursion)."""
    b = 1.0
    for k in range(1, servers + 1):
        b = load * b / (k + load * b)
    return b


def erlang_c(servers: int, load: float) -> float:
    """Probability that an arrival waits, for c servers offered `load` erlangs; 1 when overloaded."""
    if servers <= 0 or load >= servers:
        return 1.0
    if load <= 0:
        return 0.0
    b = erlang_b(servers, load)
    rho = load / servers
    return b / (1 - rho * (1 - b))


def erlang_c_wait(servers: int, arrivals_per_minute: float, mean_handling: float) -> float:
    """Mean wait in minutes of the M/M/c queue; infinity when the windows cannot keep up."""
    load = arrivals_per_minute * mean_handling
    if load >= servers:
        return math.inf
    return erlang_c(servers, load) * mean_handling / (servers - load)


def fluid_mean_wait(
    rates: list[tuple[float, float, dict[str, float]]],
    handling: dict[str, float],
    capacity,
    closing: float,
    *,
    order: str = "shortest",
    step: float = 0.25,
) -> float:
    """Mean wait (minutes) of the fluid hall.

    `rates`: piecewise constant arrivals per minute per service; `capacity(m)`:
    windows working at minute m; at `closing` whoever still waits leaves (as the
    engine expires them), having waited until then. `order` is "shortest"
    (shortest handling first: the lower bound) or "fcfs".
    """
    start = rates[0][0]
    total_in = 0.0
    area = 0.0
    cohorts: deque[list] = deque()  # FCFS: [arrival, {service: amount}]
    queue = {code: 0.0 for code in handling}  # shortest-first: people waiting per service
    by_speed = sorted(handling, key=handling.get)
    t = start
    seg = 0
    while t < closing - 1e-9:
        dt = min(step, closing - t)
        while seg < len(rates) - 1 and rates[seg][1] <= t + 1e-9:
            seg += 1
        a, b, seg_rates = rates[seg]
        arriving = {code: r * dt for code, r in seg_rates.items() if r > 0 and a <= t < b}
        total_in += sum(arriving.values())
        work = capacity(t + dt / 2) * dt
        if order == "fcfs":
            before = sum(sum(c[1].values()) for c in cohorts)
            if arriving:
                cohorts.append([t, dict(arriving)])
            while cohorts and work > 1e-12:
                amounts = cohorts[0][1]
                need = sum(amounts[c] * handling[c] for c in amounts)
                if need <= work:
                    work -= need
                    cohorts.popleft()
                else:
                    share = work / need
                    for c in amounts:
                        amounts[c] *= 1 - share
                    work = 0.0
            after = sum(sum(c[1].values()) for c in cohorts)
        else:
            before = sum(queue.values())
            for code, amount in arriving.items():
                queue[code] += amount
            for code in by_speed:
                if work <= 1e-12:
                    break
                served = min(queue[code], work / handling[code])
                queue[code] -= served
                work -= served * handling[code]
            after = sum(queue.values())
        # Arrivals spread over the step wait about half of it if they are not served in it.
        area += (before + after) / 2 * dt
        t += dt
    return area / total_in if total_in else 0.0

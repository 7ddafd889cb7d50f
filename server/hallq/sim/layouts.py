"""The policies the simulator compares: which services each window serves, how
the engine chooses, and how fast each window works on each service.

* dedicated       every window serves one service (its main one), oldest first;
* fqm             assign at issue: each ticket goes to the least-loaded window
                  serving its service and waits in that window's own line
                  (how FQM-style systems work); windows serve all they are qualified for;
* pooled          every window serves every service, oldest first, all at full
                  speed: the ideal comprehensive hall, and the Erlang C model;
* hallq           windows serve what the scenario starts them on; the engine
                  calls with HallQ's accumulating-priority policy;
* hallq+balancer  the same, with the live balancer in auto mode.
"""

from __future__ import annotations

from dataclasses import dataclass

from hallq.core.balancer.balancer import Balancer, BalancerSettings
from hallq.core.calling.accumulating import policy_for_hall
from hallq.core.calling.policy import FirstComeFirstServedPolicy

from ..core.txn import find_hall
from .scenario import Scenario, WindowPlan


@dataclass(frozen=True)
class Layout:
    name: str
    description: str
    assign_at_issue: bool = False
    balancer: bool = False
    ideal_speed: bool = False
    hallq: bool = False  # uses HallQ's policy (and is where predictions are measured)


LAYOUTS = {
    layout.name: layout
    for layout in (
        Layout("dedicated", "one service per window, oldest first"),
        Layout("fqm", "assign at issue to the least-loaded window", assign_at_issue=True),
        Layout("pooled", "every window serves everything, oldest first", ideal_speed=True),
        Layout("hallq", "HallQ's accumulating-priority policy", hallq=True),
        Layout("hallq+balancer", "HallQ's policy with the live balancer (auto)", hallq=True, balancer=True),
    )
}


def first_main(plan: WindowPlan, order: list[str]) -> str:
    return next(c for c in order if c in plan.main)


def start_services(scenario: Scenario, plan: WindowPlan) -> dict[str, float]:
    """What a window serves when the day begins under HallQ (scenario's `start`)."""
    if scenario.spec.start == "main":
        return {c: w for c, w in plan.services.items() if c in plan.main} or {c: 1.0 for c in plan.main}
    if scenario.spec.start == "qualified":
        return {c: 1.0 for c in plan.qualified}
    return dict(plan.services)


def window_services(layout: Layout, scenario: Scenario) -> dict[int, dict[str, float]]:
    """window number → services and weights at the start of the day."""
    out = {}
    for plan in scenario.windows:
        if layout.name == "dedicated":
            out[plan.number] = {first_main(plan, scenario.services): 1.0}
        elif layout.name == "pooled":
            out[plan.number] = {c: 1.0 for c in scenario.services}
        elif layout.name == "fqm":
            out[plan.number] = {c: 1.0 for c in plan.qualified}
        else:
            out[plan.number] = start_services(scenario, plan)
    return out


def speed(layout: Layout, scenario: Scenario, plan: WindowPlan, service: str) -> float:
    """How fast this window handles this service (1.0 = the service's mean handling time)."""
    if layout.ideal_speed:
        return 1.0
    return plan.qualified.get(service, scenario.spec.unqualified_proficiency)


def engine_policy(layout: Layout, scenario: Scenario, engine):
    """The calling policy the engine uses for this layout."""
    if not layout.hallq:
        return FirstComeFirstServedPolicy()
    with engine.db.read() as session:
        hall = find_hall(session, engine.slug)
        return policy_for_hall(
            session,
            hall,
            targets=scenario.targets,
            proficiency={p.number: p.qualified for p in scenario.windows},
            patience=scenario.spec.patience,
        )


def make_balancer(layout: Layout, scenario: Scenario, services: dict[int, dict[str, float]]) -> Balancer | None:
    if not layout.balancer:
        return None
    data = {
        "mode": "auto",
        "window_qualifications": {p.number: p.qualified for p in scenario.windows},
        "home": services,
        "targets": scenario.targets,
        "default_target": scenario.spec.target_minutes,
    }
    data.update({k: v for k, v in scenario.balancer.items() if k not in ("interval_minutes",)})
    return Balancer(BalancerSettings.parse(data))

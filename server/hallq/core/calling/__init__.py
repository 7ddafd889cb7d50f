"""Which waiting ticket a window calls next: the policies, and the one registry
that names them (the `calling_policy` setting; docs/calling-policy.md)."""

from __future__ import annotations

from hallq.core.calling.accumulating import AccumulatingPriorityPolicy
from hallq.core.calling.policy import (
    AgingPriorityPolicy,
    CallingPolicy,
    FirstComeFirstServedPolicy,
)

POLICIES: dict[str, type] = {p.name: p for p in (AgingPriorityPolicy, FirstComeFirstServedPolicy, AccumulatingPriorityPolicy)}


def make_policy(name: str) -> CallingPolicy:
    """The policy the `calling_policy` setting names (ValueError, listing the known ones, for any other)."""
    try:
        return POLICIES[name]()
    except KeyError:
        raise ValueError(f"unknown calling policy {name!r}; known: {', '.join(POLICIES)}") from None

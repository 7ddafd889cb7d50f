"""Domain events and the one interface through which they leave the core.

Every change of state produces exactly one event. The core collects them while
a transaction runs; the service layer hands them to a Publisher only after the
transaction committed, so nobody hears of a change that was rolled back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class DomainEvent:
    kind: str  # e.g. "ticket.called", "window.paused"
    hall: str  # hall slug
    at: datetime
    window: int | None = None  # window number, when the event concerns one
    data: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "hall": self.hall,
            "window": self.window,
            "at": self.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "data": self.data,
        }


class Publisher(Protocol):
    def publish(self, event: DomainEvent) -> None: ...


class RecordingPublisher:
    """Keeps every event in a list (tests, the simulator)."""

    def __init__(self):
        self.events: list[DomainEvent] = []

    def publish(self, event: DomainEvent) -> None:
        self.events.append(event)

    def kinds(self) -> list[str]:
        return [e.kind for e in self.events]


class FanOutPublisher:
    """Hands each event to several publishers; one failing does not stop the rest."""

    def __init__(self, *publishers: Publisher, on_error=None):
        self.publishers = list(publishers)
        self.on_error = on_error

    def add(self, publisher: Publisher) -> None:
        self.publishers.append(publisher)

    def remove(self, publisher: Publisher) -> None:
        """Stop handing events to `publisher` (a transport that stops); nothing if it was not here."""
        if publisher in self.publishers:
            self.publishers.remove(publisher)

    def publish(self, event: DomainEvent) -> None:
        for p in self.publishers:
            try:
                p.publish(event)
            except Exception as exc:  # a broken transport must not undo a committed change
                if self.on_error:
                    self.on_error(p, event, exc)

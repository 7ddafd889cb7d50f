"""The shapes in hallq_protocol are what the engine really builds and what it knows:
the views have exactly the fields the protocol defines, and the protocol's states
and priorities are the engine's."""

from __future__ import annotations

import typing

from hallq.core.enums import Priority, TicketStatus, WindowState
from hallq_protocol import shapes


def fields(typed) -> set[str]:
    return set(typing.get_type_hints(typed))


def test_the_protocol_knows_every_state_and_priority_of_the_engine():
    assert set(typing.get_args(shapes.TicketStatus)) == {s.value for s in TicketStatus}
    assert set(typing.get_args(shapes.WindowState)) == {s.value for s in WindowState}
    assert set(typing.get_args(shapes.Priority)) == {p.value for p in Priority}


def test_tickets_windows_and_queues_have_exactly_the_protocols_fields(hall, manager):
    ticket = hall.issue_ticket("district", service="SI", actor=manager)
    assert set(ticket) == fields(shapes.Ticket)
    hall.window_action("district", 5, "open", actor=manager)
    called = hall.window_action("district", 5, "call-next", actor=manager)
    assert set(called) - {"last_ticket"} == fields(shapes.Window)  # an action's answer adds the ticket it moved
    assert set(called["last_ticket"]) == fields(shapes.Ticket)
    assert set(called["ticket"]) == fields(shapes.TicketAtWindow)
    assert set(called["staff"]) == fields(shapes.Staff)
    assert set(called["services"][0]) == fields(shapes.WindowService)
    assert set(called["last_ticket"]["window"]) == fields(shapes.WindowRef)
    queue = hall.queue("district")
    assert queue and all(set(entry) == fields(shapes.QueueEntry) for entry in queue)

"""Publishes domain events to Socket.IO rooms.

Window and ticket events go out as they happen, to the hall's room (and the
window's). Device events (`device.*`: availability, paper, registered, revoked)
and balancer events (`balancer.settings`: which manager changed its mode) and 好差评
cases (`case.opened`, `case.changed`) go to
the hall's manager room only: the public room feeds displays, kiosks and phone
trackers, which have no business knowing the hall's devices or managers. The
public rooms get events without tickets' tracking ids (rooms.public); a ticket's
own tracker hears them in full in the ticket's room. The queue summary is a
snapshot, not an event: it comes computed (core.derived, once for every
transport) and goes to the hall's room as `queue`.
"""

from __future__ import annotations

from hallq_protocol.live import (
    hall_room,
    manager_room,
    public,
    ticket_room,
    window_room,
)

from ...core.derived import QUEUE_SUMMARY
from ...core.events import DomainEvent


class SocketIOPublisher:
    def __init__(self, socketio):
        self.socketio = socketio

    def publish(self, event: DomainEvent) -> None:
        if event.kind == QUEUE_SUMMARY:
            self.socketio.emit("queue", {"hall": event.hall, "services": event.data["services"]}, to=hall_room(event.hall))
            return
        payload = event.as_dict()
        if event.kind.startswith(("device.", "balancer.", "case.")):
            self.socketio.emit("event", payload, to=manager_room(event.hall))
            return
        rooms = [hall_room(event.hall)]
        if event.window is not None:
            rooms.append(window_room(event.hall, event.window))
        self.socketio.emit("event", public(payload), to=rooms)  # a client in both rooms gets it once
        ticket = event.data.get("ticket")
        if isinstance(ticket, str):  # the ticket's own tracker hears it in full
            self.socketio.emit("event", payload, to=ticket_room(event.hall, ticket))

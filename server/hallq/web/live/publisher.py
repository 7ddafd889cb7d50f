"""Publishes domain events to Socket.IO rooms.

Window and ticket events go out as they happen, to the hall's room (and the
window's). Device events (`device.*`: availability, paper, registered, revoked)
and balancer events (`balancer.settings`: which manager changed its mode) go to
the hall's manager room only: the public room feeds displays, kiosks and phone
trackers, which have no business knowing the hall's devices or managers. The
public rooms get events without tickets' tracking ids (rooms.public); a ticket's
own tracker hears them in full in the ticket's room. The queue summary is a
snapshot, not an event: after any change it is recomputed at most once per
`queue_interval` seconds per hall and sent to the hall's room, so a burst of
200 tickets costs one query, not 200.
"""

from __future__ import annotations

from hallq_protocol.live import (
    hall_room,
    manager_room,
    public,
    ticket_room,
    window_room,
)

from ...coalesce import Coalescer
from ...core.events import DomainEvent


class SocketIOPublisher:
    def __init__(self, socketio, service, queue_interval: float = 0.3):
        self.socketio = socketio
        self.service = service
        self._queue_updates = Coalescer(self._send_queue, queue_interval)

    def publish(self, event: DomainEvent) -> None:
        payload = event.as_dict()
        if event.kind.startswith(("device.", "balancer.")):
            self.socketio.emit("event", payload, to=manager_room(event.hall))
            return
        rooms = [hall_room(event.hall)]
        if event.window is not None:
            rooms.append(window_room(event.hall, event.window))
        self.socketio.emit("event", public(payload), to=rooms)  # a client in both rooms gets it once
        ticket = event.data.get("ticket")
        if isinstance(ticket, str):  # the ticket's own tracker hears it in full
            self.socketio.emit("event", payload, to=ticket_room(event.hall, ticket))
        if event.kind.startswith(("ticket.", "window.", "hall.")):
            self._queue_updates.request(event.hall)

    def _send_queue(self, hall: str) -> None:
        self.socketio.emit("queue", {"hall": hall, "services": self.service.queue(hall)}, to=hall_room(hall))

"""Live updates to browsers over Socket.IO: rooms per hall and per window."""

from __future__ import annotations

from .events import register_handlers
from .publisher import SocketIOPublisher


def init_live(hallq, socketio) -> None:
    """Send every domain event to the browsers watching its hall or window."""
    register_handlers(socketio)
    hallq.live = SocketIOPublisher(socketio)
    hallq.halls.subscribe(hallq.live)

"""Live updates to browsers over Socket.IO: rooms per hall and per window."""

from __future__ import annotations

from .publisher import SocketIOPublisher
from . import events  # noqa: F401  (registers the Socket.IO handlers)


def init_live(app, socketio, fanout) -> None:
    """Send every domain event to the browsers watching its hall or window."""
    publisher = SocketIOPublisher(socketio, app.extensions["hallq"])
    fanout.add(publisher)
    app.extensions["hallq.live"] = publisher

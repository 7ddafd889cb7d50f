"""Socket.IO handlers: a client joins a hall (and optionally a window) and gets a snapshot.

Connections are accepted only from the page's own origin (Socket.IO's default
when no CORS origins are configured). The hall and window rooms are public:
displays, kiosks and phone trackers join them without signing in, and they
carry only what a hall screen shows. Joining with {"manager": true} needs a
signed-in manager (or admin) of that hall: the session cookie of the handshake
is read by Flask-Login as for any page.
"""

from __future__ import annotations

from flask import request
from flask_login import current_user
from flask_socketio import emit, join_room

from hallq_protocol.live import (
    BadJoin,
    error,
    hall_room,
    manager_room,
    parse_join,
    public,
    ticket_room,
    window_room,
)

from ...core.enums import Role
from ...core.errors import HallError, NotFound


def _signed_in():
    return current_user.actor if current_user and current_user.is_authenticated else None


def on_join(data):
    """{"hall": slug, "window": n?, "manager": bool?, "ticket": tracking id?} → joins the rooms and answers with a snapshot.

    The snapshot, like the events of the public rooms, carries no tickets'
    tracking ids (managers excepted). A phone tracker names its own ticket's
    tracking id (never its number, which the screens show) to hear that
    ticket's events in full.
    """
    from ..context import hall_service, office

    try:
        join = parse_join(data)
    except BadJoin as exc:
        return exc.answer
    hall, window, ticket = join.hall, join.window, join.ticket
    service = hall_service()
    try:
        snapshot = {"hall": service.hall_info(hall), "windows": service.windows(hall), "queue": service.queue(hall)}
        if window is not None:
            snapshot["window"] = service.window(hall, window)
        if ticket is not None and service.ticket(hall, ticket).get("id") != ticket:
            raise NotFound("unknown_ticket", f"no ticket {ticket!r} in hall {hall}")  # a number is not a tracking id
        if join.manager:
            actor = _signed_in()
            if actor is None:
                return error("login_required", "sign in as a manager of this hall")
            if actor.role not in (Role.MANAGER, Role.ADMIN) or (actor.hall_id is not None and actor.hall_id != office().hall_id(hall)):
                return error("manager_only", f"only a manager of hall {hall} may join its manager room")
    except HallError as exc:
        return {"ok": False, "error": exc.as_dict()}
    rooms = [hall_room(hall), *([window_room(hall, window)] if window is not None else []),
             *([ticket_room(hall, ticket)] if ticket is not None else []), *([manager_room(hall)] if join.manager else [])]
    try:
        for room in rooms:
            join_room(room)
    except (KeyError, ValueError):  # python-socketio's words for "that session is gone"
        # The page was closed or reloaded while its snapshot was read: nothing to join, no one to answer.
        return None
    emit("snapshot", snapshot if join.manager else public(snapshot), to=request.sid)
    return {"ok": True}


def register_handlers(socketio) -> None:
    """Attach the handlers to the app's Socket.IO server; called for every app created,
    because Flask-SocketIO binds handlers to the server that exists at the time."""
    socketio.on_event("join", on_join)

"""Socket.IO handlers: a client joins a hall (and optionally a window) and gets a snapshot."""

from __future__ import annotations

from flask import request
from flask_socketio import emit, join_room

from ...core.errors import HallError
from ..extensions import socketio
from .rooms import hall_room, window_room


def _error(code: str, message: str) -> dict:
    return {"ok": False, "error": {"code": code, "message": message}}


@socketio.on("join")
def on_join(data):
    """{"hall": slug, "window": n?} → joins the rooms and answers with a full snapshot."""
    from .. import hall_service

    if not isinstance(data, dict) or not isinstance(data.get("hall"), str):
        return _error("bad_request", "send {'hall': slug, 'window': number?}")
    hall = data["hall"]
    window = data.get("window")
    if window is not None and (isinstance(window, bool) or not isinstance(window, int)):
        return _error("bad_request", "window must be a number")
    service = hall_service()
    try:
        snapshot = {"hall": service.hall_info(hall), "windows": service.windows(hall), "queue": service.queue(hall)}
        if window is not None:
            snapshot["window"] = service.window(hall, window)
    except HallError as exc:
        return {"ok": False, "error": exc.as_dict()}
    join_room(hall_room(hall))
    if window is not None:
        join_room(window_room(hall, window))
    emit("snapshot", snapshot, to=request.sid)
    return {"ok": True}

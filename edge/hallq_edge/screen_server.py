"""Serves the display pages from displays/ to the local Chromium kiosk and
pushes the ScreenAgent's updates to them over Socket.IO (Flask-SocketIO in
threading mode), speaking the server's own protocol."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, abort, request, send_from_directory
from flask_socketio import SocketIO, emit, join_room

from hallq_protocol.headers import security_headers
from hallq_protocol.live import BadJoin, parse_join

HALL_ROOM = "hall"  # one call screen shows one hall: every page is in its room


def installed_displays() -> Path:
    """The display pages installed with HallQ (hallq/displays), found without importing the server's code."""
    import importlib.util

    spec = importlib.util.find_spec("hallq")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("HallQ's display pages are not installed: set [screen] displays_dir")
    return Path(list(spec.submodule_search_locations)[0]) / "displays"


class PageHub:
    """The Socket.IO side of a call screen; agent.hub = PageHub(...)."""

    def __init__(self, displays_dir: str | Path, *, page: str = "hall.html"):
        self.displays = Path(displays_dir)
        self.page = page
        self.agent = None
        self.pages: dict[str, int | None] = {}  # Socket.IO session → the window it shows (None: the hall)
        self.app = Flask(__name__)
        self.socketio = SocketIO(self.app, async_mode="threading")
        self.app.add_url_rule("/", "index", self._index)
        self.app.add_url_rule("/<path:name>", "file", self._file)
        self.socketio.on_event("join", self._join)
        self.socketio.on_event("disconnect", lambda *a: self.pages.pop(request.sid, None))
        self.app.after_request(self._headers)

    def attach(self, agent) -> "PageHub":
        self.agent = agent
        agent.hub = self
        return self

    # -- pages ------------------------------------------------------------

    @staticmethod
    def _headers(response):
        """The same security headers as the server's pages: no inline code, framed by nobody."""
        for name, value in security_headers(secure=request.is_secure).items():
            response.headers.setdefault(name, value)
        return response

    def _index(self):
        return self._file(self.page)

    def _file(self, name: str):
        if not (self.displays / name).is_file():
            abort(404)
        return send_from_directory(self.displays, name)

    def _join(self, data):
        try:
            join = parse_join(data)
        except BadJoin as exc:
            return exc.answer
        join_room(HALL_ROOM)
        self.pages[request.sid] = join.window
        emit("snapshot", self.agent.snapshot(join.window), to=request.sid)
        return {"ok": True}

    # -- what the agent pushes ------------------------------------------------

    def refresh(self) -> None:
        """Send every page a fresh snapshot (the link went down or came back)."""
        for sid, window in list(self.pages.items()):
            self.socketio.emit("snapshot", self.agent.snapshot(window), to=sid)

    def event(self, event: dict) -> None:
        self.socketio.emit("event", event, to=HALL_ROOM)

    def queue(self, body: dict) -> None:
        self.socketio.emit("queue", body, to=HALL_ROOM)

    def run(self, host: str = "127.0.0.1", port: int = 8080) -> None:
        """Serve until the process ends (Werkzeug: one local Chromium is the only client)."""
        import logging

        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self.socketio.run(self.app, host=host, port=port, allow_unsafe_werkzeug=True)

"""The live connections one server process holds, and a clear refusal past them.

Each live (Socket.IO) connection holds one of the process's threads while it is open (see
web/server.py). Past `limit` open sessions a new one is answered at once with HTTP 503 and a
JSON error (`server_full`, with Retry-After), before Engine.IO starts a session for it: the
browser's client sees the connection fail, shows its "reconnecting" banner and tries again after
its back-off, instead of waiting on a thread that is never free. Requests of sessions already open
(they carry their `sid`) always pass.
"""

from __future__ import annotations

import json
from typing import Callable
from urllib.parse import parse_qs

RETRY_AFTER = 5  # seconds


def open_sessions(engineio) -> Callable[[], int]:
    """How many of an Engine.IO server's sessions are open. Not len(engineio.sockets): under gunicorn
    a WebSocket session that has ended stays in that map until Engine.IO's service task sweeps it,
    up to a ping timeout (20 s) later, and counting it would refuse newcomers for nothing."""
    return lambda: sum(1 for session in list(engineio.sockets.values()) if not session.closed)


class LiveLimit:
    """WSGI middleware in front of Socket.IO's."""

    def __init__(self, app: Callable, *, open_sessions: Callable[[], int], limit: int, path: str = "/socket.io/"):
        self.app = app
        self.open_sessions = open_sessions
        self.limit = limit
        self.path = path

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO", "").startswith(self.path) and self._new_session(environ) and self.open_sessions() >= self.limit:
            body = json.dumps({"error": {
                "code": "server_full",
                "message": f"this server holds {self.limit} live connections and all are in use; try again in {RETRY_AFTER} s",
                "retry_after": RETRY_AFTER,
            }}).encode()
            start_response("503 Service Unavailable", [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                                                       ("Retry-After", str(RETRY_AFTER)), ("Cache-Control", "no-store")])
            return [body]
        return self.app(environ, start_response)

    @staticmethod
    def _new_session(environ) -> bool:
        return "sid" not in parse_qs(environ.get("QUERY_STRING", ""))

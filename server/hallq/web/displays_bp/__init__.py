"""Serves the display pages (the repository's displays/ folder) at /displays/.

The same files are served by the edge call-screen agent, so they are plain
HTML, CSS and JavaScript with relative paths and no templating."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Blueprint, abort, current_app, request, send_file, send_from_directory

from hallq_edge.speech import TICKET_NUMBER

from ..context import hallq

bp = Blueprint("displays", __name__, url_prefix="/displays")


def displays_dir() -> Path:
    """HALLQ_DISPLAYS_DIR, else the pages installed with HallQ (hallq/displays:
    in the repository a link to displays/, in a wheel a copy of it)."""
    configured = current_app.config.get("HALLQ_DISPLAYS_DIR") or os.environ.get("HALLQ_DISPLAYS_DIR")
    return Path(configured) if configured else Path(__file__).resolve().parents[2] / "displays"


@bp.get("/")
def index():
    return send_from_directory(displays_dir(), "index.html")


VOICE_WAIT_SECONDS = 8.0


@bp.get("/voice/call.wav")
def call_voice():
    """GET voice/call.wav?number=A032&window=5&lang=zh → the call as WAV; 404 when the server has no voice
    (voice_engine = none) and 503 when it cannot render it (no espeak-ng, a missing clip): the screen then uses its own voice."""
    number = request.args.get("number", "").upper()
    lang = request.args.get("lang", "zh")
    try:
        window = int(request.args.get("window", ""))
    except ValueError:
        window = 0
    if not TICKET_NUMBER.fullmatch(number) or not 0 < window < 10000 or lang not in ("zh", "en"):
        abort(400)
    cache = hallq().voice
    if cache is None:
        abort(404)
    path = cache.get(number, window, lang, timeout=VOICE_WAIT_SECONDS)
    if path is None:
        abort(503)
    # The same sentence is the same sound, until the hall's voice settings change: revalidated, not re-sent.
    return send_file(path, mimetype="audio/wav", conditional=True, max_age=0)


@bp.get("/<path:name>")
def files(name):
    folder = displays_dir()
    if not folder.is_dir():
        abort(404)
    response = send_from_directory(folder, name, max_age=0 if name.endswith(".html") else 3600)
    return response

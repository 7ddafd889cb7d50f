"""Serves the display pages (the repository's displays/ folder) at /displays/.

The same files are served by the edge call-screen agent, so they are plain
HTML, CSS and JavaScript with relative paths and no templating."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Blueprint, abort, current_app, send_from_directory

bp = Blueprint("displays", __name__, url_prefix="/displays")


def displays_dir() -> Path:
    """HALLQ_DISPLAYS_DIR, else the pages installed with HallQ (hallq/displays:
    in the repository a link to displays/, in a wheel a copy of it)."""
    configured = current_app.config.get("HALLQ_DISPLAYS_DIR") or os.environ.get("HALLQ_DISPLAYS_DIR")
    return Path(configured) if configured else Path(__file__).resolve().parents[2] / "displays"


@bp.get("/")
def index():
    return send_from_directory(displays_dir(), "index.html")


@bp.get("/<path:name>")
def files(name):
    folder = displays_dir()
    if not folder.is_dir():
        abort(404)
    response = send_from_directory(folder, name, max_age=0 if name.endswith(".html") else 3600)
    return response

"""The staff window terminal: choose a window, then call, serve and complete."""

from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff")

from . import routes  # noqa: E402,F401

"""The phone tracker: a ticket's position, people ahead and wait, live; no sign-in."""

from flask import Blueprint

bp = Blueprint("tracker", __name__, url_prefix="/t")

from . import routes  # noqa: E402,F401

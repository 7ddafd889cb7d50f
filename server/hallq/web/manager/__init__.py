"""The manager's live hall: windows by zone, queues, alerts, rebalancing in place."""

from flask import Blueprint

bp = Blueprint("manager", __name__, url_prefix="/manager")

from . import routes  # noqa: E402,F401

"""The touch kiosk: large buttons by zone and service; the ticket on screen and on paper."""

from flask import Blueprint

bp = Blueprint("kiosk", __name__, url_prefix="/kiosk")

from . import routes  # noqa: E402,F401

"""Administration: services, zones, windows, accounts and devices, without editing files."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from . import routes  # noqa: E402,F401

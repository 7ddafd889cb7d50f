"""REST API under /api/v1: JSON in, JSON out, every error {"error": {code, message}}."""

from flask import Blueprint

bp = Blueprint("api", __name__)

from . import balancer, errors, routes  # noqa: E402,F401  (registers handlers and routes)

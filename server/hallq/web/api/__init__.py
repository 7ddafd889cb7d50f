"""REST API under /api/v1: JSON in, JSON out, every error {"error": {code, message}}."""

from . import balancer, errors, reviews, routes  # noqa: E402,F401  (registers handlers and routes)
from .blueprint import bp  # noqa: F401  (what create_app registers)

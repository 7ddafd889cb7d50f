"""Administration: services, zones, windows, accounts and devices, without editing files."""

from .routes import bp  # noqa: F401
from . import audit  # noqa: F401  (its routes)

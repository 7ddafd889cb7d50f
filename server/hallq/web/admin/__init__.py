"""Administration: services, zones, windows, accounts and devices, without editing files."""

from .routes import bp  # noqa: F401

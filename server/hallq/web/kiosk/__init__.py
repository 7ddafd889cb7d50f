"""The touch kiosk: large buttons by zone and service; the ticket on screen and on paper."""

from .routes import bp  # noqa: F401

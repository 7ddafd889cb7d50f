"""The manager's live hall: windows by zone, queues, alerts, rebalancing in place."""

from .routes import bp  # noqa: F401

"""The staff window terminal: choose a window, then call, serve and complete."""

from .routes import bp  # noqa: F401

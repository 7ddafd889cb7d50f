"""The phone tracker: a ticket's position, people ahead and wait, live; no sign-in."""

from .routes import bp  # noqa: F401

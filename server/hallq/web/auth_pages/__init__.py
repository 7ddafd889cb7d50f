"""Sign-in and sign-out pages, and the home page that sends each role to its page."""

from .routes import bp  # noqa: F401

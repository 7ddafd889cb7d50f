"""Sign-in and sign-out pages, and the home page that sends each role to its page."""

from flask import Blueprint

bp = Blueprint("auth_pages", __name__)

from . import routes  # noqa: E402,F401

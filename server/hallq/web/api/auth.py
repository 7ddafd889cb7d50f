"""Who is calling the API: a Bearer token, or a signed-in browser session.

A token request carries no cookie and needs no CSRF token; a session request
that changes anything must send the session's CSRF token (X-CSRFToken header).
"""

from __future__ import annotations

from dataclasses import replace

from flask import g, request
from flask_login import current_user
from flask_wtf.csrf import validate_csrf
from wtforms.validators import ValidationError

from ...core.errors import Forbidden, HallError
from ...core.txn import Actor
from ..login import origin

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class Unauthorized(HallError):
    kind = "unauthorized"


def current_actor(required: bool = True) -> Actor | None:
    """The caller as an Actor; raise Unauthorized when required and nobody is signed in."""
    if "actor" in g:
        return g.actor
    from ..context import office

    actor = None
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("bad_authorization", "send 'Authorization: Bearer <token>'")
        actor = office().actor_for_token(token.strip())
        if actor is None:
            raise Unauthorized("bad_token", "the API token is unknown or revoked")
        actor = replace(actor, origin=origin())
    elif current_user.is_authenticated:
        actor = current_user.actor
        if request.method not in SAFE_METHODS:
            try:
                validate_csrf(request.headers.get("X-CSRFToken", ""))
            except ValidationError as exc:
                raise Forbidden("csrf_failed", f"missing or bad CSRF token: {exc}") from None
    if actor is None and required:
        raise Unauthorized("login_required", "sign in or send an API token")
    g.actor = actor
    return actor

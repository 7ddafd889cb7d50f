"""Signing in, the same way through the form (/login) and the API (POST /api/v1/session):
failed attempts limited per client address and per user name (ratelimit.py: in memory, or in
Redis when several processes serve), and every attempt that was checked audited
(`auth.sign_in`, `auth.sign_in_failed`, with the address and the way it came)."""

from __future__ import annotations

import logging

from flask import request

from ..core.txn import Actor
from .context import hallq, office
from .ratelimit import LoginLimiter, make_limiter

log = logging.getLogger("hallq.web.signin")


def limiter() -> LoginLimiter:
    running = hallq()
    if running.login_limiter is None:
        running.login_limiter = make_limiter(running.settings)
    return running.login_limiter


def attempt(name: str, password: str, *, via: str) -> tuple[Actor | None, int]:
    """(the actor, 0) when the name and password are good; (None, 0) when not; (None, seconds to
    wait) when too many attempts failed before, in which case the password is not even checked."""
    address = request.remote_addr or ""
    keys = (f"ip:{address}", f"name:{name.lower()}")
    wait = limiter().retry_after(*keys)
    if wait:
        log.warning("sign-in as %r from %s refused: too many failures (retry in %d s)", name, address, wait)
        return None, wait
    actor = office().sign_in(name, password, address=address, via=via)
    if actor is None:
        limiter().failed(*keys)
    else:
        limiter().succeeded(keys[1])
    return actor, 0

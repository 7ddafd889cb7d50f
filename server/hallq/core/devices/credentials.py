"""A device's credentials. Its password is stored as a Mosquitto-compatible
PBKDF2-SHA512 hash (`$7$...`), so `hallq broker-config` can write Mosquitto's
password file from the registry without ever knowing a password, and the
embedded broker checks the same hash."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

# Mosquitto's $7$ format; passwords are 24 random bytes, so a modest count suffices.
PBKDF2_ITERATIONS = 1000


def hash_password(password: str, *, salt: bytes | None = None, iterations: int = PBKDF2_ITERATIONS) -> str:
    """A Mosquitto `$7$` hash: PBKDF2-HMAC-SHA512, 12-byte salt, base64 parts."""
    salt = salt or secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """True when `password` matches a `$7$` hash (constant-time comparison)."""
    try:
        _, kind, iterations, salt, digest = stored.split("$")
        if kind != "7":
            return False
        want = base64.b64decode(digest)
        got = hashlib.pbkdf2_hmac("sha512", (password or "").encode(), base64.b64decode(salt), int(iterations))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(want, got)


def username_for(hall_slug: str, name: str) -> str:
    return f"{hall_slug}.{name}"

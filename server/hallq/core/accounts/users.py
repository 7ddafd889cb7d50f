"""Accounts, API tokens and who may do what."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam
from sqlmodel import Session, select

from hallq.core.enums import Role
from hallq.core.errors import Conflict, Forbidden, Invalid, NotFound
from hallq.core.models import ApiToken, Hall, User, Window
from hallq.core.txn import Actor

_hasher = PasswordHasher()
_NAME = re.compile(r"^[A-Za-z0-9_.\-]{2,64}$")
MIN_PASSWORD = 8
# Verified against when the user does not exist, so a login takes as long either way.
_DUMMY_HASH = _hasher.hash("hallq-no-such-user")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_user(
    session: Session,
    *,
    name: str,
    role: Role | str,
    password: str,
    now: datetime,
    hall: Hall | None = None,
    display_name: str = "",
    staff_no: str = "",
) -> User:
    """Create an account; staff and managers must belong to a hall."""
    if not _NAME.match(name or ""):
        raise Invalid("bad_name", "a user name has 2–64 letters, digits, dots, dashes or underscores")
    try:
        role = Role(role)
    except ValueError:
        raise Invalid("bad_role", f"role must be one of {', '.join(r.value for r in Role)}") from None
    if role in (Role.STAFF, Role.MANAGER, Role.DEVICE) and hall is None:
        raise Invalid("hall_required", f"a {role} account belongs to a hall")
    if len(password or "") < MIN_PASSWORD:
        raise Invalid("weak_password", f"a password has at least {MIN_PASSWORD} characters")
    if session.exec(select(User).where(User.name == name)).first():
        raise Conflict("user_exists", f"user {name} already exists")
    user = User(
        name=name,
        role=role,
        hall_id=hall.id if hall else None,
        password_hash=hash_password(password),
        display_name=display_name,
        staff_no=staff_no,
        created_at=now,
    )
    session.add(user)
    session.flush()
    return user


def user_named(session: Session, name: str) -> User | None:
    return session.exec(select(User).where(User.name == name)).first()


def authenticate(session: Session, name: str, password: str) -> User | None:
    """The active user with this name and password, or None."""
    user = session.exec(select(User).where(User.name == name)).first()
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, *, user_name: str, now: datetime, label: str = "") -> str:
    """Make a new API token for a user; only its hash is stored, so it is shown once."""
    user = session.exec(select(User).where(User.name == user_name)).first()
    if user is None:
        raise NotFound("unknown_user", f"no user {user_name}")
    token = "hq_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=_digest(token), label=label, created_at=now))
    session.flush()
    return token


_TOKEN_OWNER = (
    select(User.id, User.name, User.role, User.hall_id)
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(ApiToken.token_hash == bindparam("digest"), ApiToken.revoked == False, User.active == True)  # noqa: E712
)


def actor_for_token(session: Session, token: str) -> Actor | None:
    """The owner of an unrevoked token of an active account, as an Actor; one indexed query."""
    row = session.execute(_TOKEN_OWNER, {"digest": _digest(token)}).first()
    if row is None:
        return None
    user_id, name, role, hall_id = row
    return Actor(name=name, role=Role(role), user_id=user_id, hall_id=hall_id)


def actor_for(user: User) -> Actor:
    return Actor(name=user.name, role=user.role, user_id=user.id, hall_id=user.hall_id)


def _in_hall(actor: Actor, hall: Hall) -> bool:
    return actor.hall_id is None or actor.hall_id == hall.id


def sees_tracking_ids(actor: Actor | None, hall: Hall) -> bool:
    """Whether `actor` may learn tickets' tracking ids: the hall's staff, managers and
    administrators, and the server itself. A visitor learns only their own ticket's, from its QR;
    anyone else (screens, devices, the public API) sees numbers, which the screens show anyway."""
    return actor is not None and actor.role in (Role.STAFF, Role.MANAGER, Role.ADMIN, "system") and _in_hall(actor, hall)


def require_issue(actor: Actor | None, hall: Hall) -> None:
    """Anyone signed in for this hall may issue tickets (staff, devices, managers)."""
    if actor is None:
        raise Forbidden("login_required", "sign in or send an API token to issue tickets")
    if not _in_hall(actor, hall):
        raise Forbidden("other_hall", f"your account does not belong to hall {hall.slug}")


def require_manager(actor: Actor, hall: Hall) -> None:
    if actor.role not in (Role.MANAGER, Role.ADMIN) or not _in_hall(actor, hall):
        raise Forbidden("manager_only", f"only a manager of hall {hall.slug} may do this")


def require_window(actor: Actor, hall: Hall, window: Window, action: str) -> None:
    """Staff act only at the window they are signed in to; managers and admins at any of their halls'."""
    if not _in_hall(actor, hall):
        raise Forbidden("other_hall", f"your account does not belong to hall {hall.slug}")
    if actor.role in (Role.MANAGER, Role.ADMIN):
        return
    if actor.role != Role.STAFF:
        raise Forbidden("staff_only", "only window staff and managers act on windows")
    if action == "open":
        return  # opening is how staff sign in to a window; the core refuses a taken one
    if window.staff_id != actor.user_id:
        raise Forbidden("not_your_window", f"you are not signed in at window {window.number}")


def set_password(session: Session, *, name: str, password: str) -> User:
    """Give an existing account a new password."""
    if len(password or "") < MIN_PASSWORD:
        raise Invalid("weak_password", f"a password has at least {MIN_PASSWORD} characters")
    user = session.exec(select(User).where(User.name == name)).first()
    if user is None:
        raise NotFound("unknown_user", f"no user {name}")
    user.password_hash = hash_password(password)
    session.add(user)
    return user

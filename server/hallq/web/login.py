"""Browser sign-in with Flask-Login: the session remembers the user's id only."""

from __future__ import annotations

from dataclasses import dataclass, replace

from flask import request
from flask_login import UserMixin

from ..core.models import User
from ..core.txn import Actor
from .extensions import login_manager


@dataclass
class SignedIn(UserMixin):
    """The signed-in person, as Flask-Login and the hall engine both need them."""

    actor: Actor

    def get_id(self) -> str:
        return str(self.actor.user_id)


def origin() -> str:
    """Where a request comes from, for the audit: the client's address (behind a trusted proxy,
    the address it forwarded: see `proxies` in the settings)."""
    return (request.remote_addr or "")[:64]


@login_manager.user_loader
def _load_user(user_id: str):
    from .context import hall_service

    if not str(user_id).isdigit():
        return None
    with hall_service().db.read() as session:
        user = session.get(User, int(user_id))
        if user is None or not user.active:
            return None
        from hallq.core.accounts.users import actor_for

        return SignedIn(replace(actor_for(user), origin=origin()))

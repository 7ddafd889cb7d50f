"""Browser sign-in with Flask-Login: the session remembers the user's id only."""

from __future__ import annotations

from dataclasses import dataclass

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

        return SignedIn(actor_for(user))

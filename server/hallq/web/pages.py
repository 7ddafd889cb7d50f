"""What the page blueprints share: who may open a page, and the hall it is about."""

from __future__ import annotations

from functools import wraps

from flask import abort, redirect, request, url_for
from flask_login import current_user

from ..core.enums import Role
from ..core.errors import NotFound
from ..core.txn import Actor


def signed_in_actor() -> Actor | None:
    return current_user.actor if current_user.is_authenticated else None


def hall_or_404(slug: str) -> dict:
    """The hall's settings, or a 404 page."""
    from .context import hall_service

    try:
        return hall_service().hall_info(slug)
    except NotFound:
        abort(404)


def belongs_to_hall(actor: Actor, slug: str) -> bool:
    from .context import office

    return actor.hall_id is None or actor.hall_id == office().hall_id(slug)


def roles_required(*roles: Role):
    """Send anonymous visitors to the sign-in page and refuse other roles (403).

    A view with a `hall` argument is also refused to accounts of another hall.
    """

    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            actor = signed_in_actor()
            if actor is None:
                return redirect(url_for("auth_pages.login", next=request.full_path.rstrip("?")))
            if actor.role not in roles:
                abort(403)
            hall = kwargs.get("hall")
            if hall is not None:
                hall_or_404(hall)
                if not belongs_to_hall(actor, hall):
                    abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorate


MANAGERS = (Role.MANAGER, Role.ADMIN)


def register_error_pages(app) -> None:
    """Translated error pages for people; the API keeps its JSON errors."""
    from flask import render_template
    from werkzeug.exceptions import Forbidden as HTTPForbidden
    from werkzeug.exceptions import NotFound as HTTPNotFound

    def page(exc):
        if request.path.startswith("/api/"):
            from .api.errors import http_error

            return http_error(exc)
        return render_template("error.html", status=exc.code), exc.code

    app.register_error_handler(HTTPForbidden, page)
    app.register_error_handler(HTTPNotFound, page)

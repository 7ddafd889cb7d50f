"""GET/POST /login, POST /logout, and / (each role's starting page)."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import login_user, logout_user

from ...core.enums import Role
from .. import signin
from ..context import hall_service, office
from ..login import SignedIn
from ..pages import signed_in_actor
from .forms import LoginForm

bp = Blueprint("auth_pages", __name__)


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site: never another host (open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def start_page(actor) -> str:
    """Where a role starts: staff choose a window, managers watch their hall, kiosks issue tickets."""
    service = hall_service()
    halls = service.halls()
    slug = None
    if actor.hall_id is not None:
        slug = next((h["slug"] for h in halls if office().hall_id(h["slug"]) == actor.hall_id), None)
    elif halls:
        slug = halls[0]["slug"]
    if slug is None:
        return url_for("auth_pages.home")
    if actor.role == Role.STAFF:
        return url_for("staff.choose", hall=slug)
    if actor.role == Role.DEVICE:
        return url_for("kiosk.kiosk", hall=slug)
    return url_for("manager.live_hall", hall=slug)


@bp.get("/")
def home():
    actor = signed_in_actor()
    if actor is not None and request.args.get("stay") is None:
        target = start_page(actor)
        if target != url_for("auth_pages.home"):
            return redirect(target)
    return render_template("home.html", halls=hall_service().halls(), actor=actor)


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    error = None
    status = 200
    if form.validate_on_submit():
        actor, wait = signin.attempt(form.name.data.strip(), form.password.data, via="form")
        if wait:
            error = _("Too many failed sign-ins. Try again in %(seconds)d seconds.", seconds=wait)
            status = 429
        elif actor is None:
            error = _("Wrong user name or password.")
            status = 401
        else:
            session.clear()  # a fresh session on sign-in: no fixation
            login_user(SignedIn(actor))
            return redirect(_safe_next(request.args.get("next")) or start_page(actor))
    elif request.method == "POST":
        error = _("Enter your user name and password.")
        status = 400
    return render_template("login.html", form=form, error=error), status


@bp.post("/logout")
def logout():
    logout_user()
    session.clear()
    return redirect(url_for("auth_pages.login"))

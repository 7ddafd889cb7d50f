"""Staff pages. The terminal's buttons call the REST API (session + CSRF header);
these routes render pages, open a window, and report the staff member's figures."""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, url_for
from flask_babel import gettext as _

from ...core.enums import Role
from ...core.errors import HallError
from ..context import hall_service, office
from ..messages import error_text
from ..pages import MANAGERS, hall_or_404, roles_required, signed_in_actor

bp = Blueprint("staff", __name__, url_prefix="/staff")

STAFF_PAGES = (Role.STAFF, *MANAGERS)


@bp.get("/<hall>/")
@roles_required(*STAFF_PAGES)
def choose(hall):
    actor = signed_in_actor()
    service = hall_service()
    mine = office().staff_window(hall, actor.user_id)
    if mine is not None and actor.role == Role.STAFF:
        return redirect(url_for("staff.terminal", hall=hall, window=mine))
    return render_template(
        "staff/choose.html", hall=hall_or_404(hall), windows=service.windows(hall), layout=office().layout(hall), mine=mine
    )


@bp.post("/<hall>/open/<int:window>")
@roles_required(*STAFF_PAGES)
def open_window(hall, window):
    try:
        hall_service().window_action(hall, window, "open", actor=signed_in_actor())
    except HallError as exc:
        flash(error_text(exc.code, exc.message), "error")
        return redirect(url_for("staff.choose", hall=hall))
    return redirect(url_for("staff.terminal", hall=hall, window=window))


@bp.get("/<hall>/windows/<int:window>")
@roles_required(*STAFF_PAGES)
def terminal(hall, window):
    actor = signed_in_actor()
    service = hall_service()
    if actor.role == Role.STAFF and office().staff_window(hall, actor.user_id) != window:
        flash(_("You are not signed in at window %(number)d. Choose a window first.", number=window), "error")
        return redirect(url_for("staff.choose", hall=hall))
    try:
        view = service.window(hall, window)
    except HallError:
        abort(404)
    return render_template("staff/terminal.html", hall=hall_or_404(hall), window=view, layout=office().layout(hall))


@bp.get("/<hall>/figures")
@roles_required(*STAFF_PAGES)
def figures(hall):
    """The signed-in person's figures for today, and for this month so far."""
    from ..context import hallq

    user_id = signed_in_actor().user_id
    return jsonify({**office().staff_today(hall, user_id), "month": hallq().stats.staff_month(hall, user_id)})


@bp.get("/<hall>/ratings")
@roles_required(*STAFF_PAGES)
def ratings(hall):
    """我的评价: the signed-in person's own ratings this month and the cases opened by their bad
    ones (never the visitor's contact; a manager at a window sees their own too, not the hall's)."""
    from ..context import hallq
    from ..messages import case_strings, rating_strings

    info = hall_or_404(hall)
    actor = signed_in_actor()
    today = hallq().stats.today(hall)
    since = today.replace(day=1)
    return render_template("staff/ratings.html", hall=info, month=today.strftime("%Y-%m"),
                           ratings=hallq().reviews.ratings(hall, since, today, viewer=actor, mine=True)["ratings"],
                           cases=hallq().reviews.cases(hall, viewer=actor, filter="all", mine=True)["cases"],
                           strings=case_strings(), levels=rating_strings()["levels"])

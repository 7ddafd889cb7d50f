"""Manager pages. Changes (open/close windows, services, moves) go through the
REST API from the page; these routes render the page and gather what it shows."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, render_template

from hallq.core import figures
from hallq.core.errors import HallError

from ..context import hall_service, office
from ..pages import MANAGERS, hall_or_404, roles_required
from . import sources

bp = Blueprint("manager", __name__, url_prefix="/manager")


@bp.get("/<hall>")
@roles_required(*MANAGERS)
def live_hall(hall):
    return render_template("manager/hall.html", hall=hall_or_404(hall), layout=office().layout(hall))


@bp.get("/<hall>/stats")
@roles_required(*MANAGERS)
def statistics(hall):
    """统计: the hall's figures for a month (today's month first), from GET /api/v1/halls/{hall}/stats."""
    from ..context import hallq
    from ..messages import stats_strings

    info = hall_or_404(hall)
    today = hallq().stats.today(hall)
    return render_template("manager/stats.html", hall=info, month=today.strftime("%Y-%m"), strings=stats_strings())


@bp.get("/<hall>/state")
@roles_required(*MANAGERS)
def state(hall):
    """Alerts, trends, the waiting list and devices: refreshed by the page after each live update."""
    service = hall_service()
    windows, queue = service.windows(hall), service.queue(hall)
    devices = sources.devices(hall)
    limit = float(current_app.config.get("HALLQ_WAIT_ALERT_MINUTES", figures.WAIT_ALERT_MINUTES))
    from ..context import hallq
    from ..pages import signed_in_actor

    digest = hallq().reviews.digest(hall, viewer=signed_in_actor(), listed=False)
    return jsonify(
        {
            "alerts": figures.hall_alerts(windows, queue, devices["devices"], wait_limit=limit) + figures.case_alerts(digest),
            "trends": office().service_trends(hall),
            "waiting": office().waiting_tickets(hall),
            "devices": devices,
        }
    )


@bp.get("/<hall>/suggestions")
@roles_required(*MANAGERS)
def suggestions(hall):
    """The balancer's suggestions (issue 5 fills this in; until then it says it is unavailable)."""
    return jsonify(sources.suggestions(hall_service(), hall))


@bp.post("/<hall>/suggestions/<suggestion_id>/apply")
@roles_required(*MANAGERS)
def apply_suggestion(hall, suggestion_id):
    """Apply one of the balancer's suggestions; every window change is audited."""
    from ...core.errors import HallError
    from ..api.errors import STATUS
    from ..messages import error_text
    from ..pages import signed_in_actor

    try:
        views = sources.apply_suggestion(hall_service(), hall, suggestion_id, signed_in_actor())
    except HallError as exc:
        return jsonify({"error": {"code": exc.code, "message": error_text(exc.code, exc.message)}}), STATUS.get(exc.kind, 409)
    return jsonify({"windows": views})


@bp.get("/<hall>/cases")
@roles_required(*MANAGERS)
def cases(hall):
    """差评整改: the hall's rectification cases by filter, live (GET /api/v1/halls/{hall}/cases)."""
    from ...core.reviews.cases import FILTERS
    from ..messages import case_strings

    return render_template("manager/cases.html", hall=hall_or_404(hall), strings=case_strings(), filters=FILTERS)


@bp.get("/<hall>/cases/<int:case_id>")
@roles_required(*MANAGERS)
def case(hall, case_id):
    """One case: the rating, its deadlines, its timeline and the next steps."""
    from ..context import hallq
    from ..messages import case_strings
    from ..pages import signed_in_actor

    info = hall_or_404(hall)
    try:
        view = hallq().reviews.case(hall, case_id, viewer=signed_in_actor())
    except HallError:
        abort(404)
    return render_template("manager/case.html", hall=info, case=view, strings=case_strings())

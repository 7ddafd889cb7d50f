"""好差评's API: a visitor's rating from the tracker page (no sign-in: the ticket's tracking id is
theirs), and the rectification cases, for the hall's managers (staff: their own, read only)."""

from __future__ import annotations

from flask import jsonify, request

from ...core.errors import NotFound
from ..context import hallq
from .auth import current_actor
from .blueprint import bp
from .routes import json_body
from .schemas import CASE_BODIES, RatingCreate


@bp.get("/api/v1/halls/<hall>/tickets/<ticket_id>/rating")
def rating_form(hall, ticket_id):
    return jsonify(hallq().reviews.rating_form(hall, ticket_id))


@bp.post("/api/v1/halls/<hall>/tickets/<ticket_id>/rating")
def rate(hall, ticket_id):
    body = json_body(RatingCreate)
    return jsonify(hallq().reviews.rate(hall, ticket_id, **body.model_dump(exclude_none=True))), 201


@bp.get("/api/v1/halls/<hall>/cases")
def cases(hall):
    return jsonify(hallq().reviews.cases(hall, viewer=current_actor(), filter=request.args.get("filter", "open")[:16]))


@bp.get("/api/v1/halls/<hall>/cases/<int:case_id>")
def case(hall, case_id):
    return jsonify(hallq().reviews.case(hall, case_id, viewer=current_actor()))


@bp.post("/api/v1/halls/<hall>/cases/<int:case_id>/<action>")
def case_action(hall, case_id, action):
    if action not in CASE_BODIES:
        raise NotFound("unknown_action", f"no case action {action!r}; known: {', '.join(CASE_BODIES)}")
    actor = current_actor()
    body = json_body(CASE_BODIES[action])
    return jsonify(hallq().reviews.case_action(hall, case_id, action, actor=actor, **body.model_dump(exclude_none=True)))


@bp.post("/api/v1/halls/<hall>/cases/<int:case_id>/contact")
def reveal_contact(hall, case_id):
    """The visitor's number in full, for the manager handling the case (audited each time)."""
    return jsonify(hallq().reviews.reveal_contact(hall, case_id, actor=current_actor()))


@bp.get("/api/v1/halls/<hall>/ratings")
def ratings(hall):
    """The ratings of a day, month or range (as the statistics): the hall's for a manager, a staff member's own."""
    from .routes import stats_range

    since, until = stats_range(hall)
    return jsonify(hallq().reviews.ratings(hall, since, until, viewer=current_actor()))


@bp.get("/api/v1/halls/<hall>/ratings.<fmt>")
def ratings_export(hall, fmt):
    """The ratings of a day, month or range (as the statistics), one row each, for the provincial
    platform: CSV or an Excel workbook (docs/reviews.md names the fields)."""
    from flask import Response

    from ...reports import ratings as platform
    from .openapi import XLSX
    from .routes import stats_range

    if fmt not in ("csv", "xlsx"):
        raise NotFound("unknown_format", "ratings.csv or ratings.xlsx")
    since, until = stats_range(hall)
    data = hallq().reviews.export(hall, since, until, viewer=current_actor())
    name = f"hallq-ratings-{data['hall']}-{data['since']}" + ("" if since == until else f"_{data['until']}") + f".{fmt}"
    if fmt == "csv":
        body, mimetype = platform.csv_bytes(data["rows"]), "text/csv; charset=utf-8"
    else:
        body, mimetype = platform.xlsx_bytes(data["rows"], f"{data['name']} 好差评 {data['since']}–{data['until']}"), XLSX
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})

"""The API's routes: each parses, calls one HallService method, and answers."""

from __future__ import annotations

from flask import jsonify, request, session
from flask_login import login_user, logout_user
from flask_wtf.csrf import generate_csrf

from ...core.errors import Invalid
from ...core.stats.service import month_days
from .. import signin
from ..context import hall_service, hallq
from ..login import SignedIn
from .auth import Unauthorized, current_actor
from .blueprint import bp
from .errors import error_response
from .openapi import XLSX, openapi_document
from .schemas import (
    WINDOW_ACTIONS,
    Login,
    TicketCreate,
    TicketMove,
    ACTION_BODIES,
    WindowAction,
    WindowServices,
)


def json_body(model):
    """The request's JSON body validated against `model` (400 when it is not JSON at all)."""
    try:
        data = request.get_json(silent=True)
    except RecursionError:
        raise BadJSON("bad_json", "the body is nested too deeply") from None
    if data is None:
        if request.content_length in (None, 0) and not request.data:
            data = {}
        else:
            raise BadJSON("bad_json", "the body must be a JSON object (Content-Type: application/json)")
    if not isinstance(data, dict):
        raise BadJSON("bad_json", "the body must be a JSON object")
    return model.model_validate(data)


class BadJSON(Invalid):
    kind = "bad_request"


@bp.get("/api/openapi.json")
def openapi():
    return jsonify(openapi_document())


@bp.get("/api/v1/halls")
def halls():
    return jsonify({"halls": hall_service().halls()})


@bp.get("/api/v1/halls/<hall>")
def hall_info(hall):
    return jsonify(hall_service().hall_info(hall))


@bp.post("/api/v1/halls/<hall>/tickets")
def issue_ticket(hall):
    body = json_body(TicketCreate)
    actor = current_actor()
    ticket = hall_service().issue_ticket(hall, service=body.service, priority=body.priority, actor=actor, channel=body.channel)
    return jsonify(ticket), 201


@bp.get("/api/v1/halls/<hall>/tickets/<ticket_id>")
def ticket(hall, ticket_id):
    return jsonify(hall_service().ticket(hall, ticket_id, viewer=current_actor(required=False)))


@bp.get("/api/v1/halls/<hall>/tickets/<ticket_id>/journey")
def ticket_journey(hall, ticket_id):
    return jsonify(hall_service().journey(hall, ticket_id, viewer=current_actor()))


@bp.get("/api/v1/halls/<hall>/stats")
def stats(hall):
    since, until = stats_range(hall)
    return jsonify(hallq().stats.report(hall, since, until, viewer=current_actor()))


@bp.get("/api/v1/halls/<hall>/stats.xlsx")
def stats_workbook(hall):
    """The same figures as an Excel workbook (the statistics page's download)."""
    from flask import Response

    from ...reports.workbook import xlsx_bytes

    since, until = stats_range(hall)
    report = hallq().stats.report(hall, since, until, viewer=current_actor())
    name = f"hallq-{report['hall']}-{report['since']}" + ("" if since == until else f"_{report['until']}") + ".xlsx"
    return Response(xlsx_bytes(report), mimetype=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"'})


def stats_range(hall: str):
    """The days a statistics request asks for: `day=YYYY-MM-DD`, `month=YYYY-MM`, or `since` and
    `until` (YYYY-MM-DD, both included); none of them: the hall's today."""
    import re
    from datetime import date

    args = request.args

    def day(name: str) -> date:
        try:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", args[name]):
                raise ValueError
            return date.fromisoformat(args[name])
        except ValueError:
            raise BadQuery("bad_date", f"{name} must be a date, YYYY-MM-DD", **{name: args[name][:32]}) from None

    given = [name for name in ("day", "month", "since", "until") if name in args]
    if "month" in given:
        if len(given) > 1:
            raise BadQuery("bad_range", "month alone, or day alone, or since and until")
        try:
            if not re.fullmatch(r"\d{4}-\d{2}", args["month"]):
                raise ValueError
            return month_days(*(int(x) for x in args["month"].split("-")))
        except ValueError:
            raise BadQuery("bad_month", "month must be YYYY-MM", month=args["month"][:32]) from None
    if "day" in given:
        if len(given) > 1:
            raise BadQuery("bad_range", "month alone, or day alone, or since and until")
        return day("day"), day("day")
    if given:
        if set(given) != {"since", "until"}:
            raise BadQuery("bad_range", "since and until go together")
        return day("since"), day("until")
    today = hallq().stats.today(hall)
    return today, today


class BadQuery(Invalid):
    kind = "bad_request"


@bp.post("/api/v1/halls/<hall>/tickets/<ticket_id>/move")
def move_ticket(hall, ticket_id):
    body = json_body(TicketMove)
    return jsonify(hall_service().move_ticket(hall, ticket_id, service=body.service, number=body.number, actor=current_actor()))


@bp.get("/api/v1/halls/<hall>/queue")
def queue(hall):
    return jsonify({"hall": hall, "services": hall_service().queue(hall)})


@bp.get("/api/v1/halls/<hall>/windows")
def windows(hall):
    return jsonify({"hall": hall, "windows": hall_service().windows(hall, viewer=current_actor(required=False))})


@bp.get("/api/v1/halls/<hall>/windows/<int:window>")
def window(hall, window):
    return jsonify(hall_service().window(hall, window, viewer=current_actor(required=False)))


@bp.post("/api/v1/halls/<hall>/windows/<int:window>/<action>")
def window_action(hall, window, action):
    if action not in WINDOW_ACTIONS:
        from ...core.errors import NotFound

        raise NotFound("unknown_action", f"no window action {action!r}; known: {', '.join(WINDOW_ACTIONS)}")
    body = json_body(ACTION_BODIES.get(action, WindowAction))
    actor = current_actor()
    params = body.model_dump(exclude_none=True)
    return jsonify(hall_service().window_action(hall, window, action, actor=actor, **params))


@bp.put("/api/v1/halls/<hall>/windows/<int:window>/services")
def window_services(hall, window):
    body = json_body(WindowServices)
    return jsonify(hall_service().set_window_services(hall, window, body.services, actor=current_actor()))


@bp.post("/api/v1/session")
def login():
    body = json_body(Login)
    actor, wait = signin.attempt(body.name, body.password, via="api")
    if wait:
        response, status = error_response(429, "too_many_attempts", f"too many failed sign-ins: try again in {wait} seconds")
        return response, status, {"Retry-After": str(wait)}
    if actor is None:
        raise Unauthorized("bad_credentials", "wrong user name or password")
    session.clear()
    login_user(SignedIn(actor))
    return jsonify({"user": actor.name, "role": str(actor.role), "csrf_token": generate_csrf()})


@bp.get("/api/v1/session")
def whoami():
    actor = current_actor(required=False)
    if actor is None:
        raise Unauthorized("login_required", "nobody is signed in")
    return jsonify({"user": actor.name, "role": str(actor.role), "csrf_token": generate_csrf()})


@bp.delete("/api/v1/session")
def logout():
    current_actor()
    logout_user()
    session.clear()
    return "", 204

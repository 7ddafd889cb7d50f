"""Kiosk pages. A kiosk is signed in once with a device account (or a manager's);
each tap issues a ticket through the hall engine, CSRF-checked like any form.

A kiosk with a thermal printer beside it is bound to that dispenser by its
address, `/kiosk/<hall>?printer=<device id>` (the admin page lists this
address for every dispenser). The printer must be an active dispenser of the
hall. The ticket is issued first and always shown on screen; then it is sent
to the dispenser (the MQTT runtime registers the `hallq.print_ticket` hook),
and the answer says what came of it."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify, render_template, request, url_for

from ...core.enums import Priority, Role
from ...core.errors import HallError, Invalid
from ..api.errors import STATUS
from ..context import hall_service, hallq, office, settings
from ..messages import error_text
from ..pages import MANAGERS, hall_or_404, roles_required, signed_in_actor
from ..tracker.routes import tracker_url

bp = Blueprint("kiosk", __name__, url_prefix="/kiosk")

log = logging.getLogger("hallq.kiosk")
KIOSK_ROLES = (Role.DEVICE, *MANAGERS)
# What "print" in the answer may say besides the dispenser's own outcomes
# (printed, paper_out, stale, error) and the desk's (offline, no_answer).
NO_PRINTER, UNAVAILABLE = "none", "unavailable"


def _check_printer(hall: str, printer) -> str:
    """The kiosk's printer id ('' for none), refused unless it is an active dispenser of the hall."""
    if printer in (None, ""):
        return ""
    if not isinstance(printer, str):
        raise Invalid("unknown_printer", "printer must be a device id")
    registry = hallq().devices
    if registry is None:
        raise Invalid("unknown_printer", "this server has no device registry")
    registry.printer(hall, printer)
    return printer


def _refusal(exc: HallError):
    """The refusal in the page's language, with its details (a closed service's hours today, say)."""
    body = {"code": exc.code, "message": error_text(exc.code, exc.message)}
    if exc.details:
        body["details"] = exc.details
    return body, STATUS.get(exc.kind, 409)


@bp.get("/<hall>")
@roles_required(*KIOSK_ROLES)
def kiosk(hall):
    info = hall_or_404(hall)
    try:
        printer = _check_printer(hall, request.args.get("printer", ""))
    except HallError as exc:
        body, status = _refusal(exc)
        return render_template("error.html", status=status, problem=body["message"]), status
    idle = settings().kiosk_idle_seconds
    return render_template("kiosk/kiosk.html", hall=info, layout=office().layout(hall), printer=printer, idle_seconds=idle)


def _print(hall: str, ticket: dict, printer: str) -> str:
    """Print through the kiosk's dispenser; say what came of it (the ticket stands whatever it is)."""
    if not printer:
        return NO_PRINTER
    hook = hallq().print_ticket
    if hook is None:
        return UNAVAILABLE  # MQTT is turned off on this server
    try:
        return str(hook(hall, ticket, printer))
    except Exception:  # the visitor still has the ticket on screen
        log.exception("printing ticket %s on %s failed", ticket.get("number"), printer)
        return "error"


@bp.post("/<hall>/tickets")
@roles_required(*KIOSK_ROLES)
def issue(hall):
    """{service, green, printer?} → the new ticket, its tracker address and what came of printing it."""
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # nested thousands deep: not a choice of service
        body = None
    if not isinstance(body, dict):
        body = {}
    code, green = body.get("service"), body.get("green") is True
    try:
        printer = _check_printer(hall, body.get("printer"))  # before issuing: a refused printer issues nothing
        if not isinstance(code, str) or not code:
            raise Invalid("unknown_service", "choose a service")
        ticket = hall_service().issue_ticket(
            hall, service=code, priority=Priority.GREEN if green else Priority.NORMAL, actor=signed_in_actor(), channel="kiosk"
        )
    except HallError as exc:
        error, status = _refusal(exc)
        return jsonify({"error": error}), status
    ticket["tracker_url"] = tracker_url(hall, ticket["id"])
    ticket["qr_url"] = url_for("tracker.qr", hall=hall, ticket_id=ticket["id"])
    ticket["print"] = _print(hall, ticket, printer)
    ticket["printed"] = ticket["print"] == "printed"
    return jsonify(ticket), 201

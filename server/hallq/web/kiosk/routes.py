"""Kiosk pages. A kiosk is signed in once with a device account (or a manager's);
each tap issues a ticket through the hall engine, CSRF-checked like any form."""

from __future__ import annotations

import logging

from flask import current_app, jsonify, render_template, request, url_for

from ...core.enums import Priority, Role
from ...core.errors import HallError, Invalid
from .. import hall_service
from ..api.errors import STATUS
from ..messages import error_text
from ..pages import MANAGERS, hall_or_404, roles_required, signed_in_actor
from ..tracker.routes import tracker_url
from . import bp

log = logging.getLogger("hallq.kiosk")
KIOSK_ROLES = (Role.DEVICE, *MANAGERS)


@bp.get("/<hall>")
@roles_required(*KIOSK_ROLES)
def kiosk(hall):
    return render_template(
        "kiosk/kiosk.html", hall=hall_or_404(hall), layout=hall_service().layout(hall), dispenser=request.args.get("dispenser", "")
    )


def _print(hall: str, ticket: dict, dispenser: str) -> bool:
    """Print through the dispenser agent when one is attached (the MQTT bridge registers the hook)."""
    hook = current_app.extensions.get("hallq.print_ticket")
    if hook is None or not dispenser:
        return False
    try:
        return bool(hook(hall, ticket, dispenser))
    except Exception:  # the visitor still has the ticket on screen
        log.exception("printing ticket %s on %s failed", ticket.get("number"), dispenser)
        return False


@bp.post("/<hall>/tickets")
@roles_required(*KIOSK_ROLES)
def issue(hall):
    """{service, green} → the new ticket, its tracker address and whether it was printed."""
    body = request.get_json(silent=True) or {}
    code, green = body.get("service"), body.get("green") is True
    try:
        if not isinstance(code, str) or not code:
            raise Invalid("unknown_service", "choose a service")
        ticket = hall_service().issue_ticket(
            hall, service=code, priority=Priority.GREEN if green else Priority.NORMAL, actor=signed_in_actor(), channel="kiosk"
        )
    except HallError as exc:
        return jsonify({"error": {"code": exc.code, "message": error_text(exc.code, exc.message)}}), STATUS.get(exc.kind, 409)
    ticket["tracker_url"] = tracker_url(hall, ticket["id"])
    ticket["qr_url"] = url_for("tracker.qr", hall=hall, ticket_id=ticket["id"])
    ticket["printed"] = _print(hall, ticket, str(body.get("dispenser") or ""))
    return jsonify(ticket), 201

"""Public tracker pages, reached from the QR code on a ticket. A ticket's id is
unguessable and its view holds nothing personal (see core/shapes.py (hallq_protocol/shapes.py))."""

from __future__ import annotations

import io

from flask import Blueprint, Response, abort, render_template, request, url_for

from ...core.errors import NotFound
from ..context import hall_service, settings
from ..pages import hall_or_404

bp = Blueprint("tracker", __name__, url_prefix="/t")


def _ticket_or_404(hall: str, ticket_id: str) -> dict:
    # Only the long public id: numbers (A012) are easy to guess and repeat daily.
    if len(ticket_id) < 12:
        abort(404)
    try:
        return hall_service().ticket(hall, ticket_id)
    except NotFound:
        abort(404)


def tracker_url(hall: str, ticket_id: str) -> str:
    """The address printed in the ticket's QR code."""
    base = settings().public_base_url.rstrip("/")
    path = url_for("tracker.track", hall=hall, ticket_id=ticket_id)
    return (base or request.host_url.rstrip("/")) + path


@bp.get("/<hall>/<ticket_id>")
def track(hall, ticket_id):
    info = hall_or_404(hall)
    ticket = _ticket_or_404(hall, ticket_id)
    return render_template("tracker/tracker.html", hall=info, ticket=ticket)


@bp.get("/<hall>/<ticket_id>/qr.svg")
def qr(hall, ticket_id):
    """The tracker's address as an SVG QR code (the kiosk shows it on screen)."""
    import qrcode
    import qrcode.image.svg

    _ticket_or_404(hall, ticket_id)
    image = qrcode.make(tracker_url(hall, ticket_id), image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    out = io.BytesIO()
    image.save(out)
    return Response(out.getvalue(), mimetype="image/svg+xml", headers={"Cache-Control": "private, max-age=86400"})

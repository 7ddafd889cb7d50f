"""The audit page and its CSV export, for the hall's managers and administrators.

Filters come from the address (a plain GET form: a filtered view can be bookmarked or sent),
days in the hall's own time zone. The page shows 100 lines, newest first, with a link to the
next older 100; the export (UTF-8 with a byte-order mark, so spreadsheet programs read the
Chinese right) holds every line the filter selects and is itself audited.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, time, timedelta

from flask import Response, render_template, request, stream_with_context
from flask_babel import gettext as _

from ...core import audit, clock
from ...core.errors import Invalid
from ..context import hall_service, office
from ..pages import MANAGERS, hall_or_404, roles_required, signed_in_actor
from .routes import bp

COLUMNS = ("at", "actor", "role", "origin", "action", "target", "detail")


def _day(name: str) -> date | None:
    text = request.args.get(name, "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Invalid("bad_date", f"{name}: a day is written YYYY-MM-DD, not {text!r}", field=name) from None


def _filters(tz: str) -> audit.AuditFilter:
    """The filter the address asks for; `from` and `to` are whole days of the hall, both included."""
    first, last = _day("from"), _day("to")
    category = request.args.get("category", "").strip()
    return audit.AuditFilter(
        since=None if first is None else clock.to_utc(datetime.combine(first, time(0), tzinfo=clock.zone(tz))),
        until=None if last is None else clock.to_utc(datetime.combine(last + timedelta(days=1), time(0), tzinfo=clock.zone(tz))),
        actor=request.args.get("actor", "").strip()[:64],
        category=category if category in audit.CATEGORIES else "",
        target=request.args.get("target", "").strip()[:64],
    )


def _local(moment: datetime, tz: str) -> str:
    return clock.to_local(clock.as_utc(moment), tz).strftime("%Y-%m-%d %H:%M:%S")


@bp.get("/<hall>/audit")
@roles_required(*MANAGERS)
def audit_log(hall):
    info = hall_or_404(hall)
    tz = info["timezone"]
    before = request.args.get("before", "")
    error, lines, older = None, [], None
    try:
        filters = _filters(tz)
        lines, older = office().audit_page(hall, actor=signed_in_actor(), filters=filters,
                                           before=int(before) if before.isdigit() else None)
    except Invalid as exc:
        error = exc.message
    for entry in lines:
        entry["local"] = _local(entry["at"], tz)
        entry["detail_text"] = json.dumps(entry["detail"], ensure_ascii=False, sort_keys=True) if entry["detail"] else ""
    args = {k: v for k, v in request.args.items() if k != "before" and v}
    return render_template("admin/audit.html", hall=info, lines=lines, older=older, args=args, error=error,
                           categories=audit.CATEGORIES, retention=audit.MIN_RETENTION_DAYS)


@bp.get("/<hall>/audit.csv")
@roles_required(*MANAGERS)
def audit_csv(hall):
    info = hall_or_404(hall)
    tz = info["timezone"]
    try:
        filters = _filters(tz)
    except Invalid as exc:
        return Response(exc.message, status=400, mimetype="text/plain")
    lines = office().audit_export(hall, actor=signed_in_actor(), filters=filters)
    header = [_("Time"), _("Who"), _("Role"), _("From"), _("Action"), _("Target"), _("Details")]

    def rows():
        out = io.StringIO()
        writer = csv.writer(out)
        out.write("\ufeff")
        writer.writerow(header)
        for entry in lines:
            writer.writerow([
                _local(entry["at"], tz), entry["actor"], entry["role"], entry["origin"], entry["action"], entry["target"],
                json.dumps(entry["detail"], ensure_ascii=False, sort_keys=True) if entry["detail"] else "",
            ])
            if out.tell() > 64_000:
                yield out.getvalue()
                out.seek(0)
                out.truncate()
        yield out.getvalue()

    name = f"audit-{hall}-{clock.business_date(hall_service().clock.now(), tz).isoformat()}.csv"
    return Response(stream_with_context(rows()), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})

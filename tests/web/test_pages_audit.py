"""The audit (issue 12, item 11): every change at a window and every ticket issued leaves a
line saying who, with which role, from where, what and when; managers and administrators read
their hall's lines on a page with filters and take them away as CSV, which is audited too."""

from __future__ import annotations

import csv
import io
import re

from sqlmodel import select

from hallq.core.models import AuditEntry
from support.web import client_sign_in

H = "/api/v1/halls/district"


def _lines(hall, **where) -> list[AuditEntry]:
    with hall.db.read() as session:
        query = select(AuditEntry).order_by(AuditEntry.id)
        for key, value in where.items():
            query = query.where(getattr(AuditEntry, key) == value)
        rows = session.exec(query).all()
        session.expunge_all()
        return rows


def _manager(app, office, name="mgr", hall="district"):
    office.add_user(name=name, role="manager", password="password-" + name, hall=hall)
    client = app.test_client()
    client_sign_in(client, name, "password-" + name)
    return client


def _a_morning(client, users):
    """A kiosk issues three tickets; staff1 at window 1 calls, recalls, skips, calls, starts, completes."""
    kiosk, staff = users.token("kiosk1", "device"), users.token("staff1", "staff")
    for _ in range(3):
        assert client.post(f"{H}/tickets", json={"service": "SI"}, headers=kiosk).status_code == 201
    for action in ("open", "call-next", "recall", "skip", "call-next", "start", "complete"):
        assert client.post(f"{H}/windows/1/{action}", headers=staff).status_code == 200, action


def test_every_daily_action_is_audited_with_who_role_and_where(client, users, hall):
    _a_morning(client, users)
    issued = _lines(hall, action="ticket.issue")
    assert [(e.target, e.actor, e.actor_role, e.origin, e.detail["channel"]) for e in issued] == [
        (n, "kiosk1", "device", "127.0.0.1", "api") for n in ("A001", "A002", "A003")]
    at_window = [(e.action, e.target, e.actor, e.actor_role, e.origin, e.detail.get("window"))
                 for e in _lines(hall, actor="staff1") if e.action.startswith(("ticket.", "window."))]
    assert at_window == [
        ("window.open", "window 1", "staff1", "staff", "127.0.0.1", None),
        ("ticket.called", "A001", "staff1", "staff", "127.0.0.1", 1),
        ("ticket.recalled", "A001", "staff1", "staff", "127.0.0.1", 1),
        ("ticket.requeued", "A001", "staff1", "staff", "127.0.0.1", 1),  # a skipped ticket may come back once
        ("ticket.called", "A002", "staff1", "staff", "127.0.0.1", 1),
        ("ticket.started", "A002", "staff1", "staff", "127.0.0.1", 1),
        ("ticket.completed", "A002", "staff1", "staff", "127.0.0.1", 1),
    ]
    assert _lines(hall, action="ticket.called")[0].detail == {"window": 1, "service": "SI", "how": "next"}
    assert _lines(hall, action="ticket.requeued")[0].detail["reason"] == "skipped"


def test_managers_filter_their_halls_audit_and_page_through_it(app, client, users, hall, office):
    _a_morning(client, users)
    mgr = _manager(app, office)
    page = mgr.get("/admin/district/audit").get_data(as_text=True)
    assert "审计日志" in page and page.index("ticket.completed") < page.index("ticket.issue")  # newest first
    only_tickets = mgr.get("/admin/district/audit?category=ticket&actor=staff1").get_data(as_text=True)
    assert "ticket.called" in only_tickets and "window.open" not in only_tickets and "kiosk1" not in only_tickets
    assert "A002" in mgr.get("/admin/district/audit?target=A002").get_data(as_text=True)
    assert "ticket.issue" not in mgr.get("/admin/district/audit?from=2030-01-01").get_data(as_text=True)
    assert "YYYY-MM-DD" in mgr.get("/admin/district/audit?from=yesterday").get_data(as_text=True)  # said, not a 500
    kiosk = users.token("kiosk2", "device")
    for _ in range(120):
        client.post(f"{H}/tickets", json={"service": "MI"}, headers=kiosk)
    first = mgr.get("/admin/district/audit?category=ticket").get_data(as_text=True)
    older = re.search(r'href="([^"]+)" id="audit-older"', first).group(1).replace("&amp;", "&")
    assert "category=ticket" in older
    second = mgr.get(older).get_data(as_text=True)
    assert "B120" in first and "B001" not in first and "B001" in second and "B120" not in second


def test_the_csv_export_holds_every_line_the_filter_selects_and_is_itself_audited(app, client, users, hall, office):
    _a_morning(client, users)
    mgr = _manager(app, office)
    r = mgr.get("/admin/district/audit.csv?category=ticket&actor=staff1")
    assert r.status_code == 200 and r.mimetype == "text/csv" and "attachment" in r.headers["Content-Disposition"]
    text = r.get_data(as_text=True)
    assert text.startswith("\ufeff")  # spreadsheet programs then read the Chinese right
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0] == ["时间", "操作人", "角色", "来源", "操作", "对象", "详情"]
    assert [r[4] for r in rows[1:]] == ["ticket.called", "ticket.recalled", "ticket.requeued", "ticket.called", "ticket.started", "ticket.completed"]
    assert all(r[1] == "staff1" and r[3] == "127.0.0.1" and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", r[0]) for r in rows[1:])
    [export] = _lines(hall, action="audit.export")
    assert export.actor == "mgr" and export.detail == {"filter": {"actor": "staff1", "category": "ticket"}}


def test_only_the_halls_managers_and_administrators_read_its_audit(app, client, users, hall, office):
    office.add_user(name="staff9", role="staff", password="password-staff9", hall="district")
    staff = app.test_client()
    client_sign_in(staff, "staff9", "password-staff9")
    assert staff.get("/admin/district/audit").status_code == 403
    assert staff.get("/admin/district/audit.csv").status_code == 403
    assert app.test_client().get("/admin/district/audit").status_code == 302  # to the sign-in page
    assert not _lines(hall, action="audit.export")

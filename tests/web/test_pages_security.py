"""Security of the people's pages: CSRF on forms and page requests, sign-in
rate limits and safe redirects, cookie flags, roles, Socket.IO origin and
manager-room checks, and public pages that expose nothing private."""

from __future__ import annotations

import json

import pytest

from hallq.core.office import OfficeService
from hallq.web.ratelimit import LoginLimiter
from support.halls import make_app
from support.web import client_sign_in, csrf_token

PASSWORD = "password-pages"


ACCOUNTS = {
    "mgr": {"role": "manager"},
    "staff01": {"role": "staff", "display_name": "王芳", "staff_no": "1001"},
    "kiosk": {"role": "device"},
}


@pytest.fixture
def accounts(hall, office):
    """accounts(*names) creates just those accounts (hashing passwords is slow on purpose) and returns the hall."""

    def create(*names):
        for name in names:
            office.add_user(name=name, password=PASSWORD, hall="district", **ACCOUNTS[name])
        return hall

    return create


def test_sign_in_form_needs_its_csrf_token(client, accounts):
    accounts('mgr')
    r = client.post("/login", data={"name": "mgr", "password": PASSWORD})
    assert r.status_code == 400
    assert client_sign_in(client, "mgr", PASSWORD).status_code == 302


def test_session_cookie_is_httponly_and_samesite(client, accounts):
    accounts('mgr')
    r = client_sign_in(client, "mgr", PASSWORD)
    cookie = next(v for k, v in r.headers.items() if k == "Set-Cookie" and v.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_failed_sign_ins_are_rate_limited(client, accounts):
    accounts('mgr')
    for _ in range(5):
        assert client_sign_in(client, "mgr", "wrong-password").status_code == 401
    r = client_sign_in(client, "mgr", PASSWORD)  # even the right password waits now
    assert r.status_code == 429
    assert "秒后再试" in r.get_data(as_text=True)


def test_limiter_forgets_failures_after_its_window():
    now = [0.0]
    limiter = LoginLimiter(max_failures=2, window_seconds=60, clock=lambda: now[0])
    limiter.failed("ip:1")
    limiter.failed("ip:1")
    assert limiter.retry_after("ip:1") > 0
    now[0] = 61.0
    assert limiter.retry_after("ip:1") == 0


def test_sign_in_never_redirects_off_site(client, accounts):
    accounts('mgr')
    r = client_sign_in(client, "mgr", PASSWORD, query="?next=//evil.example/x")
    assert r.headers["Location"] == "/manager/district"
    client.post("/logout", data={"csrf_token": csrf_token(client, "/manager/district")})
    r = client_sign_in(client, "mgr", PASSWORD, query="?next=/admin/district")
    assert r.headers["Location"] == "/admin/district"


def test_roles_and_halls_are_checked_on_every_page(client, accounts):
    accounts('staff01')
    assert client.get("/manager/district").status_code == 302  # anonymous → sign in
    client_sign_in(client, "staff01", PASSWORD)
    assert client.get("/manager/district").status_code == 403
    assert client.get("/admin/district").status_code == 403
    assert client.get("/kiosk/district").status_code == 403
    assert client.get("/staff/nowhere/").status_code == 404
    client.post("/staff/district/open/1", data={"csrf_token": csrf_token(client, "/staff/district/")})
    assert client.get("/staff/district/windows/1").status_code == 200
    r = client.get("/staff/district/windows/2")  # not their window
    assert r.status_code == 302 and r.headers["Location"].endswith("/staff/district/")


def test_kiosk_issuing_needs_a_device_session_and_csrf(client, accounts):
    accounts('kiosk')
    anonymous = {"X-CSRFToken": csrf_token(client)}
    assert client.post("/kiosk/district/tickets", json={"service": "SI"}, headers=anonymous).status_code == 302
    client_sign_in(client, "kiosk", PASSWORD)
    assert client.post("/kiosk/district/tickets", json={"service": "SI"}).status_code == 400  # no CSRF header
    token = csrf_token(client, "/kiosk/district")
    r = client.post("/kiosk/district/tickets", json={"service": "SI"}, headers={"X-CSRFToken": token})
    assert r.status_code == 201 and r.get_json()["number"] == "A001"
    r = client.post("/kiosk/district/tickets", json={"service": "NOPE"}, headers={"X-CSRFToken": token})
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "unknown_service"


def test_socketio_refuses_other_origins(client):
    r = client.get("/socket.io/?EIO=4&transport=polling", headers={"Origin": "http://evil.example"})
    assert r.status_code == 400
    r = client.get("/socket.io/?EIO=4&transport=polling", headers={"Origin": "http://localhost"})
    assert r.status_code == 200


def test_manager_room_needs_a_manager_session(app, client, accounts):
    accounts('mgr', 'staff01')
    from hallq.web.extensions import socketio

    anonymous = socketio.test_client(app)
    answer = anonymous.emit("join", {"hall": "district", "manager": True}, callback=True)
    assert answer["ok"] is False and answer["error"]["code"] == "login_required"
    public = anonymous.emit("join", {"hall": "district", "window": 1}, callback=True)
    assert public == {"ok": True}

    client_sign_in(client, "staff01", PASSWORD)
    staff = socketio.test_client(app, flask_test_client=client)
    assert staff.emit("join", {"hall": "district", "manager": True}, callback=True)["error"]["code"] == "manager_only"

    manager_client = app.test_client()
    client_sign_in(manager_client, "mgr", PASSWORD)
    manager = socketio.test_client(app, flask_test_client=manager_client)
    assert manager.emit("join", {"hall": "district", "manager": True}, callback=True) == {"ok": True}
    for c in (anonymous, staff, manager):
        c.disconnect()


def test_public_pages_expose_nothing_private(app, client, accounts):
    accounts('staff01', 'kiosk')
    from hallq.web.extensions import socketio

    hall = accounts()
    hall.window_action("district", 1, "open", actor=OfficeService(hall).actor_for_login("staff01", PASSWORD))
    display = socketio.test_client(app)
    display.emit("join", {"hall": "district", "window": 1}, callback=True)
    snapshot = next(m["args"][0] for m in display.get_received() if m["name"] == "snapshot")
    text = json.dumps(snapshot, ensure_ascii=False)
    for secret in ("password", "hash", "token", "user_id", "staff01"):
        assert secret not in text
    assert snapshot["window"]["staff"] == {"name": "王芳", "staff_no": "1001"}  # shown on the window screen by design
    display.disconnect()

    ticket = hall.issue_ticket("district", service="SI", actor=OfficeService(hall).actor_for_login("kiosk", PASSWORD))
    assert client.get(f"/t/district/{ticket['id']}").status_code == 200
    assert client.get(f"/t/district/{ticket['number']}").status_code == 404  # guessable numbers do not track
    page = client.get(f"/t/district/{ticket['id']}").get_data(as_text=True)
    assert ticket["number"] in page
    for private in ("channel", "staff01", "password", "user_id"):
        assert private not in page


@pytest.mark.parametrize("proxies", [0, 1])
def test_the_limiter_counts_the_clients_own_address_only_behind_a_trusted_proxy(hall, tmp_path, proxies):

    app = make_app(hall, instance_path=tmp_path / "instance", secret_key="test-secret", trusted_proxies=proxies)
    app.config["TESTING"] = True
    client = app.test_client()

    def attempt(name, address):
        return client.post("/login", data={"name": name, "password": "wrong", "csrf_token": csrf_token(client)},
                           headers={"X-Forwarded-For": address})

    for i in range(5):
        assert attempt(f"nobody{i}", "10.0.0.1").status_code == 401

    assert attempt("nobody9", "10.0.0.1").status_code == 429
    # Another visitor behind the same proxy: free to try when the proxy is trusted;
    # with no trusted proxy the header is ignored (a client could forge it) and
    # every attempt counts against the one address the connections come from.
    assert attempt("nobody8", "10.0.0.2").status_code == (401 if proxies else 429)


def test_api_sign_ins_share_the_forms_limit_and_every_attempt_is_audited(client, accounts, hall):
    from sqlmodel import select

    from hallq.core.models import AuditEntry

    accounts("mgr")
    for _ in range(3):  # through the form...
        assert client_sign_in(client, "mgr", "wrong").status_code == 401
    for _ in range(2):  # ...and through the API: one count
        r = client.post("/api/v1/session", json={"name": "mgr", "password": "wrong"})
        assert r.status_code == 401 and r.get_json()["error"]["code"] == "bad_credentials"

    r = client.post("/api/v1/session", json={"name": "mgr", "password": PASSWORD})  # the right one, too late
    assert r.status_code == 429 and r.get_json()["error"]["code"] == "too_many_attempts"
    assert int(r.headers["Retry-After"]) > 0

    with hall.db.read() as session:
        rows = session.exec(select(AuditEntry).where(AuditEntry.action.startswith("auth."))).all()
        seen = [(e.action, e.actor, e.actor_role, e.detail["via"]) for e in rows]
        assert seen == [("auth.sign_in_failed", "mgr", "manager", "form")] * 3 + [("auth.sign_in_failed", "mgr", "manager", "api")] * 2
        assert all(e.origin == "127.0.0.1" and e.hall_id is not None for e in rows)


def test_a_good_sign_in_is_audited_with_its_way_in(client, accounts, hall):
    from sqlmodel import select

    from hallq.core.models import AuditEntry

    accounts("mgr", "staff01")
    assert client.post("/api/v1/session", json={"name": "mgr", "password": PASSWORD}).status_code == 200
    assert client_sign_in(client.application.test_client(), "staff01", PASSWORD).status_code == 302
    with hall.db.read() as session:
        rows = session.exec(select(AuditEntry).where(AuditEntry.action == "auth.sign_in")).all()
        assert [(e.actor, e.detail["via"]) for e in rows] == [("mgr", "api"), ("staff01", "form")]


def test_every_answer_carries_the_security_headers(app, client, accounts):
    accounts("mgr")
    client_sign_in(client, "mgr", PASSWORD)
    for path in ("/login", "/manager/district", "/admin/district", "/api/v1/halls", "/displays/hall.html", "/t/district/nothing"):
        r = client.get(path)
        csp = r.headers["Content-Security-Policy"]
        assert "script-src 'self';" in csp and "'unsafe-inline'" not in csp and "object-src 'none'" in csp, path
        assert "frame-ancestors 'none'" in csp and r.headers["X-Frame-Options"] == "DENY", path
        assert r.headers["X-Content-Type-Options"] == "nosniff" and r.headers["Referrer-Policy"] == "same-origin", path
        assert "Strict-Transport-Security" not in r.headers  # plain HTTP
    assert "max-age=" in client.get("/login", base_url="https://localhost").headers["Strict-Transport-Security"]


def test_only_the_displays_may_be_framed_and_only_by_whom_the_settings_name(hall, tmp_path):
    app = make_app(hall, instance_path=tmp_path / "instance", secret_key="s", display_frame_ancestors="https://shell.hall.local")
    client = app.test_client()
    display = client.get("/displays/hall.html")
    assert display.status_code == 200 and "frame-ancestors https://shell.hall.local" in display.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in display.headers
    assert client.get("/login").headers["X-Frame-Options"] == "DENY"

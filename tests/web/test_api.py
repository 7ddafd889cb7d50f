"""The REST API: status codes, JSON errors, auth and roles, the OpenAPI document."""

import pytest

from support.halls import both_windows_busy_with_mi

H = "/api/v1/halls/district"


@pytest.fixture
def kiosk(users):
    return users.token("kiosk1", "device")


@pytest.fixture
def staff(users):
    return users.token("staff1", "staff", display_name="王芳", staff_no="1001")


@pytest.fixture
def mgr(users):
    return users.token("mgr1", "manager")


def test_issue_ticket_returns_201_with_number_and_estimate(client, kiosk):
    r = client.post(f"{H}/tickets", json={"service": "SI"}, headers=kiosk)
    assert r.status_code == 201
    body = r.get_json()
    assert body["number"] == "A001" and body["status"] == "waiting" and body["ahead"] == 0
    r2 = client.post(f"{H}/tickets", json={"service": "SI", "priority": "normal"}, headers=kiosk).get_json()
    assert r2["number"] == "A002" and r2["ahead"] == 1 and r2["estimated_wait_minutes"] > 0
    got = client.get(f"{H}/tickets/{body['id']}")
    assert got.status_code == 200 and got.get_json()["number"] == "A001"


def test_the_wait_told_is_the_predictors(client, kiosk, hall, boss, clock):
    """Nobody ahead in SI (the simple estimate: 0), but both SI windows are busy and the older MI
    tickets go first: the answer, the ticket and the queue all tell the predictor's wait."""
    both_windows_busy_with_mi(hall, boss, clock)
    body = client.post(f"{H}/tickets", json={"service": "SI"}, headers=kiosk).get_json()
    assert body["ahead"] == 0 and body["estimated_wait_minutes"] > 10
    assert client.get(f"{H}/tickets/{body['id']}").get_json()["estimated_wait_minutes"] == body["estimated_wait_minutes"]
    queue = {row["service"]: row for row in client.get(f"{H}/queue").get_json()["services"]}
    assert queue["SI"]["estimated_wait_minutes"] > 10


def test_with_prediction_off_the_simple_estimate_is_told(hall, boss, clock, tmp_path, users):
    from support.halls import make_app

    app = make_app(hall, instance_path=tmp_path / "off", secret_key="test-secret", wait_prediction=False)
    both_windows_busy_with_mi(hall, boss, clock)
    body = app.test_client().post(f"{H}/tickets", json={"service": "SI"}, headers=users.token("kiosk2", "device")).get_json()
    assert body["ahead"] == 0 and body["estimated_wait_minutes"] == 0


def test_issuing_needs_credentials(client):
    r = client.post(f"{H}/tickets", json={"service": "SI"})
    assert r.status_code == 401
    assert r.get_json()["error"]["code"] == "login_required"
    r = client.post(f"{H}/tickets", json={"service": "SI"}, headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "bad_token"


@pytest.mark.parametrize(
    "body, status, code",
    [
        ({"service": "ZZ"}, 404, "unknown_service"),
        ({"service": "SI", "priority": "vip"}, 422, "validation_failed"),
        ({"service": "SI", "extra": 1}, 422, "validation_failed"),
        ({}, 422, "validation_failed"),
        ({"service": 12}, 422, "validation_failed"),
        ([1, 2], 400, "bad_json"),
    ],
)
def test_bad_ticket_requests_get_structured_errors(client, kiosk, body, status, code):
    r = client.post(f"{H}/tickets", json=body, headers=kiosk)
    assert r.status_code == status
    assert r.get_json()["error"]["code"] == code
    assert r.get_json()["error"]["message"]


def test_malformed_json_is_400_not_500(client, kiosk):
    r = client.post(f"{H}/tickets", data="{not json", headers={**kiosk, "Content-Type": "application/json"})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "bad_json"


def test_json_nested_past_the_recursion_limit_is_400_not_500(client, kiosk):
    deep = "[" * 5000 + "]" * 5000
    r = client.post(f"{H}/tickets", data=deep, headers={**kiosk, "Content-Type": "application/json"})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "bad_json"


@pytest.mark.parametrize("services", [{"TX": "2"}, {"TX": True}])
def test_numbers_must_be_json_numbers(client, mgr, services):
    r = client.put(f"{H}/windows/2/services", json={"services": services}, headers=mgr)
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "validation_failed"
    r = client.patch(f"{H}/balancer", json={"limits": {"max_changes_per_hour": "5"}}, headers=mgr)
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "validation_failed"


def test_unknown_hall_window_and_route_are_404_json(client, staff):
    assert client.get("/api/v1/halls/nowhere/queue").get_json()["error"]["code"] == "unknown_hall"
    r = client.post(f"{H}/windows/99/open", headers=staff)
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "unknown_window"
    r = client.get("/api/v1/nothing-here")
    assert r.status_code == 404 and "error" in r.get_json()
    r = client.post(f"{H}/windows/1/dance", headers=staff)
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "unknown_action"


def test_staff_window_flow(client, kiosk, staff):
    client.post(f"{H}/tickets", json={"service": "SI"}, headers=kiosk)
    client.post(f"{H}/tickets", json={"service": "MI", "priority": "green"}, headers=kiosk)
    assert client.post(f"{H}/windows/1/open", headers=staff).get_json()["state"] == "idle"
    called = client.post(f"{H}/windows/1/call-next", headers=staff).get_json()
    assert called["state"] == "serving" and called["ticket"]["number"] == "B001"  # green channel first
    assert called["staff"] == {"name": "王芳", "staff_no": "1001"}
    assert client.post(f"{H}/windows/1/recall", headers=staff).get_json()["ticket"]["recalls"] == 1
    assert client.post(f"{H}/windows/1/start", headers=staff).get_json()["ticket"]["status"] == "serving"
    done = client.post(f"{H}/windows/1/complete", headers=staff).get_json()
    assert done["state"] == "idle" and done["last_ticket"]["status"] == "done"
    busy = client.post(f"{H}/windows/1/pause", json={}, headers=staff)
    assert busy.status_code == 422 and busy.get_json()["error"]["code"] == "reason_required"
    assert client.post(f"{H}/windows/1/pause", json={"reason": "午休"}, headers=staff).get_json()["state"] == "paused"
    r = client.post(f"{H}/windows/1/call-next", headers=staff)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "window_paused"
    assert client.post(f"{H}/windows/1/resume", headers=staff).get_json()["state"] == "idle"
    called = client.post(f"{H}/windows/1/call", json={"ticket": "A001"}, headers=staff).get_json()
    assert called["ticket"]["number"] == "A001"
    moved = client.post(f"{H}/windows/1/transfer", json={"service": "HF"}, headers=staff).get_json()
    assert moved["state"] == "idle" and moved["last_ticket"]["service"] == "HF"
    empty = client.post(f"{H}/windows/1/call-next", headers=staff)
    assert empty.status_code == 409 and empty.get_json()["error"]["code"] == "queue_empty"
    assert client.post(f"{H}/windows/1/close", headers=staff).get_json()["state"] == "closed"


def test_staff_acts_only_at_own_window(client, users, staff):
    other = users.token("staff2", "staff")
    client.post(f"{H}/windows/1/open", headers=staff)
    r = client.post(f"{H}/windows/1/call-next", headers=other)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "not_your_window"
    r = client.post(f"{H}/windows/1/open", headers=other)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "window_taken"
    r = client.put(f"{H}/windows/1/services", json={"services": {"SI": 1}}, headers=staff)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "manager_only"


def test_manager_covers_any_window_and_changes_services(client, users, staff, mgr, kiosk, hall):
    client.post(f"{H}/windows/2/open", headers=staff)
    client.post(f"{H}/tickets", json={"service": "SI"}, headers=kiosk)
    assert client.post(f"{H}/windows/2/call-next", headers=mgr).get_json()["ticket"]["number"] == "A001"
    r = client.put(f"{H}/windows/2/services", json={"services": {"TX": 2, "BL": 1}}, headers=mgr)
    assert r.status_code == 200
    assert r.get_json()["services"] == [{"code": "BL", "weight": 1.0}, {"code": "TX", "weight": 2.0}]
    bad = client.put(f"{H}/windows/2/services", json={"services": {"TX": 0}}, headers=mgr)
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "bad_weight"
    from sqlmodel import select
    from hallq.core.models import AuditEntry

    with hall.db.read() as s:
        entry = s.exec(select(AuditEntry).where(AuditEntry.action == "window.services")).one()
        assert entry.actor == "mgr1" and entry.detail["after"] == {"TX": 2.0, "BL": 1.0}
        assert entry.detail["before"] == {"SI": 2.0, "MI": 1.0}


def test_manager_of_another_hall_is_refused(client, hall, users, tmp_path):
    from hallq.core.hallfile import parse_hall_file
    from support.project import EXAMPLE_HALL

    spec = parse_hall_file(EXAMPLE_HALL)
    spec.hall.id, spec.hall.slug = "other-hall", "other"
    hall.load_hall(spec)
    outsider = users.token("mgr-other", "manager", hall="other")
    r = client.post(f"{H}/windows/1/open", headers=outsider)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "other_hall"


def test_read_endpoints(client, kiosk):
    client.post(f"{H}/tickets", json={"service": "SI"}, headers=kiosk)
    q = client.get(f"{H}/queue").get_json()
    si = next(s for s in q["services"] if s["service"] == "SI")
    assert si["waiting"] == 1 and si["name"] == "社会保险"
    ws = client.get(f"{H}/windows").get_json()["windows"]
    assert len(ws) == 20 and ws[0]["state"] == "closed"
    assert client.get(f"{H}/windows/3").get_json()["number"] == 3


def test_only_the_holder_and_the_halls_people_learn_a_tickets_tracking_id(client, users, kiosk, staff):
    issued = client.post(f"{H}/tickets", json={"service": "SI"}, headers=kiosk).get_json()
    secret = issued["id"]  # the issuer prints it as the ticket's QR
    client.post(f"{H}/windows/1/open", headers=staff)
    client.post(f"{H}/windows/1/call-next", headers=staff)
    for url in (f"{H}/tickets/A001", f"{H}/windows/1", f"{H}/windows"):
        anonymous = client.get(url)
        assert anonymous.status_code == 200 and secret not in anonymous.get_data(as_text=True), url
        assert secret in client.get(url, headers=staff).get_data(as_text=True), url
    assert client.get(f"{H}/tickets/A001").get_json()["number"] == "A001"
    assert client.get(f"{H}/windows/1").get_json()["ticket"]["number"] == "A001"
    assert client.get(f"{H}/tickets/{secret}").get_json()["id"] == secret  # its holder names it
    assert secret not in client.get(f"{H}/windows/1", headers=kiosk).get_data(as_text=True)  # devices see numbers


def test_session_login_requires_csrf_for_changes(client, users):
    users.token("mgr2", "manager")
    bad = client.post("/api/v1/session", json={"name": "mgr2", "password": "wrong"})
    assert bad.status_code == 401 and bad.get_json()["error"]["code"] == "bad_credentials"
    ok = client.post("/api/v1/session", json={"name": "mgr2", "password": "password-mgr2"})
    assert ok.status_code == 200
    csrf = ok.get_json()["csrf_token"]
    no_csrf = client.post(f"{H}/windows/1/open")
    assert no_csrf.status_code == 403 and no_csrf.get_json()["error"]["code"] == "csrf_failed"
    with_csrf = client.post(f"{H}/windows/1/open", headers={"X-CSRFToken": csrf})
    assert with_csrf.status_code == 200
    assert client.delete("/api/v1/session", headers={"X-CSRFToken": csrf}).status_code == 204
    assert client.post(f"{H}/windows/1/close", headers={"X-CSRFToken": csrf}).status_code == 401


def test_openapi_document_describes_the_api(client):
    doc = client.get("/api/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    assert "/api/v1/halls/{hall}/tickets" in doc["paths"]
    assert "/api/v1/halls/{hall}/windows/{window}/{action}" in doc["paths"]
    assert set(doc["components"]["schemas"]) >= {"Error", "Ticket", "TicketCreate", "Priority"}
    ticket, window = doc["components"]["schemas"]["Ticket"], doc["components"]["schemas"]["Window"]
    assert ticket["properties"]["id"]["description"].startswith("Unguessable id used by the phone tracker")  # from hallq_protocol.shapes
    assert "id" not in ticket["required"] and "number" in ticket["required"]  # public copies omit it
    assert "called before this one" in ticket["properties"]["ahead"]["description"] and window["properties"]["version"]["description"]
    from openapi_spec_validator import validate

    validate(doc)


def test_oversized_body_is_refused(client, kiosk):
    r = client.post(f"{H}/tickets", data="x" * 200_000, headers={**kiosk, "Content-Type": "application/json"})
    assert r.status_code == 413 and "error" in r.get_json()


def test_a_wrong_method_says_which_are_allowed(client, kiosk):
    r = client.delete(f"{H}/tickets", headers=kiosk)
    assert r.status_code == 405 and r.get_json()["error"]["code"] == "method_not_allowed"
    assert "POST" in r.headers["Allow"] and r.headers["Content-Type"].startswith("application/json")


def test_call_and_transfer_need_what_they_act_on_and_the_openapi_says_so(client, staff):
    client.post(f"{H}/windows/1/open", headers=staff)
    for action, field in (("call", "ticket"), ("transfer", "service")):
        r = client.post(f"{H}/windows/1/{action}", json={}, headers=staff)
        assert r.status_code == 422 and r.get_json()["error"]["details"][0]["field"] == field
        spec = client.get("/api/openapi.json").get_json()
        body = spec["paths"]["/api/v1/halls/{hall}/windows/{window}/" + action]["post"]["requestBody"]
        assert body["required"] is True
        schema = spec["components"]["schemas"][body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]]
        assert schema["required"] == [field]


def test_a_balancer_change_with_nothing_in_it_is_refused(client, mgr):
    before = client.get(f"{H}/balancer", headers=mgr).get_json()
    for body in (None, {}):
        r = client.patch(f"{H}/balancer", json=body, headers=mgr) if body is not None else client.patch(f"{H}/balancer", headers=mgr)
        assert r.status_code == 422 and r.get_json()["error"]["code"] == "nothing_to_change"
    assert client.get(f"{H}/balancer", headers=mgr).get_json() == before


def test_a_tickets_journey_for_the_halls_people(client, kiosk, staff, mgr):
    client.post(f"{H}/tickets", json={"service": "SI"}, headers=kiosk)
    client.post(f"{H}/windows/1/open", headers=staff)
    client.post(f"{H}/windows/1/call-next", headers=staff)
    client.post(f"{H}/windows/1/complete", headers=staff)

    journey = client.get(f"{H}/tickets/A001/journey", headers=mgr)
    assert journey.status_code == 200, journey.get_json()
    body = journey.get_json()
    assert [s["step"] for s in body["steps"]] == ["issued", "called", "completed"]
    assert [s["staff"] for s in body["steps"]] == [None, "王芳", "王芳"]
    assert (body["outcome"], body["legs"][0]["window"]) == ("completed", 1)
    assert client.get(f"{H}/tickets/A001/journey", headers=staff).status_code == 200
    assert client.get(f"{H}/tickets/A001/journey").status_code == 401
    refused = client.get(f"{H}/tickets/A001/journey", headers=kiosk)
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "staff_only"
    assert client.get(f"{H}/tickets/Z999/journey", headers=mgr).get_json()["error"]["code"] == "unknown_ticket"
    assert "/api/v1/halls/{hall}/tickets/{ticket_id}/journey" in client.get("/api/openapi.json").get_json()["paths"]


def test_the_halls_figures_for_its_managers(client, kiosk, staff, mgr, clock):
    """Monday 23 Nov 2026 (a working day), from 10:00: A001 (SI) called at window 1 at 10:03
    (wait 3), completed 10:10 without "start" (handling 7, from the call); A002 (SI) still
    waiting. The next Saturday, 28 Nov, is a day off: the week has 5 working days."""
    client.post(f"{H}/tickets", json={"service": "SI"}, headers=kiosk)
    client.post(f"{H}/tickets", json={"service": "SI"}, headers=kiosk)
    client.post(f"{H}/windows/1/open", headers=staff)
    clock.advance(minutes=3)
    client.post(f"{H}/windows/1/call-next", headers=staff)
    clock.advance(minutes=7)
    client.post(f"{H}/windows/1/complete", headers=staff)

    today = client.get(f"{H}/stats", headers=mgr)
    assert today.status_code == 200, today.get_json()
    body = today.get_json()
    assert (body["since"], body["until"], body["live_days"], body["working_days"]) == ("2026-11-23", "2026-11-23", ["2026-11-23"], 1)
    t = body["totals"]
    assert (t["tickets"], t["cases"], t["wait_mean"], t["handling_mean"], t["tickets_per_working_day"]) == (2, 1, 3.0, 7.0, 2.0)
    assert [(s["service"], s["tickets"], s["cases"]) for s in body["services"]] == [("SI", 2, 1)]
    assert [(z["zone"], z["tickets"]) for z in body["zones"]] == [("personal", 2)]
    assert [(w["window"], w["cases"], w["handling_mean"]) for w in body["windows"]] == [(1, 1, 7.0)]
    assert [(s["display_name"], s["cases"]) for s in body["staff"]] == [("王芳", 1)]
    assert [(h["hour"], h["tickets"]) for h in body["hours"]] == [(10, 2)]
    assert body["heat"] == [{"day": "2026-11-23", "hour": 10, "tickets": 2, "wait_mean": 3.0}]

    week = client.get(f"{H}/stats?since=2026-11-23&until=2026-11-29", headers=mgr).get_json()
    assert (week["working_days"], week["totals"]["cases_per_working_day"]) == (5, 0.2)
    month = client.get(f"{H}/stats?month=2026-11", headers=mgr).get_json()
    assert (month["since"], month["until"], month["totals"]["tickets"]) == ("2026-11-01", "2026-11-30", 2)

    assert client.get(f"{H}/stats").status_code == 401
    assert client.get(f"{H}/stats", headers=staff).get_json()["error"]["code"] == "manager_only"
    for query, code in (("day=2026-13-01", "bad_date"), ("month=26-11", "bad_month"), ("since=2026-11-01", "bad_range"),
                        ("day=2026-11-01&month=2026-11", "bad_range")):
        answer = client.get(f"{H}/stats?{query}", headers=mgr)
        assert answer.status_code == 400 and answer.get_json()["error"]["code"] == code, (query, answer.get_json())
    backwards = client.get(f"{H}/stats?since=2026-11-30&until=2026-11-01", headers=mgr)
    assert backwards.status_code == 422 and backwards.get_json()["error"]["code"] == "bad_range"
    assert "/api/v1/halls/{hall}/stats" in client.get("/api/openapi.json").get_json()["paths"]

    import io

    from openpyxl import load_workbook

    download = client.get(f"{H}/stats.xlsx?month=2026-11", headers=mgr)
    assert download.status_code == 200 and download.mimetype.endswith("spreadsheetml.sheet")
    assert 'filename="hallq-district-2026-11-01_2026-11-30.xlsx"' in download.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(download.data))
    assert [row for row in book["窗口"].iter_rows(values_only=True)][1][:3] == (1, 0, 1)  # window 1: 0 tickets (legs only), 1 case
    assert client.get(f"{H}/stats.xlsx", headers=staff).status_code == 403

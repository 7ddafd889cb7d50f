"""好差评 over HTTP (issue 14): the tracker rates without signing in, by the ticket's tracking id;
managers list and work cases (CSRF for a browser session), staff read their own; the pages
render in Chinese and English."""

from __future__ import annotations

from support.halls import Desk, person
from support.web import client_sign_in, csrf_token

from hallq.core.accounts import users as accounts
from hallq.core.office import OfficeService


def served(hall) -> dict:
    desk = Desk(hall, 1, person(hall, "s1"))
    desk("open")
    ticket = hall.issue_ticket("district", service="SI", actor=desk.actor)
    desk("call-next")
    desk("complete")
    return ticket


def manager_client(app, hall):
    OfficeService(hall).add_user(name="mgr", role="manager", password="password-mgr", hall="district")
    client = app.test_client()
    client_sign_in(client, "mgr", "password-mgr")
    return client, {"X-CSRFToken": csrf_token(client, "/?stay=1")}


def test_the_tracker_rates_a_served_ticket_once_and_a_bad_rating_opens_a_case(client, hall, users):
    ticket = served(hall)
    url = f"/api/v1/halls/district/tickets/{ticket['id']}/rating"
    form = client.get(url).get_json()
    assert [(leg["leg"], leg["window"], leg["may_rate"]) for leg in form["legs"]] == [(1, 1, True)]
    assert form["bad_reasons"][:2] == ["态度不好", "效率低"]
    r = client.post(url, json={"score": 1, "reasons": ["效率低"], "comment": "等了一个小时", "indicators": {"efficiency": 1}})
    assert r.status_code == 201 and r.get_json()["level"] == "非常不满意"
    again = client.post(url, json={"score": 5})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_reviewed"

    manager = users.token("boss", "manager")
    listed = client.get("/api/v1/halls/district/cases", headers=manager).get_json()
    assert [(c["review"]["number"], c["review"]["comment"], c["state"]) for c in listed["cases"]] == [(ticket["number"], "等了一个小时", "open")]
    case_id = listed["cases"][0]["id"]
    r = client.post(f"/api/v1/halls/district/cases/{case_id}/callback", json={"reached": True, "note": "已回访"}, headers=manager)
    assert r.status_code == 200 and r.get_json()["state"] == "called_back"
    r = client.post(f"/api/v1/halls/district/cases/{case_id}/rectify", json={"note": "x"}, headers=manager)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "case_state"


def test_bad_rating_bodies_are_refused_with_a_structured_error(client, hall):
    url = f"/api/v1/halls/district/tickets/{served(hall)['id']}/rating"
    for body in ({"score": "5"}, {"score": 5, "extra": 1}, {"score": 5, "indicators": {"speed": 3}}, {"score": 1, "comment": "长" * 201}, {}):
        r = client.post(url, json=body)
        assert r.status_code in (400, 422) and "code" in r.get_json()["error"], body
    assert client.post(url, data="{", content_type="application/json").status_code == 400
    assert all(leg["rated"] is None for leg in client.get(url).get_json()["legs"])
    # A number is not a tracking id: nobody rates another visitor's ticket by guessing it.
    assert client.post("/api/v1/halls/district/tickets/A001/rating", json={"score": 1}).status_code == 404


def test_cases_are_for_the_halls_managers_and_their_staff(client, hall, users):
    ticket = served(hall)
    client.post(f"/api/v1/halls/district/tickets/{ticket['id']}/rating", json={"score": 2})
    assert client.get("/api/v1/halls/district/cases").status_code == 401
    kiosk = users.token("kiosk", "device")
    assert client.get("/api/v1/halls/district/cases", headers=kiosk).status_code == 403
    staff = users.token("s2", "staff")
    assert client.get("/api/v1/halls/district/cases", headers=staff).get_json()["cases"] == []
    case_id = client.get("/api/v1/halls/district/cases", headers=users.token("boss", "manager")).get_json()["cases"][0]["id"]
    assert client.post(f"/api/v1/halls/district/cases/{case_id}/verify", json={"note": "x"}, headers=staff).status_code == 403
    assert client.post(f"/api/v1/halls/district/cases/{case_id}/dance", json={}, headers=staff).status_code == 404
    assert client.get("/api/v1/halls/district/cases?filter=nonsense", headers=users.token("boss2", "manager")).status_code == 422


def test_the_case_pages_need_a_manager_and_a_session_needs_its_csrf_token(app, hall):
    ticket = served(hall)
    app.test_client().post(f"/api/v1/halls/district/tickets/{ticket['id']}/rating", json={"score": 1, "comment": "<script>x</script>"})
    assert app.test_client().get("/manager/district/cases").status_code in (302, 401)
    client, headers = manager_client(app, hall)
    page = client.get("/manager/district/cases")
    assert page.status_code == 200 and "差评整改" in page.get_data(as_text=True)
    case_id = client.get("/api/v1/halls/district/cases").get_json()["cases"][0]["id"]
    detail = client.get(f"/manager/district/cases/{case_id}").get_data(as_text=True)
    assert ticket["number"] in detail and "&lt;script&gt;x&lt;/script&gt;" in detail and "<script>x</script>" not in detail
    assert client.get("/manager/district/cases/999").status_code == 404
    assert client.post(f"/api/v1/halls/district/cases/{case_id}/callback", json={"reached": False}).status_code == 403  # no CSRF token
    r = client.post(f"/api/v1/halls/district/cases/{case_id}/callback", json={"reached": False}, headers=headers)
    assert r.status_code == 200 and [s["step"] for s in r.get_json()["timeline"]] == ["opened", "callback"]
    english = client.get(f"/manager/district/cases/{case_id}?lang=en").get_data(as_text=True)
    assert "Bad-review cases" in english and "Very dissatisfied" in english


def test_a_contact_left_on_the_tracker_is_masked_on_the_page_and_revealed_once_asked(app, hall, caplog):
    ticket = served(hall)
    r = app.test_client().post(f"/api/v1/halls/district/tickets/{ticket['id']}/rating",
                               json={"score": 2, "phone": "13800138000", "consent": True})
    assert r.status_code == 201 and r.get_json()["contact"] == "138****8000" and "13800138000" not in r.get_data(as_text=True)
    client, headers = manager_client(app, hall)
    case_id = client.get("/api/v1/halls/district/cases").get_json()["cases"][0]["id"]
    page = client.get(f"/manager/district/cases/{case_id}").get_data(as_text=True)
    assert "138****8000" in page and "13800138000" not in page
    revealed = client.post(f"/api/v1/halls/district/cases/{case_id}/contact", headers=headers)
    assert revealed.status_code == 200 and revealed.get_json()["phone"] == "13800138000"
    assert "13800138000" not in caplog.text


def test_the_month_s_ratings_download_for_the_platform(client, hall, users):
    import io

    from openpyxl import load_workbook

    ticket = served(hall)
    client.post(f"/api/v1/halls/district/tickets/{ticket['id']}/rating",
                json={"score": 1, "reasons": ["态度不好"], "comment": "联系人：张三 13800138000", "phone": "13900139000", "consent": True})
    manager = users.token("boss", "manager")
    r = client.get("/api/v1/halls/district/ratings.csv?month=2026-11", headers=manager)
    assert r.status_code == 200 and r.mimetype == "text/csv"
    text = r.get_data().decode("utf-8-sig")
    header, row = text.splitlines()
    assert header.startswith("评价编号,服务大厅编码,服务大厅,事项编码") and ",非常不满意," in row and ",态度不好," in row
    # Free text masked by the one shared function; the contact left for the callback never exported.
    assert "联系人：张* 138****8000" in row and "13800138000" not in text and "1390013" not in text
    book = load_workbook(io.BytesIO(client.get("/api/v1/halls/district/ratings.xlsx?month=2026-11", headers=manager).data))
    assert book["评价明细"].max_row == 2
    assert client.get("/api/v1/halls/district/ratings.csv?month=2026-11", headers=users.token("s9", "staff")).status_code == 403
    assert client.get("/api/v1/halls/district/ratings.csv?month=2026-13", headers=manager).status_code == 400


def test_staff_see_their_own_ratings_and_cases_without_the_visitor_s_number(app, hall):
    ticket = served(hall)  # by s1 at window 1
    app.test_client().post(f"/api/v1/halls/district/tickets/{ticket['id']}/rating",
                           json={"score": 2, "reasons": ["效率低"], "phone": "13800138000", "consent": True})
    OfficeService(hall).add_user(name="s2", role="staff", password="password-s2", hall="district")
    with hall.db.write() as session:  # s1 was written straight to the database, without a password
        accounts.set_password(session, name="s1", password="password-s1")
    mine, other = app.test_client(), app.test_client()
    client_sign_in(mine, "s1", "password-s1")
    client_sign_in(other, "s2", "password-s2")
    page = mine.get("/staff/district/ratings").get_data(as_text=True)
    assert ticket["number"] in page and "效率低" in page and "不满意" in page and "待回访" in page
    assert "13800138000" not in page and "138****8000" not in page
    assert [r["ticket"] for r in mine.get("/api/v1/halls/district/ratings?month=2026-11").get_json()["ratings"]] == [ticket["number"]]
    assert other.get("/api/v1/halls/district/ratings?month=2026-11").get_json()["ratings"] == []
    assert ticket["number"] not in other.get("/staff/district/ratings").get_data(as_text=True)


def test_the_live_hall_alerts_a_manager_to_cases_that_need_them(app, hall, clock):
    ticket = served(hall)
    app.test_client().post(f"/api/v1/halls/district/tickets/{ticket['id']}/rating", json={"score": 1})
    client, _ = manager_client(app, hall)
    alerts = client.get("/manager/district/state").get_json()["alerts"]
    assert not [a for a in alerts if a["kind"].startswith("cases_")]
    clock.advance(days=10)  # Monday 23 Nov + 10 days: past its 5 working days, never called back
    alerts = client.get("/manager/district/state").get_json()["alerts"]
    assert {"kind": "cases_overdue", "count": 1} in alerts and {"kind": "callbacks_late", "count": 1} in alerts


def test_the_export_never_writes_a_formula_and_checks_its_range(client, hall, users):
    import io

    from openpyxl import load_workbook

    ticket = served(hall)
    client.post(f"/api/v1/halls/district/tickets/{ticket['id']}/rating", json={"score": 2, "comment": '=HYPERLINK("http://x","点我")'})
    manager = users.token("boss", "manager")
    text = client.get("/api/v1/halls/district/ratings.csv?month=2026-11", headers=manager).get_data().decode("utf-8-sig")
    assert ',"\'=HYPERLINK(""http://x"",""点我"")",' in text
    book = load_workbook(io.BytesIO(client.get("/api/v1/halls/district/ratings.xlsx?month=2026-11", headers=manager).data))
    sheet = book["评价明细"]
    column = [c.value for c in sheet[1]].index("评价内容") + 1
    cell = sheet.cell(row=2, column=column)
    assert cell.data_type == "s" and cell.value.startswith("'=HYPERLINK")
    for path in ("ratings", "ratings.csv"):
        backwards = client.get(f"/api/v1/halls/district/{path}?since=2026-11-30&until=2026-11-01", headers=manager)
        assert backwards.status_code == 422, path

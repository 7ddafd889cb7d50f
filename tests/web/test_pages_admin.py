"""Administration pages: a hall is configured and staffed without editing files,
through the same validation and upsert as `hallq hall load`; every change is audited."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from hallq.core.models import AuditEntry
from support.web import client_sign_in, csrf_token

PASSWORD = "password-admin"


@pytest.fixture
def admin_client(app, hall, office):
    office.add_user(name="mgr", role="manager", password=PASSWORD, hall="district")
    client = app.test_client()
    client_sign_in(client, "mgr", PASSWORD)
    return client


def post(client, path, **form):
    return client.post(path, data={"csrf_token": csrf_token(client, "/admin/district"), **form})


def add(client, kind: str, **form):
    """Submit the page's own "Add" form of a section (zones, services, windows), wherever it posts."""
    page = client.get("/admin/district").get_data(as_text=True)
    section = page[page.index(f'id="{kind}"'):]
    action = re.search(r'<form method="post" action="([^"]+)" class="row-form add">', section).group(1)
    return post(client, action, **form)


def flashes(client) -> list[tuple[str, str]]:
    return re.findall(r'class="flash (\w+)" role="alert">(.*?)<', client.get("/admin/district").get_data(as_text=True))


def test_a_new_service_and_window_reach_the_live_hall(admin_client, hall):
    add(admin_client, "services", code="VS", name="视频办", name_en="Video service", prefix="V",
         zone="personal", handling_minutes="8", daily_quota="", hours="")
    assert flashes(admin_client) == [("ok", "已保存。")]
    add(admin_client, "windows", number="21", name="视频办专窗", zone="personal", services=["VS", "SI"])
    view = hall.window("district", 21)
    assert view["name"] == "视频办专窗" and [s["code"] for s in view["services"]] == ["SI", "VS"]
    assert "视频办" in admin_client.get("/kiosk/district").get_data(as_text=True)
    with hall.db.read() as session:
        assert session.exec(select(AuditEntry).where(AuditEntry.action == "hall.edit", AuditEntry.actor == "mgr")).first()


def test_bad_changes_are_refused_with_a_reason_and_change_nothing(admin_client, hall):
    add(admin_client, "services", code="XX", name="重复号头", prefix="A", handling_minutes="5")
    assert flashes(admin_client) == [("error", "未保存：号头 A 已被事项 SI 使用。")]
    add(admin_client, "services", code="YY", name="坏数字", prefix="Y", handling_minutes="many")
    assert flashes(admin_client) == [("error", "未保存：每人办理分钟数须为数字。")]
    assert not {"XX", "YY"} & {q["service"] for q in hall.queue("district")}


RAW = ("String should", "Field required", "value_error", "Input should", "at most", "pattern")


def test_adding_an_existing_service_or_window_is_refused_and_overwrites_nothing(admin_client, hall, office):
    hall.issue_ticket("district", service="SI", actor=office.actor_for_login("mgr", PASSWORD))
    add(admin_client, "services", code="SI", name="新事项", prefix="Z", handling_minutes="5")
    assert flashes(admin_client) == [("error", "未保存：事项代码 SI 已存在。如需修改，请在列表中该行编辑。")]
    si = next(q for q in hall.queue("district") if q["service"] == "SI")
    assert (si["name"], si["prefix"], si["waiting"]) == ("社会保险", "A", 1)
    before = hall.window("district", 1)
    add(admin_client, "windows", number="1", name="新窗口", services=["MI"])
    assert flashes(admin_client) == [("error", "未保存：窗口 1 已存在。如需修改，请在列表中该行编辑。")]
    after = hall.window("district", 1)
    assert (after["name"], after["services"]) == (before["name"], before["services"])
    add(admin_client, "zones", code="personal", name="新区域")
    assert flashes(admin_client)[0][0] == "error"
    # Editing stays a separate action: the row's own form changes the window.
    post(admin_client, "/admin/district/windows", number="1", name="1号窗口（改）", services=["SI"])
    assert flashes(admin_client) == [("ok", "已保存。")] and hall.window("district", 1)["name"] == "1号窗口（改）"
    # And an edit of what is not there does not add it.
    post(admin_client, "/admin/district/windows", number="77", name="不存在", services=["SI"])
    assert flashes(admin_client)[0][0] == "error" and 77 not in [w["number"] for w in hall.windows("district")]


def test_a_name_too_long_is_refused_not_cut_in_chinese_or_english(admin_client, hall):
    long = "长" * 5000
    add(admin_client, "services", code="LG", name=long, prefix="L", handling_minutes="5")
    assert flashes(admin_client) == [("error", "未保存：名称过长：最多 40 个字符（现为 5000 个）。")]
    add(admin_client, "windows", number="30", name="三十号", services=["SI"])
    post(admin_client, "/admin/district/windows", number="30", name="窗" * 41, services=["SI"])
    assert flashes(admin_client)[0][0] == "error" and hall.window("district", 30)["name"] == "三十号"
    add(admin_client, "zones", code="Z1", name="区", name_en="x" * 81)
    [(kind, text)] = flashes(admin_client)
    assert kind == "error" and "英文名称" in text and "80" in text
    admin_client.get("/admin/district?lang=en")
    add(admin_client, "services", code="LG", name=long, prefix="L", handling_minutes="5")
    assert flashes(admin_client) == [("error", "Not saved: Name is too long: at most 40 characters (this one has 5000).")]
    assert "LG" not in {q["service"] for q in hall.queue("district")}
    assert "at most 40 characters" in admin_client.get("/admin/district").get_data(as_text=True)  # said before typing too


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_validation_messages_are_translated_never_pydantics_own(admin_client, hall, lang):
    admin_client.get(f"/admin/district?lang={lang}")
    bad = [
        dict(code="a b", name="空格", prefix="Q", handling_minutes="5"),
        dict(code="Q1", name="小写", prefix="q1", handling_minutes="5"),
        dict(code="Q2", name="零分钟", prefix="Q", handling_minutes="0"),
        dict(code="Q3", name="坏时段", prefix="Q", handling_minutes="5", hours="9-8"),
        dict(code="Q4", name="", prefix="Q", handling_minutes="5"),
        dict(code="Q5", name="配额", prefix="Q", handling_minutes="5", daily_quota="100000"),
    ]
    texts = []
    for form in bad:
        add(admin_client, "services", **form)
        [(kind, text)] = flashes(admin_client)
        assert kind == "error"
        texts.append(text)
    for text in texts:
        assert not any(raw in text for raw in RAW if lang == "zh" or raw != "at most"), text
        assert ("未保存" in text) == (lang == "zh"), text
    if lang == "zh":
        assert texts[1] == "未保存：号头为一到两个大写字母（A–Z）。"
        assert texts[2] == "未保存：每人办理分钟数须大于 0。"


def test_retiring_a_window_hides_it(admin_client, hall):
    post(admin_client, "/admin/district/windows/20/retire")
    assert 20 not in [w["number"] for w in hall.windows("district")]


def test_accounts_are_created_deactivated_and_limited_by_role(admin_client, hall, office, app):
    post(admin_client, "/admin/district/users", name="newstaff", role="staff", password="new-password", display_name="新员工", staff_no="1099")
    assert office.actor_for_login("newstaff", "new-password") is not None
    post(admin_client, "/admin/district/users/newstaff", display_name="新员工", staff_no="1099", role="staff", active_present="1")
    assert office.actor_for_login("newstaff", "new-password") is None  # unticked "active": deactivated
    post(admin_client, "/admin/district/users", name="boss", role="admin", password="boss-password")
    assert flashes(admin_client)[0][0] == "error"  # a manager may not create an admin
    post(admin_client, "/admin/district/users/mgr", role="staff", active_present="1", active="on")
    assert flashes(admin_client)[0][0] == "error"  # nor demote themself
    office.add_user(name="chief", role="admin", password="chief-password", hall="district")
    post(admin_client, "/admin/district/users/chief", password="taken-over", active_present="1")
    assert flashes(admin_client)[0] == ("error", "未保存：您无权修改角色高于您的账号。")  # nor touch an administrator's account
    assert office.actor_for_login("chief", "chief-password") is not None
    staff = app.test_client()
    office.add_user(name="plain", role="staff", password="plain-password", hall="district")
    client_sign_in(staff, "plain", "plain-password")
    assert staff.get("/admin/district").status_code == 403


def test_devices_are_registered_shown_once_and_revoked(admin_client, hall):
    r = post(admin_client, "/admin/district/devices", name="dispenser-1", role="dispenser", window="")
    assert r.status_code == 201
    password = re.search(r'id="new-device-password">([^<]+)<', r.get_data(as_text=True)).group(1)
    page = admin_client.get("/admin/district").get_data(as_text=True)
    assert "dispenser-1" in page and password not in page  # shown once only
    alerts = admin_client.get("/manager/district/state").get_json()["alerts"]
    assert {"kind": "device_offline", "device": "dispenser-1", "window": None} in alerts
    post(admin_client, "/admin/district/devices/dispenser-1/revoke")
    assert ("ok", "设备 dispenser-1 的凭据已吊销。") in flashes(admin_client)
    assert not [a for a in admin_client.get("/manager/district/state").get_json()["alerts"] if a["kind"] == "device_offline"]


def test_device_registration_and_revocation_are_audited(admin_client, hall):
    post(admin_client, "/admin/district/devices", name="caller-3", role="caller", window="3")
    post(admin_client, "/admin/district/devices/caller-3/revoke")
    with hall.db.read() as session:
        rows = session.exec(select(AuditEntry).where(AuditEntry.action.like("device.%")).order_by(AuditEntry.id)).all()
        seen = [(r.action, r.target, r.actor, r.actor_role, r.detail) for r in rows]
        when = {r.at.replace(tzinfo=None) for r in rows}
    assert seen == [("device.add", "caller-3", "mgr", "manager", {"role": "caller", "window": 3}),
                    ("device.revoke", "caller-3", "mgr", "manager", {"role": "caller", "window": 3})]
    assert when == {hall.clock.now().replace(tzinfo=None)}  # when: the hall's clock


def test_a_manager_of_another_hall_cannot_register_devices_here(app, hall, office):
    from hallq.core.devices.service import DeviceService
    from hallq.core.errors import Forbidden
    from hallq.core.txn import Actor

    stranger = Actor(name="other-mgr", role="manager", hall_id=office.hall_id("district") + 100)
    with pytest.raises(Forbidden):
        DeviceService(hall).add(hall="district", name="d9", role="dispenser", actor=stranger)
    assert [d["device"] for d in DeviceService(hall).list("district")] == []


def test_account_names_are_refused_not_cut_and_refusals_are_translated(admin_client, hall, office):
    post(admin_client, "/admin/district/users", name="longname", role="staff", password="new-password", display_name="王" * 5000)
    assert flashes(admin_client) == [("error", "未保存：显示姓名过长：最多 64 个字符（现为 5000 个）。")]
    assert "longname" not in {u["name"] for u in office.users("district", actor=office.actor_for_login("mgr", PASSWORD))}
    post(admin_client, "/admin/district/users", name="newstaff", role="staff", password="new-password", display_name="新员工")
    post(admin_client, "/admin/district/users/newstaff", display_name="新" * 65, staff_no="1099", role="staff")
    [(kind, text)] = flashes(admin_client)
    assert kind == "error" and "64" in text
    users = {u["name"]: u for u in office.users("district", actor=office.actor_for_login("mgr", PASSWORD))}
    assert users["newstaff"]["display_name"] == "新员工"
    post(admin_client, "/admin/district/users", name="newstaff", role="staff", password="new-password")
    assert flashes(admin_client) == [("error", "未保存：该用户名已被使用。")]
    post(admin_client, "/admin/district/users", name="shortpw", role="staff", password="short")
    assert flashes(admin_client) == [("error", "未保存：密码至少需要 8 个字符。")]


def test_the_kiosk_answers_a_body_that_is_no_choice_with_a_clear_refusal(admin_client, hall):
    token = csrf_token(admin_client, "/kiosk/district")
    for body in ("[" * 5000 + "]" * 5000, "[1, 2]", "{not json"):
        r = admin_client.post("/kiosk/district/tickets", data=body,
                              headers={"Content-Type": "application/json", "X-CSRFToken": token})
        assert r.status_code < 500 and r.get_json()["error"]["code"] == "unknown_service", body


def test_a_manager_closes_a_day_and_opens_a_saturday_on_the_hall_form(admin_client, hall, clock):
    from hallq.core.errors import Refused
    from support.halls import person

    form = dict(name="示范区政务服务中心", name_en="Demo", hours="08:30-12:00, 13:30-17:30", recall_limit="3",
                requeue_skipped="on", requeue_grace_minutes="10", stop_issuing_minutes_before_close="15", calendar="cn")
    post(admin_client, "/admin/district/hall", **form, closed_days="2026-11-24\n2026-12-31", extra_working_days="2026-11-28")
    assert flashes(admin_client) == [("ok", "已保存。")]
    calendar = hall.hall_info("district")["calendar"]
    assert (calendar["closed_days"], calendar["extra_working_days"]) == (["2026-11-24", "2026-12-31"], ["2026-11-28"])
    page = admin_client.get("/admin/district").get_data(as_text=True)
    assert "2026-11-24\n2026-12-31</textarea>" in page  # shown as saved, for the next change
    with hall.db.read() as session:
        line = session.exec(select(AuditEntry).where(AuditEntry.action == "hall.edit", AuditEntry.actor == "mgr")).first()
    assert line is not None

    kiosk = person(hall, "kiosk1", "device")
    clock.advance(days=1)  # Tuesday 24 Nov: closed by the manager
    with pytest.raises(Refused) as refused:
        hall.issue_ticket("district", service="SI", actor=kiosk)
    assert refused.value.details["reason"] == "closure"
    clock.advance(days=4)  # Saturday 28 Nov: opened by the manager
    assert hall.issue_ticket("district", service="SI", actor=kiosk)["number"] == "A001"

    post(admin_client, "/admin/district/hall", **form, closed_days="2026-02-30", extra_working_days="")
    [(kind, text)] = flashes(admin_client)
    assert (kind, text) == ("error", "未保存：闭厅日期（每行一个，如 2026-12-24）：请填写真实日期，如 2026-12-24。")  # refused, nothing changed
    assert hall.hall_info("district")["calendar"]["closed_days"] == ["2026-11-24", "2026-12-31"]


def test_a_manager_gives_fridays_and_saturdays_hours_of_their_own_on_the_hall_form(admin_client, hall):
    form = dict(name="示范区政务服务中心", name_en="Demo", hours="08:30-12:00, 13:30-17:30", recall_limit="3",
                requeue_grace_minutes="10", stop_issuing_minutes_before_close="15", calendar="cn")
    post(admin_client, "/admin/district/hall", **form, weekday_hours="周五：08:30-12:00，13:30-16:00\nsat 09:00-12:00\n")
    assert flashes(admin_client) == [("ok", "已保存。")]
    assert hall.hall_info("district")["weekday_hours"] == {"fri": ["08:30-12:00", "13:30-16:00"], "sat": ["09:00-12:00"]}
    page = admin_client.get("/admin/district").get_data(as_text=True)
    assert "fri: 08:30-12:00, 13:30-16:00\nsat: 09:00-12:00\n</textarea>" in page  # shown as saved, for the next change

    for text, problem in (("fry: 09:00-12:00", "每行以星期开头"), ("sat: 09:00-12:00\n周六 10:00-11:00", "每个星期只写一次"),
                          ("sat:", "请写星期、冒号和时段"), ("sat: 12:00-09:00", "请写星期、冒号和时段")):
        post(admin_client, "/admin/district/hall", **form, weekday_hours=text)
        [(kind, message)] = flashes(admin_client)
        assert kind == "error" and message.startswith("未保存：部分工作日的其他时段") and problem in message, (text, message)
    assert hall.hall_info("district")["weekday_hours"] == {"fri": ["08:30-12:00", "13:30-16:00"], "sat": ["09:00-12:00"]}

    post(admin_client, "/admin/district/hall", **form, weekday_hours="")
    assert hall.hall_info("district")["weekday_hours"] == {}  # every day the hall's hours again


def test_the_review_settings_are_changed_on_the_page_kept_by_other_edits_and_refused_when_bad(admin_client, hall):
    from hallq.core.models import Hall
    from hallq.core.reviews.settings import of_hall

    def settings():
        with hall.db.read() as session:
            return of_hall(session.exec(select(Hall)).one())

    form = dict(rectify_working_days="15", callback_working_days="1", due_soon_working_days="2", rate_within_working_days="5",
                unrated_becomes="4", contact_retention_days="60", bad_reasons="态度不好\n效率低\n窗口排队太久\n")
    post(admin_client, "/admin/district/reviews", **form)
    assert flashes(admin_client) == [("ok", "已保存。")]
    saved = settings()
    assert (saved.rectify_working_days, saved.unrated_becomes, saved.contact_retention_days, saved.bad_reasons) == (
        15, 4, 60, ["态度不好", "效率低", "窗口排队太久"])
    page = admin_client.get("/admin/district").get_data(as_text=True)
    assert 'name="rectify_working_days" type="number" min="1" max="60" value="15"' in page
    # Another section's change keeps the 好差评 settings (the page edits the whole hall file).
    post(admin_client, "/admin/district/hall", name="示范区政务服务中心", name_en="", hours="08:30-12:00, 13:30-17:30",
         recall_limit="3", requeue_grace_minutes="10", stop_issuing_minutes_before_close="15", calendar="cn")
    assert settings().rectify_working_days == 15
    post(admin_client, "/admin/district/reviews", **{**form, "rectify_working_days": "0"})
    assert flashes(admin_client) == [("error", "未保存：整改差评的工作日数须不小于 1。")]
    post(admin_client, "/admin/district/reviews", **{**form, "unrated_becomes": "1"})
    assert flashes(admin_client)[0][0] == "error" and settings().unrated_becomes == 4

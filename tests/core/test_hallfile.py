"""The hall file: validation with readable messages, and reloading a live hall."""

from __future__ import annotations

import copy
import tomllib

import pytest
from sqlmodel import select

from hallq.core.errors import Invalid, NotFound, Refused
from hallq.core.hallfile import HallFile, parse_hall_file
from hallq.core.models import AuditEntry
from support.halls import EXAMPLE, person
from support.project import EXAMPLE_HALL

SMALL = """
[hall]
id = "test-small"
slug = "small"
name = "小厅"
hours = ["08:30-12:00"]

[[zones]]
code = "p"
name = "个人"

[[services]]
code = "SI"
name = "社保"
prefix = "A"
zone = "p"
handling_minutes = 10

[[windows]]
number = 1
name = "1号窗口"
zone = "p"
services = { SI = 1.0 }
"""

EXTRA_SERVICE = """
[[services]]
code = "MI"
name = "医保"
prefix = "B"
handling_minutes = 10
"""


def write(tmp_path, text: str, name: str = "hall.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# -- validation ------------------------------------------------------------


def test_the_example_hall_file_is_valid(tmp_path):
    spec = parse_hall_file(EXAMPLE_HALL)
    assert (spec.hall.slug, len(spec.services), len(spec.windows), len(spec.zones)) == ("district", 8, 20, 2)
    assert parse_hall_file(write(tmp_path, SMALL)).hall.slug == "small"


@pytest.mark.parametrize(
    "old, new, expected",
    [
        ('zone = "p"\nhandling', 'zone = "q"\nhandling', "service SI names unknown zone q"),
        ('zone = "p"\nservices', 'zone = "back"\nservices', "window 1 names unknown zone back"),
        ("services = { SI = 1.0 }", "services = { SI = 1.0, TX = 1.0 }", "window 1 serves unknown services TX"),
        ('prefix = "B"', 'prefix = "A"', "each ticket prefix must be unique; repeated: A"),
        ('code = "MI"', 'code = "SI"', "each service code must be unique; repeated: SI"),
        ('hours = ["08:30-12:00"]', 'hours = ["08:30-25:00"]', "not a time of day in '08:30-25:00'"),
        ('hours = ["08:30-12:00"]', 'hours = ["12:00-08:30"]', "opening hours end before they start"),
        ('hours = ["08:30-12:00"]', 'hours = ["08:30-12:00", "11:00-14:00"]', "opening hours overlap"),
        ('hours = ["08:30-12:00"]', 'hours = ["早上"]', "opening hours must look like 08:30-12:00"),
        ('handling_minutes = 10\n\n[[windows]]', 'handling_minutes = 10\nhours = ["9-5"]\n\n[[windows]]', "services.0.hours"),
        ('prefix = "A"', 'prefix = "a1"', "services.0.prefix"),
        ("SI = 1.0 }", "SI = 0 }", "weight of SI must be above 0 and at most 100"),
        ("SI = 1.0 }", "SI = 101 }", "weight of SI must be above 0 and at most 100"),
        ('name = "小厅"', 'name = "小厅"\ntimezone = "Mars/Olympus"', "unknown time zone 'Mars/Olympus'"),
        ('name = "小厅"', 'name = "小厅"\ncolour = "red"', "hall.colour: Extra inputs are not permitted"),
        ('slug = "small"', 'slug = "Small Hall"', "hall.slug"),
        ("handling_minutes = 10\n\n[[windows]]", "handling_minutes = 0\n\n[[windows]]", "services.0.handling_minutes"),
    ],
)
def test_hall_file_errors_are_invalid_with_a_readable_message(tmp_path, old, new, expected):
    text = SMALL + EXTRA_SERVICE
    assert old in text
    path = write(tmp_path, text.replace(old, new, 1))
    with pytest.raises(Invalid) as err:
        parse_hall_file(path)
    assert err.value.code == "bad_hall_file"
    assert err.value.message.startswith("hall.toml: ")
    assert expected in err.value.message
    assert set(err.value.as_dict()) == {"code", "message"}


def test_every_problem_is_reported_at_once(tmp_path):
    text = SMALL.replace('prefix = "A"', 'prefix = "1"').replace('hours = ["08:30-12:00"]', 'hours = ["x"]')
    with pytest.raises(Invalid) as err:
        parse_hall_file(write(tmp_path, text))
    assert "hall.hours" in err.value.message and "services.0.prefix" in err.value.message


def test_missing_services_bad_syntax_and_unreadable_files(tmp_path):
    with pytest.raises(Invalid) as err:
        parse_hall_file(write(tmp_path, SMALL.split("[[services]]")[0]))
    assert err.value.code == "bad_hall_file" and "services: Field required" in err.value.message
    with pytest.raises(Invalid) as err:
        parse_hall_file(write(tmp_path, "[hall\nid = ", "broken.toml"))
    assert err.value.code == "bad_syntax" and err.value.message.startswith("broken.toml: ")
    with pytest.raises(Invalid) as err:
        parse_hall_file(tmp_path / "missing.toml")
    assert err.value.code == "unreadable" and "missing.toml" in err.value.message


def test_a_yaml_hall_file(tmp_path):
    yaml = pytest.importorskip("yaml")
    path = write(tmp_path, yaml.safe_dump(tomllib.loads(SMALL), allow_unicode=True), "hall.yaml")
    assert parse_hall_file(path).services[0].code == "SI"


# -- loading and reloading ---------------------------------------------------


def test_loading_creates_the_hall_and_is_audited(hall):
    assert hall.halls() == [
        {"slug": "district", "id": "cn-gd-demo-district", "name": "示范区政务服务中心", "name_en": EXAMPLE["hall"]["name_en"]}
    ]
    info = hall.hall_info("district")
    assert (info["hours"], info["recall_limit"], info["timezone"]) == (["08:30-12:00", "13:30-17:30"], 3, "Asia/Shanghai")
    assert len(hall.windows("district")) == 20
    assert [q["service"] for q in hall.queue("district")] == sorted(s["code"] for s in EXAMPLE["services"])
    with hall.db.read() as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "hall.load")).one()
        assert (entry.target, entry.detail) == ("district", {"services": 8, "windows": 20})


def test_a_hall_file_may_not_take_another_halls_slug(hall):
    data = copy.deepcopy(EXAMPLE)
    data["hall"]["id"] = "someone-else"
    with pytest.raises(Invalid) as err:
        hall.load_hall(HallFile.model_validate(data))
    assert err.value.code == "slug_taken"
    assert len(hall.halls()) == 1


def test_reloading_keeps_todays_tickets_counters_and_windows(any_hall, clock):
    hall = any_hall
    kiosk, s1 = person(hall, "kiosk1", "device"), person(hall, "s1")
    for service in ("SI", "SI", "MI", "CX"):
        hall.issue_ticket("district", service=service, actor=kiosk)
    hall.window_action("district", 1, "open", actor=s1)
    hall.window_action("district", 1, "call-next", actor=s1)  # A001
    hall.window_action("district", 20, "open", actor=person(hall, "s20"))
    clock.advance(minutes=5)

    data = copy.deepcopy(EXAMPLE)
    data["hall"]["name"] = "示范区政务服务中心（新址）"
    data["hall"]["recall_limit"] = 5
    si = next(s for s in data["services"] if s["code"] == "SI")
    si["name"], si["handling_minutes"] = "社会保险业务", 8
    data["services"] = [s for s in data["services"] if s["code"] != "CX"]
    data["windows"] = [w for w in data["windows"] if w["number"] != 20]
    for w in data["windows"]:
        w["services"].pop("CX", None)
    data["windows"][0]["services"] = {"SI": 1.0, "HR": 3.0}
    balancer = data["balancer"]  # names only what the file still has
    balancer["window_qualifications"] = {n: {c: p for c, p in q.items() if c != "CX"} for n, q in balancer["window_qualifications"].items() if n != "20"}
    balancer["targets"].pop("CX")
    result = hall.load_hall(HallFile.model_validate(data))
    assert result == {"hall": "district", "services": 7, "windows": 19}

    info = hall.hall_info("district")
    assert (info["name"], info["recall_limit"]) == ("示范区政务服务中心（新址）", 5)
    a2 = hall.ticket("district", "A002")
    assert (a2["status"], a2["service_name"], a2["ahead"]) == ("waiting", "社会保险业务", 0)
    w1 = hall.window("district", 1)
    assert (w1["state"], w1["staff"]["name"], w1["ticket"]["number"]) == ("serving", "s1", "A001")
    assert w1["services"] == [{"code": "HR", "weight": 3.0}, {"code": "SI", "weight": 1.0}]
    assert hall.issue_ticket("district", service="SI", actor=kiosk)["number"] == "A003"
    assert hall.issue_ticket("district", service="MI", actor=kiosk)["number"] == "B002"

    # Dropped from the file: retired, not deleted.
    with pytest.raises(Refused) as err:
        hall.issue_ticket("district", service="CX", actor=kiosk)
    assert err.value.code == "service_inactive"
    assert hall.ticket("district", "H001")["service"] == "CX"  # its ticket is still there
    assert "CX" not in [q["service"] for q in hall.queue("district")]
    assert [w["number"] for w in hall.windows("district")] == list(range(1, 20))
    with pytest.raises(NotFound) as err:
        hall.window("district", 20)
    assert err.value.code == "unknown_window"

    # Back in the file: active again, numbering goes on.
    hall.load_hall(HallFile.model_validate(EXAMPLE))
    assert hall.issue_ticket("district", service="CX", actor=kiosk)["number"] == "H002"
    assert hall.window("district", 20)["state"] == "idle"
    assert hall.hall_info("district")["recall_limit"] == 3


def test_new_hours_apply_at_once(hall, clock):
    kiosk = person(hall, "kiosk1", "device")
    hall.issue_ticket("district", service="SI", actor=kiosk)
    hall.sweep("district")  # the next sweep is now due at 17:30
    data = copy.deepcopy(EXAMPLE)
    data["hall"]["hours"] = ["08:30-09:30"]
    hall.load_hall(HallFile.model_validate(data))
    with pytest.raises(Refused) as err:
        hall.issue_ticket("district", service="SI", actor=kiosk)
    assert err.value.code == "service_closed"
    hall.sweep("district")
    t = hall.ticket("district", "A001")
    assert (t["status"], t["close_reason"]) == ("expired", "hall_closed")

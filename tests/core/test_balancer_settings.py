"""The balancer's settings live in the database: the hall file's [balancer] table is
validated, stored and re-loaded (a manager's mode survives a re-load that does
not name one), and a manager's change of mode or limits is audited."""

from __future__ import annotations

import copy

import pytest
from sqlmodel import select

from hallq.core.balancer import store as balancer_store
from hallq.core.balancer.store import HallBalancers
from hallq.core.errors import Forbidden, Invalid
from hallq.core.hallfile import HallFile, parse_hall_file
from hallq.core.models import AuditEntry
from hallq.core.office import OfficeService
from support.halls import EXAMPLE

def reload(hall, **balancer):
    data = copy.deepcopy(EXAMPLE)
    data["balancer"].update(balancer)
    return hall.load_hall(HallFile.model_validate(data))


def test_the_example_halls_balancer_table_is_stored(hall):
    settings = HallBalancers(hall).get("district").settings
    assert settings.mode == "suggest"
    assert settings.window_qualifications[7] == {"HR": 1.0, "CX": 0.9, "MI": 0.9}
    assert settings.targets == {"BL": 30, "RE": 30, "CX": 30}
    # Where a release returns a window: what the file has it serve.
    assert settings.home[1] == {"SI": 2.0, "MI": 1.0}
    assert len(settings.window_qualifications) == 20


def test_a_reload_keeps_todays_tickets_and_the_managers_mode_unless_the_file_names_one(hall, manager):
    ticket = hall.issue_ticket("district", service="SI", actor=manager)
    balancer_store.change_settings(hall, "district", {"mode": "auto", "max_changes_per_hour": 5}, actor=manager)

    reload(hall, window_qualifications={"7": {"HR": 1.0, "SI": 0.9}})
    settings = HallBalancers(hall).get("district").settings
    assert settings.window_qualifications == {7: {"HR": 1.0, "SI": 0.9}}
    assert (settings.mode, settings.max_changes_per_hour) == ("auto", 5)
    assert hall.ticket("district", ticket["id"])["status"] == "waiting"

    reload(hall, mode="off")
    assert HallBalancers(hall).get("district").mode == "off"


def test_a_running_balancer_takes_new_settings_and_keeps_its_counters(hall, manager):
    balancers = HallBalancers(hall)
    balancer = balancers.get("district")
    balancer.recent.append(hall.clock.now())
    balancer_store.change_settings(hall, "district", {"mode": "off"}, actor=manager)
    again = balancers.get("district")
    assert again is balancer and again.mode == "off" and len(again.recent) == 1


@pytest.mark.parametrize(
    "table, problem",
    [
        ({"mode": "sometimes"}, "balancer.mode"),
        ({"window_qualifications": {"7": {"XX": 1.0}}}, "balancer.window_qualifications.7: unknown service XX"),
        ({"window_qualifications": {"99": {"SI": 1.0}}}, "balancer.window_qualifications.99: there is no window 99"),
        ({"qualifications": {"wang": {"SI": 1.5}}}, "wang: SI must be above 0 and at most 1"),
        ({"home": {"3": {"ZZ": 1.0}}}, "balancer.home.3: unknown service ZZ"),
        ({"targets": {"SI": 0}}, "SI must be above 0"),
        ({"max_changes_per_hour": -1}, "balancer.max_changes_per_hour"),
        ({"colour": "red"}, "balancer.colour"),
    ],
)
def test_a_bad_balancer_table_is_refused_plainly(tmp_path, table, problem):
    data = copy.deepcopy(EXAMPLE)
    data["balancer"] = table
    path = tmp_path / "hall.toml"
    path.write_text(_toml(data), encoding="utf-8")
    with pytest.raises(Invalid) as err:
        parse_hall_file(path)
    assert err.value.code == "bad_hall_file"
    assert problem in err.value.message


def _toml(data) -> str:
    # The example as TOML again, through JSON-like inline values (valid TOML for these types).
    import json

    def value(v):
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{json.dumps(str(k))} = {value(x)}" for k, x in v.items()) + " }"
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return json.dumps(v)

    lines = []
    for key, section in data.items():
        for item in section if isinstance(section, list) else [section]:
            lines.append(f"[[{key}]]" if isinstance(section, list) else f"[{key}]")
            lines += [f"{json.dumps(k)} = {value(v)}" for k, v in item.items()]
    return "\n".join(lines) + "\n"


def test_a_change_of_mode_is_audited_and_published(hall, manager, publisher):
    view = balancer_store.change_settings(hall, "district", {"mode": "auto", "min_hold_minutes": 5}, actor=manager)
    assert view["mode"] == "auto" and view["limits"]["min_hold_minutes"] == 5 and view["updated_by"] == "manager1"
    with hall.db.read() as session:
        [entry] = session.exec(select(AuditEntry).where(AuditEntry.action == "balancer.settings")).all()
        assert (entry.actor, entry.actor_role) == ("manager1", "manager")
        assert entry.detail == {"before": {"mode": "suggest", "min_hold_minutes": 10.0}, "after": {"mode": "auto", "min_hold_minutes": 5.0}}
    [event] = [e for e in publisher.events if e.kind == "balancer.settings"]
    assert event.data["mode"] == "auto" and event.data["by"] == "manager1"
    # The same again changes nothing and audits nothing.
    balancer_store.change_settings(hall, "district", {"mode": "auto"}, actor=manager)
    with hall.db.read() as session:
        assert len(session.exec(select(AuditEntry).where(AuditEntry.action == "balancer.settings")).all()) == 1


def test_staff_may_not_change_or_read_the_balancer(hall, office):
    office.add_user(name="s1", role="staff", password="staff-pass", hall="district")
    staff = office.actor_for_login("s1", "staff-pass")
    with pytest.raises(Forbidden):
        balancer_store.change_settings(hall, "district", {"mode": "auto"}, actor=staff)
    with pytest.raises(Forbidden):
        balancer_store.settings_view(hall, "district", actor=staff)


def test_only_the_mode_and_limits_can_be_changed_live(hall, manager):
    with pytest.raises(Invalid) as err:
        balancer_store.change_settings(hall, "district", {"window_qualifications": {}}, actor=manager)
    assert "window_qualifications" in err.value.message
    with pytest.raises(Invalid):
        balancer_store.change_settings(hall, "district", {"mode": "turbo"}, actor=manager)


def test_only_one_process_ticks_a_hall_until_its_lease_runs_out(any_hall, clock, manager_of_any_hall):
    """Two server processes on one database: the first to look holds the hall; the other
    looks again only once that lease has run out (its process gone quiet)."""
    first = HallBalancers(any_hall, lease_seconds=60, owner="process-1")
    second = HallBalancers(any_hall, lease_seconds=60, owner="process-2")
    assert first.tick("district") is not None
    assert second.tick("district") is None
    clock.advance(seconds=20)
    assert first.tick("district") is not None  # renews (no write needed yet)
    clock.advance(seconds=45)
    assert first.tick("district") is not None  # past half the lease: renewed in the database
    assert second.tick("district") is None
    clock.advance(seconds=61)
    assert second.tick("district") is not None
    assert first.tick("district") is None
    second.release()
    assert first.tick("district") is not None
    # Switched off, nobody needs the hall: each process answers without a lease.
    balancer_store.change_settings(any_hall, "district", {"mode": "off"}, actor=manager_of_any_hall)
    assert second.tick("district").mode == "off"


@pytest.fixture
def manager_of_any_hall(any_hall):
    OfficeService(any_hall).add_user(name="manager1", role="manager", password="manager-pass", hall="district")
    return OfficeService(any_hall).actor_for_login("manager1", "manager-pass")


def test_a_new_process_counts_the_changes_auto_mode_made_in_the_last_hour(hall, clock):
    from hallq.core.balancer.balancer import BALANCER

    hall.set_window_services("district", 7, {"HR": 2.0, "CX": 1.0, "MI": 2.0}, actor=BALANCER)
    clock.advance(minutes=30)
    hall.set_window_services("district", 8, {"HR": 2.0, "SI": 1.0, "MI": 2.0}, actor=BALANCER)
    clock.advance(minutes=40)  # the first change is now more than an hour old
    balancer = HallBalancers(hall).get("district")
    assert len(balancer.recent) == 1 and set(balancer.last_change) == {8}

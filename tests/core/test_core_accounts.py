"""Who may change which account: no role acts on an account of a higher role."""

from __future__ import annotations

import pytest

from hallq.core.errors import Forbidden

ACTIONS = [
    ("reset its password", {"password": "taken-over-pass"}),
    ("deactivate it", {"active": False}),
    ("change its role", {"role": "staff"}),
    ("rename it", {"display_name": "someone else"}),
    ("change its staff number", {"staff_no": "0000"}),
]


@pytest.fixture
def accounts(office):
    for name, role in (("admin1", "admin"), ("manager1", "manager"), ("manager2", "manager"), ("staff1", "staff")):
        office.add_user(name=name, role=role, password=f"{name}-password", hall="district")
    return {name: office.actor_for_login(name, f"{name}-password") for name in ("admin1", "manager1", "staff1")}


def users(office, accounts) -> dict:
    return {u["name"]: u for u in office.users("district", actor=accounts["admin1"])}


@pytest.mark.parametrize("what, change", ACTIONS, ids=[a[0] for a in ACTIONS])
def test_a_manager_cannot_change_an_administrators_account(office, hall, accounts, what, change):
    before = users(office, accounts)["admin1"]
    with pytest.raises(Forbidden) as refused:
        office.update_hall_user("district", "admin1", actor=accounts["manager1"], **change)

    assert refused.value.code == "higher_role"
    assert users(office, accounts)["admin1"] == before
    assert office.actor_for_login("admin1", "admin1-password") is not None  # the password is still the admin's


@pytest.mark.parametrize("what, change", ACTIONS, ids=[a[0] for a in ACTIONS])
def test_an_account_of_the_same_or_a_lower_role_may_be_changed(office, hall, accounts, what, change):
    office.update_hall_user("district", "manager2", actor=accounts["manager1"], **change)  # manager on manager
    office.update_hall_user("district", "staff1", actor=accounts["admin1"], **change)  # admin on staff
    if "password" in change:
        assert office.actor_for_login("manager2", "taken-over-pass") is not None

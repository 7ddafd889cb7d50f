"""Topic strings, filters and the ACL rules (pure functions, no broker)."""

from __future__ import annotations

import pytest

from hallq.mqtt import acl
from hallq_protocol import topics


def test_topics_are_built_and_parsed_in_one_place():
    assert topics.request("district", "disp-1") == "hallq/district/device/disp-1/request"
    assert topics.window_state("district", 5) == "hallq/district/window/5/state"
    assert topics.parse("hallq/district/device/disp-1/response") == topics.Route("district", "response", device="disp-1")
    assert topics.parse("hallq/district/window/12/completed") == topics.Route("district", "completed", window=12)
    assert topics.parse("hallq/district/calls") == topics.Route("district", "calls")
    for other in ("hallq", "other/district/calls", "hallq/district/window/x/state", "hallq/district/device/d/nope"):
        assert topics.parse(other) is None


@pytest.mark.parametrize("level", ["", "a/b", "+", "#", "x#"])
def test_a_level_cannot_change_the_topics_shape(level):
    with pytest.raises(ValueError):
        topics.request("district", level)


def test_filters_match_and_cover():
    assert topics.matches("hallq/+/device/+/request", "hallq/district/device/d1/request")
    assert not topics.matches("hallq/+/device/+/request", "hallq/district/device/d1/response")
    assert topics.matches("hallq/#", "hallq/district/calls")
    assert topics.covers("hallq/district/window/+/state", "hallq/district/window/5/state")
    assert not topics.covers("hallq/district/window/5/state", "hallq/district/window/+/state")
    assert not topics.covers("hallq/district/window/+/state", "hallq/district/#")
    assert topics.covers("hallq/#", "hallq/district/#")


def test_each_role_reads_only_what_it_needs():
    screen = acl.device_rules("district", "s1", "screen")
    caller = acl.device_rules("district", "c5", "caller", 5)

    assert acl.may_subscribe(screen, "hallq/district/window/+/state")
    assert acl.may_subscribe(screen, "hallq/district/calls")
    assert not acl.may_subscribe(screen, "hallq/district/device/+/request")
    assert not acl.may_subscribe(screen, "hallq/other/calls")
    assert acl.may_subscribe(caller, "hallq/district/window/5/state")
    assert not acl.may_subscribe(caller, "hallq/district/window/6/state")
    assert acl.may_publish(caller, "hallq/district/device/c5/request")
    assert not acl.may_publish(caller, "hallq/district/device/c6/request")
    assert not acl.may_publish(caller, "hallq/district/window/5/state")


def test_a_device_reads_only_its_own_commands_and_answers_only_for_itself():
    dispenser = acl.device_rules("district", "disp-1", "dispenser")

    assert topics.command("district", "disp-1") == "hallq/district/device/disp-1/command"
    assert topics.parse("hallq/district/device/disp-1/result") == topics.Route("district", "result", device="disp-1")
    assert acl.may_subscribe(dispenser, "hallq/district/device/disp-1/command")
    assert not acl.may_subscribe(dispenser, "hallq/district/device/disp-2/command")
    assert not acl.may_subscribe(dispenser, "hallq/district/device/+/command")
    assert not acl.may_publish(dispenser, "hallq/district/device/disp-1/command")  # only the server commands
    assert acl.may_publish(dispenser, "hallq/district/device/disp-1/result")
    assert not acl.may_publish(dispenser, "hallq/district/device/disp-2/result")


def test_the_mosquitto_acl_lets_a_device_read_its_commands():
    from hallq.core.devices.registry import DeviceInfo
    from hallq.mqtt import mosquitto

    text = mosquitto.acl_file([DeviceInfo("district", "disp-1", "dispenser", None, "district.disp-1", "$7$x")])

    section = text.split("user district.disp-1\n")[1]
    assert "topic read hallq/district/device/disp-1/command\n" in section
    assert "topic write hallq/district/device/disp-1/result\n" in section

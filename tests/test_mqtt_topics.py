"""Topic strings, filters and the ACL rules (pure functions, no broker)."""

from __future__ import annotations

import pytest

from hallq.mqtt import acl, topics


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

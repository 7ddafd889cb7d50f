"""Every MQTT topic HallQ uses, built and parsed here and nowhere else.

    hallq/{hall}/device/{device}/availability   retained online / offline (Last Will)
    hallq/{hall}/device/{device}/request        device → server, QoS 1
    hallq/{hall}/device/{device}/response       server → device
    hallq/{hall}/device/{device}/config         retained, server → device
    hallq/{hall}/device/{device}/command        server → device, QoS 1 (print a kiosk's ticket)
    hallq/{hall}/device/{device}/result         device → server, QoS 1: what came of a command
    hallq/{hall}/window/{window}/state          retained window state (growing version)
    hallq/{hall}/window/{window}/completed      retained last ticket completed there (review boxes)
    hallq/{hall}/calls                          one message per call or recall
    hallq/{hall}/queue                          retained waiting counts and estimates
    hallq/_server/{client id}/probe             the server to itself: are its subscriptions still there?

Standard library only: the edge devices import this module too.
"""

from __future__ import annotations

from dataclasses import dataclass

ROOT = "hallq"
# What the server keeps retained, each message with a `version` that only grows (per topic): a
# device ignores one older than what it already has (a broker replaying stale state after a crash).
RETAINED_KINDS = ("state", "completed", "queue", "config")
DEVICE_KINDS = ("availability", "request", "response", "config", "command", "result")
WINDOW_KINDS = ("state", "completed")


def _level(value) -> str:
    """One topic level; refuses what would change the topic's shape."""
    text = str(value)
    if not text or any(c in text for c in "/+#\0"):
        raise ValueError(f"not a valid topic level: {value!r}")
    return text


def hall_root(hall: str) -> str:
    return f"{ROOT}/{_level(hall)}"


def device_topic(hall: str, device: str, kind: str) -> str:
    if kind not in DEVICE_KINDS:
        raise ValueError(f"unknown device topic {kind!r}")
    return f"{hall_root(hall)}/device/{_level(device)}/{kind}"


def availability(hall: str, device: str) -> str:
    return device_topic(hall, device, "availability")


def request(hall: str, device: str) -> str:
    return device_topic(hall, device, "request")


def response(hall: str, device: str) -> str:
    return device_topic(hall, device, "response")


def config(hall: str, device: str) -> str:
    return device_topic(hall, device, "config")


def command(hall: str, device: str) -> str:
    return device_topic(hall, device, "command")


def result(hall: str, device: str) -> str:
    return device_topic(hall, device, "result")


def window_state(hall: str, window: int | str) -> str:
    return f"{hall_root(hall)}/window/{_level(window)}/state"


def window_completed(hall: str, window: int | str) -> str:
    return f"{hall_root(hall)}/window/{_level(window)}/completed"


def calls(hall: str) -> str:
    return f"{hall_root(hall)}/calls"


def queue(hall: str) -> str:
    return f"{hall_root(hall)}/queue"


def server_probe(client_id: str) -> str:
    """Where a server process sends itself a message now and then, to see that the broker still
    delivers to it (no hall is called `_server`: hall slugs start with a letter or digit)."""
    return f"{ROOT}/_server/{_level(client_id)}/probe"


# -- filters (subscriptions) ----------------------------------------------

def all_window_states(hall: str) -> str:
    return f"{hall_root(hall)}/window/+/state"


def every_request() -> str:
    """What the server listens to: every device's requests, in every hall."""
    return f"{ROOT}/+/device/+/request"


def every_availability() -> str:
    return f"{ROOT}/+/device/+/availability"


def every_result() -> str:
    return f"{ROOT}/+/device/+/result"


def everything() -> str:
    return f"{ROOT}/#"


SHARE = "$share"
SERVER_GROUP = "hallq-server"


def shared(topic_filter: str, group: str = SERVER_GROUP) -> str:
    """An MQTT shared subscription (`$share/<group>/<filter>`): the broker hands each message that
    matches the filter to one subscriber of the group, not to all. The server's processes listen to
    the devices' requests this way, so each request is handled by exactly one of them."""
    return f"{SHARE}/{group}/{topic_filter}"


def unshared(topic_filter: str) -> tuple[str | None, str]:
    """(group, filter) of a shared subscription; (None, topic_filter) for any other."""
    if not topic_filter.startswith(SHARE + "/"):
        return None, topic_filter
    _, group, rest = (topic_filter.split("/", 2) + ["", ""])[:3]
    return group, rest


# -- parsing --------------------------------------------------------------

@dataclass(frozen=True)
class Route:
    """A parsed topic: hall, kind, and the device or window it is about."""

    hall: str
    kind: str
    device: str | None = None
    window: int | None = None


def parse(topic: str) -> Route | None:
    """The Route of a HallQ topic, or None for anything else."""
    parts = topic.split("/")
    if len(parts) < 3 or parts[0] != ROOT or not parts[1]:
        return None
    hall = parts[1]
    if len(parts) == 3 and parts[2] in ("calls", "queue"):
        return Route(hall, parts[2])
    if len(parts) == 5 and parts[2] == "device" and parts[3] and parts[4] in DEVICE_KINDS:
        return Route(hall, parts[4], device=parts[3])
    if len(parts) == 5 and parts[2] == "window" and parts[3].isdigit() and parts[4] in WINDOW_KINDS:
        return Route(hall, parts[4], window=int(parts[3]))
    return None


def matches(topic_filter: str, topic: str) -> bool:
    """Does a concrete topic match an MQTT filter (with + and #)?"""
    f, t = topic_filter.split("/"), topic.split("/")
    for i, level in enumerate(f):
        if level == "#":
            return True
        if i >= len(t):
            return False
        if level != "+" and level != t[i]:
            return False
    return len(f) == len(t)


def covers(allowed: str, requested: str) -> bool:
    """Is every topic matched by filter `requested` also matched by filter `allowed`?"""
    a, r = allowed.split("/"), requested.split("/")
    for i, level in enumerate(a):
        if level == "#":
            return True
        if i >= len(r):
            return False
        if r[i] == "#":
            return False
        if level == "+":
            continue
        if r[i] == "+" or r[i] != level:
            return False
    return len(a) == len(r)

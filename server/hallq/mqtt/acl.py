"""Who may publish and subscribe where: one rule set, used by the embedded
broker and written into Mosquitto's ACL file by `hallq broker-config`.

A device publishes only its own request, availability and command-result topics,
reads its own response, config and command topics and what its role needs; the server's own account may do everything under hallq/.
Standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass

from hallq_protocol import topics

READ, WRITE = "read", "write"


@dataclass(frozen=True)
class Rule:
    access: str  # read or write
    topic: str  # a filter


def device_rules(hall: str, device: str, role: str, window: int | None = None) -> list[Rule]:
    """The topics one device may write and read."""
    rules = [
        Rule(WRITE, topics.request(hall, device)),
        Rule(WRITE, topics.availability(hall, device)),
        Rule(WRITE, topics.result(hall, device)),
        Rule(READ, topics.response(hall, device)),
        Rule(READ, topics.config(hall, device)),
        Rule(READ, topics.command(hall, device)),
    ]
    if role == "dispenser":
        rules.append(Rule(READ, topics.queue(hall)))
    elif role == "screen":
        rules += [Rule(READ, topics.calls(hall)), Rule(READ, topics.all_window_states(hall)), Rule(READ, topics.queue(hall))]
    elif role == "review" and window is not None:
        rules += [Rule(READ, topics.window_state(hall, window)), Rule(READ, topics.window_completed(hall, window))]
    elif role == "caller" and window is not None:
        rules.append(Rule(READ, topics.window_state(hall, window)))
    return rules


SERVER_RULES = [Rule(READ, topics.everything()), Rule(WRITE, topics.everything())]


def may_publish(rules: list[Rule], topic: str) -> bool:
    return any(r.access == WRITE and topics.matches(r.topic, topic) for r in rules)


def may_subscribe(rules: list[Rule], topic_filter: str) -> bool:
    return any(r.access == READ and topics.covers(r.topic, topic_filter) for r in rules)


def may_receive(rules: list[Rule], topic: str) -> bool:
    return any(r.access == READ and topics.matches(r.topic, topic) for r in rules)

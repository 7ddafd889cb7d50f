"""The server's link watches that the broker still delivers to it (link.py): a probe that does
not come back means its subscriptions are gone, unless other messages keep coming in, as they do
when a flood holds the probe up (issue 12: through Mosquitto, a flooding device made the server
reconnect every 10 s)."""

from __future__ import annotations

import paho.mqtt.client as paho

from hallq.mqtt.link import ServerLink
from hallq_protocol import topics


def _link() -> tuple[ServerLink, list]:
    results: list = []
    link = ServerLink("mqtt://127.0.0.1:9", client_id="hallq-server-test", on_request=lambda *a: None,
                      on_availability=lambda *a: None, on_connected=lambda: None,
                      on_result=lambda hall, device, payload: results.append((device, payload)))
    link.connected.set()  # as if connected: check() judges only what came in
    return link, results


def _message(topic: str, payload: bytes) -> paho.MQTTMessage:
    message = paho.MQTTMessage(topic=topic.encode())
    message.payload = payload
    return message


def test_a_probe_that_neither_comes_back_nor_is_overtaken_renews_the_link():
    link, _ = _link()
    link.check()  # the first probe goes out
    assert link._probe is not None and link.restored == 0
    link.check()  # a whole round: nothing came in
    assert link.restored == 1 and link._probe is None


def test_a_probe_held_up_behind_other_messages_is_no_reason_to_reconnect():
    link, results = _link()
    link.check()
    first = link._probe
    for i in range(3):  # the broker delivers: a device's results come in, the probe waits behind them
        link._on_message(None, None, _message(topics.result("district", "disp-1"), f"r{i}".encode()))
    link.check()
    assert link.restored == 0 and results and link._probe is not None and link._probe != first
    second = link._probe
    link._on_message(None, None, _message(link.probe_topic, first[0]))  # the old probe, late: still delivered
    assert link._probe == second
    link.check()
    assert link.restored == 0 and link._probe != second
    link.check()  # and then a round in which nothing at all came in: gone after all
    assert link.restored == 1


def test_the_probe_that_comes_back_clears_it():
    link, _ = _link()
    link.check()
    link._on_message(None, None, _message(link.probe_topic, link._probe[0]))
    assert link._probe is None
    link.check()
    link._on_message(None, None, _message(link.probe_topic, link._probe[0]))
    link.check()
    assert link.restored == 0

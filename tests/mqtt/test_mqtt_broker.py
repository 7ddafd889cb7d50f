"""The embedded broker: who may connect, and where each device may publish
and subscribe. Everything over real TCP on a free port."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlmodel import select

from hallq.core.models import Ticket
from hallq_protocol import client as mqtt_client
from hallq_protocol import topics
from support.brokers import try_connect
from support.mqtt import make_link
from support.waiting import wait_for


def tickets(hall) -> list[str]:
    with hall.db.read() as session:
        return [t.number for t in session.exec(select(Ticket)).all()]


def test_anonymous_and_wrong_credentials_are_refused(mqtt):
    good = mqtt.devices.add(hall="district", name="disp-1", role="dispenser")

    assert try_connect(mqtt.port, None, None) == "Not authorized"
    assert try_connect(mqtt.port, "anyone", "") == "Not authorized"  # amqtt's anonymous plugin would admit this
    assert try_connect(mqtt.port, good["username"], "wrong-password") == "Not authorized"
    assert try_connect(mqtt.port, good["username"], good["password"]) == "Success"


def test_a_revoked_device_can_no_longer_connect(mqtt):
    creds = mqtt.devices.add(hall="district", name="disp-1", role="dispenser")
    mqtt.devices.revoke(hall="district", name="disp-1")

    assert try_connect(mqtt.port, creds["username"], creds["password"]) == "Not authorized"


def test_a_device_publishing_on_another_devices_topic_is_refused(mqtt, device, hall):
    mallory = device("dispenser", "disp-m")
    device("dispenser", "disp-v")
    forged = {"id": "forged", "action": "issue_ticket", "service": "SI", "at": time.time()}

    mallory.publish_raw(topics.request("district", "disp-v"), json.dumps(forged).encode())
    mallory.publish_raw(topics.window_state("district", 5), b'{"number": 5, "version": 999}', retain=True)
    # The broker keeps one client's messages in order: once the server has
    # answered this later, allowed request, the forged one would have been seen.
    answer = mallory.call("issue_ticket", service="MI", timeout=20)

    assert answer["status"] == "ok" and answer["data"]["number"] == "B001"
    assert tickets(hall) == ["B001"]
    retained = mqtt.broker._broker.retained_messages[topics.window_state("district", 5)]
    assert json.loads(retained.data)["version"] != 999


def test_a_request_delivered_twice_over_the_broker_has_one_effect(mqtt, device, hall):
    link = device("dispenser", "disp-1")
    answers: list = []
    link.client.message_callback_add(topics.response("district", "disp-1"), lambda c, u, m: answers.append(json.loads(m.payload)))
    body = json.dumps({"id": "twice", "action": "issue_ticket", "service": "SI", "at": time.time()}).encode()

    link.publish_raw(topics.request("district", "disp-1"), body)
    link.publish_raw(topics.request("district", "disp-1"), body)  # as a QoS 1 redelivery would

    wait_for(lambda: len(answers) == 2, what="both answers")
    assert answers[0] == answers[1] and answers[0]["data"]["number"] == "A001"
    assert tickets(hall) == ["A001"]


def test_a_device_cannot_subscribe_to_another_devices_answers(mqtt, device):
    spy = device("dispenser", "disp-s")
    device("dispenser", "disp-t")
    granted: list = []
    done = threading.Event()

    def on_subscribe(client, userdata, mid, reason_codes, props):
        granted.extend(str(rc) for rc in reason_codes)
        done.set()

    spy.client.on_subscribe = on_subscribe
    spy.client.subscribe([(topics.response("district", "disp-t"), 1), (topics.everything(), 1), (topics.queue("district"), 1)])
    assert done.wait(20)

    assert granted[0] != "Granted QoS 1" and granted[1] != "Granted QoS 1"
    assert granted[2] == "Granted QoS 1"


def test_device_availability_and_last_seen_are_recorded(mqtt, device):
    leaving = device("caller", "caller-5", window=5)
    crashing = device("caller", "caller-6", window=6)
    wait_for(lambda: mqtt.devices.get("district", "caller-5")["online"] and mqtt.devices.get("district", "caller-6")["online"], what="online")

    leaving.stop()  # says offline itself
    crashing.client.loop_stop()
    crashing.client.socket().close()  # no goodbye: the broker publishes its Last Will

    for name in ("caller-5", "caller-6"):
        seen = wait_for(lambda: (d := mqtt.devices.get("district", name))["online"] is False and d, what=f"{name} offline")
        assert seen["last_seen"] is not None


def test_a_connecting_device_gets_only_its_own_retained_messages(mqtt, device):
    device("caller", "caller-5", window=5)  # its config and window 5's state are now retained
    creds = mqtt.devices.add(hall="district", name="disp-x", role="dispenser")
    link = make_link(mqtt, "disp-x", creds["password"])
    seen: list[str] = []
    link.client.on_message = lambda c, u, m: seen.append(m.topic)
    link.subscribe(topics.queue("district"), lambda body: None)
    link.subscribe(topics.config("district", "disp-x"), lambda body: None)
    link.start()
    try:
        wait_for(lambda: topics.config("district", "disp-x") in seen and topics.queue("district") in seen, what="its own retained messages")
        assert set(seen) <= {topics.config("district", "disp-x"), topics.queue("district")}
    finally:
        link.stop()


def test_embedded_broker_speaks_tls_when_given_a_certificate(hall, tmp_path):
    import subprocess

    from hallq.mqtt.runtime import MqttRuntime
    from hallq.ports import free_port

    cert, key = tmp_path / "broker.crt", tmp_path / "broker.key"
    made = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        capture_output=True, text=True,
    )
    if made.returncode != 0:
        pytest.skip(f"openssl could not make a test certificate: {made.stderr[:200]}")
    runtime = MqttRuntime(hall, port=free_port(), certfile=str(cert), keyfile=str(key)).start()
    try:
        wait_for(runtime.link.connected.is_set, what="the server's own (loopback) link")
        creds = runtime.devices.add(hall="district", name="disp-1", role="dispenser")
        from hallq_edge.link import DeviceLink

        link = DeviceLink(hall="district", device="disp-1", username=creds["username"], password=creds["password"],
                          port=runtime.port, tls=True, ca_file=str(cert))
        link.start()
        try:
            wait_for(lambda: link.connected, what="the device to connect over TLS")
            assert link.call("issue_ticket", service="SI", timeout=20)["data"]["number"] == "A001"
        finally:
            link.stop()
        assert try_connect(runtime.port, creds["username"], creds["password"]) != "Success"  # plain MQTT is not spoken there
    finally:
        runtime.stop()


def test_a_device_revoked_while_connected_is_cut_off_and_hears_nothing_more(mqtt, hall):
    """Revoking (here as `hallq device revoke` would, from another service) closes the open connection too."""
    from support.mqtt import open_window

    from hallq.core.devices.service import DeviceService

    screen = mqtt.devices.add(hall="district", name="screen-9", role="screen")
    calls: list[dict] = []
    states: list[str] = []
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=screen["username"])
    client.username_pw_set(screen["username"], screen["password"])
    client.on_connect = lambda c, u, f, rc, p: (states.append("up"), c.subscribe(topics.calls("district"), qos=1))
    client.on_disconnect = lambda c, u, f, rc, p: states.append("down")
    client.on_message = lambda c, u, m: calls.append(json.loads(m.payload))
    client.connect("127.0.0.1", mqtt.port)
    client.loop_start()
    try:
        wait_for(lambda: "up" in states, what="the screen to connect")
        staff = open_window(hall, 5)
        hall.issue_ticket("district", service="SI", actor=staff)
        time.sleep(0.3)  # let the subscription settle before the first call
        hall.window_action("district", 5, "call-next", actor=staff)
        wait_for(lambda: calls, what="the first call to reach the screen")

        DeviceService(hall).revoke(hall="district", name="screen-9")
        wait_for(lambda: "down" in states, what="the revoked screen's connection to be closed")
        client.reconnect_delay_set(60, 60)  # paho would come back; the broker must refuse it anyway
        heard = len(calls)
        hall.window_action("district", 5, "complete", actor=staff)
        hall.issue_ticket("district", service="SI", actor=staff)
        hall.window_action("district", 5, "call-next", actor=staff)
        time.sleep(1.0)
        assert len(calls) == heard
        assert try_connect(mqtt.port, screen["username"], screen["password"]) == "Not authorized"
    finally:
        client.loop_stop()
        client.disconnect()


def test_a_message_over_the_size_limit_is_dropped_and_the_sender_carries_on(mqtt, device, hall, caplog):
    disp = device("dispenser", "disp-big")
    limit = mqtt.broker.max_message_bytes
    huge = {"id": "huge", "action": "issue_ticket", "service": "SI", "at": time.time(), "pad": "x" * (limit + 100)}
    dropped = []
    disp.on_link(lambda up: None if up else dropped.append(True))

    disp.publish_raw(topics.request("district", "disp-big"), json.dumps(huge).encode())
    answer = disp.call("issue_ticket", service="MI", timeout=20)  # same connection, so it comes after the huge one

    assert answer["status"] == "ok" and answer["data"]["number"] == "B001"
    assert tickets(hall) == ["B001"]  # the huge request reached no one
    assert dropped == []
    assert any("dropped a message of" in r.getMessage() and r.name == "hallq.mqtt.broker" for r in caplog.records)


def test_a_broker_whose_shutdown_hangs_still_frees_its_port_and_drops_its_clients(hall):
    """amqtt closes its listeners only after every session ends; one stuck session must not keep the port,
    and the broker's loop is wound down, not left with tasks for the garbage collector to finalize."""
    import asyncio

    from hallq.core.devices.service import DeviceService
    from hallq.mqtt.broker import Directory, EmbeddedBroker
    from hallq.ports import check_port, free_port

    port = free_port()
    creds = DeviceService(hall).add(hall="district", name="disp-h", role="dispenser")
    broker = EmbeddedBroker(Directory(hall.db), port=port, recheck_seconds=0)
    broker.start()
    dropped = threading.Event()
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=creds["username"])
    client.username_pw_set(creds["username"], creds["password"])
    client.on_disconnect = lambda *a: dropped.set()
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        wait_for(client.is_connected, what="the client to connect")

        async def never_ends():
            await asyncio.sleep(3600)

        broker._broker.shutdown = never_ends  # as when a session's handler never stops
        loop = broker._loop
        broker.stop(timeout=1.0)

        check_port("127.0.0.1", port)  # raises PortTaken if the listener were still open
        assert dropped.wait(10)
        assert loop.is_closed()
        assert [task for task in asyncio.all_tasks(loop) if not task.done()] == []
    finally:
        client.loop_stop()


def test_the_servers_own_messages_go_to_the_broker_in_process_in_order(mqtt):
    """The server hands its messages to the embedded broker without a socket: retained ones are kept
    for later subscribers, devices get them in the order sent, an empty one clears what was kept."""
    state = topics.window_state("district", 99)  # no such window: the server's own republishing leaves it alone
    assert mqtt.broker.deliver(state, json.dumps({"number": 99, "version": 41}).encode(), True)
    creds = mqtt.devices.add(hall="district", name="screen-x", role="screen")
    states: list[int] = []
    calls: list[int] = []
    screen = make_link(mqtt, "screen-x", creds["password"])
    screen.subscribe(state, lambda body: states.append(body["version"]))
    screen.subscribe(topics.calls("district"), lambda body: calls.append(body["n"]))
    screen.start()
    try:
        # Kept, and given to the screen when it subscribed (with the calls, in one SUBSCRIBE).
        wait_for(lambda: states == [41], what="the retained window state")
        for n in range(300):
            assert mqtt.broker.deliver(topics.calls("district"), json.dumps({"n": n}).encode(), False)

        wait_for(lambda: len(calls) == 300, what="300 calls")
        assert calls == list(range(300))
        kept = mqtt.broker._broker.retained_messages
        assert topics.calls("district") not in kept  # not retained
        mqtt.broker.deliver(state, b"", True)
        wait_for(lambda: state not in kept, what="the retained state to be cleared")
    finally:
        screen.stop()

    mqtt.broker.stop()
    assert mqtt.broker.deliver(topics.calls("district"), b"{}", False) is False  # not running: dropped, no error


def test_no_client_can_take_the_servers_or_another_devices_client_id(mqtt, device, caplog):
    """amqtt ended the session of the client id a CONNECT named before checking who sent it: any
    client, even with a wrong password, silenced the server (subscriptions gone, link still up)."""
    disp = device("dispenser", "disp-1")
    drops: list[bool] = []
    disp.on_link(drops.append)
    other = mqtt.devices.add(hall="district", name="disp-2", role="dispenser")
    server_id = mqtt.link.client._client_id.decode()

    for client_id in (server_id, "district.disp-1"):
        for clean in (True, False):
            assert try_connect(mqtt.port, other["username"], other["password"], client_id=client_id, clean_session=clean) != "Success"
            assert try_connect(mqtt.port, other["username"], "wrong", client_id=client_id, clean_session=clean) != "Success"
    assert try_connect(mqtt.port, "hallq-server", mqtt.directory.server_password, client_id="district.disp-1") != "Success"

    answer = disp.call("issue_ticket", service="SI", timeout=10)  # the server still hears its devices
    assert answer is not None and answer["status"] == "ok"
    assert drops == [] and disp.connected and mqtt.link.connected.is_set()  # and nobody was thrown off
    assert "which is not its own" in caplog.text and "wrong user name or password" in caplog.text


def test_the_server_finds_its_subscriptions_gone_and_connects_again(hall):
    from support.mqtt import connect, start_runtime

    runtime = start_runtime(hall, probe_seconds=0.3)
    try:
        disp = connect(runtime, "dispenser", "disp-1")
        assert disp.call("issue_ticket", service="SI", timeout=10)["status"] == "ok"
        broker = runtime.broker._broker
        server_id = runtime.link.client._client_id.decode()

        async def forget_the_server() -> None:  # what the takeover did: its subscriptions gone, its connection up
            await broker._del_all_subscriptions(broker.sessions[server_id][0])

        def subscribed() -> bool:
            return any(s.client_id == server_id for s, _ in broker._subscriptions.get(topics.every_result(), []))

        assert subscribed()
        asyncio.run_coroutine_threadsafe(forget_the_server(), runtime.broker._loop).result(5)
        assert not subscribed()
        # The devices' requests reach the server inside the process, whatever its subscriptions.
        assert disp.call("issue_ticket", service="SI", timeout=10)["status"] == "ok"

        wait_for(lambda: runtime.link.restored == 1, what="the server to notice")
        wait_for(subscribed, what="the server's subscriptions back")
        assert disp.call("issue_ticket", service="SI", timeout=10)["status"] == "ok"
        mqtt_client.stop(disp.client)
    finally:
        runtime.stop()


def test_a_device_ignores_retained_state_older_than_what_it_has(mqtt):
    """A broker restarted from an old save replays old retained messages: each carries a version,
    and the device's link hands on none older than it already has (calls are not retained)."""
    creds = mqtt.devices.add(hall="district", name="screen-v", role="screen")
    queues: list[int] = []
    calls: list[int] = []
    screen = make_link(mqtt, "screen-v", creds["password"])
    screen.subscribe(topics.queue("district"), lambda body: queues.append(body.get("version")))
    screen.subscribe(topics.calls("district"), lambda body: calls.append(body["version"]))
    screen.start()
    try:
        wait_for(lambda: queues, what="the retained queue summary")  # the server's own, versioned
        first = queues[-1]
        assert isinstance(first, int) and first > 0
        for version in (first + 10, first + 5, first + 11):  # + 5: what a stale replay looks like
            mqtt.broker.deliver(topics.queue("district"), json.dumps({"services": [], "version": version}).encode(), True)
        mqtt.broker.deliver(topics.queue("district"), json.dumps({"services": []}).encode(), True)  # no version: an older server
        for version in (7, 3):  # calls carry their window's version: both are shown
            mqtt.broker.deliver(topics.calls("district"), json.dumps({"number": "A001", "version": version}).encode(), False)

        wait_for(lambda: len(calls) == 2 and len(queues) >= 4, what="the messages")
        assert queues[-3:] == [first + 10, first + 11, None] and calls == [7, 3]
    finally:
        screen.stop()


def test_the_servers_retained_messages_carry_versions_that_only_grow(hall):
    from datetime import datetime, timezone

    from hallq.core.devices.service import DeviceService
    from hallq.mqtt.publisher import MqttPublisher

    sent: list[tuple[str, dict]] = []
    at = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)

    def publisher(now):
        return MqttPublisher(hall, DeviceService(hall), lambda topic, payload, retain: sent.append((topic, json.loads(payload))),
                             now=lambda: now)

    first = publisher(at)
    for _ in range(2):  # the same moment twice: still one more
        first.send_queue("district", [], at)
        first.send_completed("district", {"window": 5, "ticket": "t1", "number": "A001", "at": None, "reviewed": False})
    restarted = publisher(datetime(2026, 11, 23, 2, 0, 1, tzinfo=timezone.utc))  # a second later, knowing nothing
    restarted.send_queue("district", [], at)  # the summary of the same moment, republished: a newer version
    restarted.send_completed("district", {"window": 5, "ticket": "t1", "number": "A001", "at": None, "reviewed": True})

    by_topic: dict[str, list[int]] = {}
    for topic, body in sent:
        by_topic.setdefault(topic, []).append(body["version"])
    for versions in by_topic.values():
        assert versions == sorted(set(versions)) and len(versions) == 3


def test_a_devices_retained_config_says_nothing_that_changes_at_midnight(hall, clock):
    """Retained until the next config is sent: today's hours and whether the hall works today would be
    yesterday's after midnight. The hall's own hours and time zone stay."""
    from hallq.core.devices.registry import DeviceInfo
    from hallq.core.devices.service import DeviceService
    from hallq.mqtt.publisher import MqttPublisher

    devices = DeviceService(hall)
    publisher = MqttPublisher(hall, devices, lambda topic, payload, retain: None, now=clock.now)
    device = DeviceInfo("district", "screen-c", "screen", None, "", "")
    before = publisher.device_config("district", device)
    clock.advance(days=1)
    after = publisher.device_config("district", device)
    assert "hours_today" in hall.hall_info("district") and "calendar" in hall.hall_info("district")
    assert not {"hours_today", "calendar"} & set(before["hall"])
    assert before["hall"] == after["hall"] and before["hall"]["timezone"] == "Asia/Shanghai" and before["hall"]["hours"]


def test_the_embedded_broker_drops_what_a_device_publishes_past_its_rate(hall, caplog):
    from hallq.core.devices.service import DeviceService
    from hallq.mqtt.broker import Directory, EmbeddedBroker
    from hallq.ports import free_port

    creds = DeviceService(hall).add(hall="district", name="disp-f", role="dispenser")
    port = free_port()
    broker = EmbeddedBroker(Directory(hall.db), port=port, recheck_seconds=0, publish_rate=1, publish_burst=5)
    broker.start()
    got: list[bytes] = []
    try:
        spy = paho.Client(CallbackAPIVersion.VERSION2, client_id="hallq-server-spy")
        spy.username_pw_set("hallq-server", broker.directory.server_password)
        spy.on_message = lambda c, u, m: got.append(m.payload)
        spy.on_connect = lambda c, u, f, rc, p: c.subscribe(topics.every_request(), qos=1)
        spy.connect("127.0.0.1", port)
        spy.loop_start()
        wait_for(spy.is_connected, what="the spy to connect")
        time.sleep(0.3)  # its subscription in place
        flood = paho.Client(CallbackAPIVersion.VERSION2, client_id=creds["username"])
        flood.username_pw_set(creds["username"], creds["password"])
        flood.connect("127.0.0.1", port)
        flood.loop_start()
        wait_for(flood.is_connected, what="the device to connect")
        sent = [flood.publish(topics.request("district", "disp-f"), f'{{"id": "r{i}"}}', qos=1) for i in range(50)]
        time.sleep(1.5)
        assert 5 <= len(got) <= 8  # its burst, and what one a second adds meanwhile; the rest never got past the broker
        # what was dropped was still acknowledged: the device's client is not left waiting on 40-odd messages
        wait_for(lambda: all(info.is_published() for info in sent), what="every publish acknowledged")
        assert any("publishes faster than it may" in r.getMessage() for r in caplog.records)
        mqtt_client.stop(flood)
        mqtt_client.stop(spy)
    finally:
        broker.stop()


def test_a_flooding_device_does_not_silence_another_on_the_embedded_broker(mqtt, device):
    """Issue 12, item 2, on the embedded broker: 1,500 requests at once from one dispenser; the
    other is answered. The broker lets at least 200 through, dropping what comes faster than 100
    a second (how much depends on how fast the flooder's client sends); the server serves the
    device's burst (50 by default) and refuses with rate_limited at least as many more (its
    refusals have a burst of their own), leaving the rest unanswered."""
    from support.mqtt import SERVED_OR_REFUSED, flood_while_another_asks

    loud, quiet = device("dispenser", "disp-loud"), device("dispenser", "disp-quiet")
    answer, flood = flood_while_another_asks(loud, quiet, 1500)
    assert answer is not None and answer["status"] == "ok", answer
    assert set(flood) <= SERVED_OR_REFUSED and flood.get("rate_limited", 0) > 0, flood
    assert flood.get("ok", 0) >= 50 and flood["rate_limited"] >= 50 and sum(flood.values()) <= 1500, flood


def test_two_server_processes_on_the_embedded_broker_handle_each_request_once(hall):
    """Issue 15, `hallq serve --workers 2`: the broker in a process of its own, two servers connected
    to it. Each device request is acted on and answered once, and both servers take a share."""
    from hallq.core.devices.service import DeviceService
    from hallq.mqtt.broker import SERVER_USER, Directory, EmbeddedBroker
    from hallq.mqtt.runtime import MqttRuntime
    from hallq.ports import free_port
    from support.mqtt import answers_to_requests

    broker = EmbeddedBroker(Directory(hall.db), port=free_port())
    broker.start()
    url = f"mqtt://{SERVER_USER}:{broker.directory.server_password}@127.0.0.1:{broker.port}"
    servers = [MqttRuntime(hall, url=url, client_id=f"hallq-server-worker-{i}").start() for i in (1, 2)]
    try:
        for server in servers:
            wait_for(server.link.connected.is_set, what="a server process to connect")
        creds = DeviceService(hall).add(hall="district", name="disp-1", role="dispenser")
        time.sleep(0.5)  # the servers' subscriptions are in place
        answers = answers_to_requests(broker.port, creds, 20)

        assert answers == {f"once-{i}": 1 for i in range(20)}
        assert [s.bridge.answered > 0 for s in servers] == [True, True]
        assert sum(s.bridge.answered for s in servers) == 20
        assert len(tickets(hall)) == 20
    finally:
        for server in servers:
            server.stop()
        broker.stop()


def test_the_embedded_broker_refuses_connections_past_its_maximum_and_says_to_use_mosquitto(hall, caplog):
    """Issue 15: past mqtt_max_connections a device is refused at once (CONNACK 3, server
    unavailable) with a log line naming the way out; the server's own link always gets in."""
    from hallq.core.devices.service import DeviceService
    from hallq.mqtt.runtime import MqttRuntime
    from hallq.ports import free_port

    runtime = MqttRuntime(hall, port=free_port(), max_connections=2).start()
    try:
        wait_for(runtime.link.connected.is_set, what="the server to connect")
        registry = DeviceService(hall)
        first, second = (registry.add(hall="district", name=f"disp-{i}", role="dispenser") for i in (1, 2))
        held = make_link(runtime, "disp-1", first["password"])
        held.start()
        wait_for(lambda: held.connected, what="the first device to connect")

        started = time.monotonic()
        assert try_connect(runtime.port, second["username"], second["password"]) == "Server unavailable"
        assert time.monotonic() - started < 5  # refused, not left hanging
        assert any("at most 2 connections" in r.getMessage() and "Mosquitto" in r.getMessage() and "MQTT_URL" in r.getMessage()
                   for r in caplog.records)

        # The server's link drops and a device takes its place before it comes back (a second later):
        # at the limit, the server is let in all the same.
        runtime.link._drop()
        wait_for(lambda: not runtime.link.connected.is_set(), what="the server's link to drop")
        other = make_link(runtime, "disp-2", second["password"])
        other.start()
        wait_for(lambda: other.connected, what="the second device to take the free place")
        wait_for(runtime.link.connected.is_set, what="the server to connect again past the limit")
        assert runtime.broker._broker.open_connections == 3
        assert held.call("issue_ticket", service="SI", timeout=20)["status"] == "ok"
        held.stop()
        other.stop()
    finally:
        runtime.stop()


def test_a_shared_subscription_is_judged_by_the_filter_it_shares():
    from hallq.mqtt import acl
    from hallq.mqtt.broker import _may_subscribe

    device = acl.device_rules("district", "disp-1", "dispenser")
    assert _may_subscribe(device, topics.shared(topics.response("district", "disp-1"), "mine"))
    assert not _may_subscribe(device, topics.shared(topics.response("district", "disp-2"), "mine"))
    assert not _may_subscribe(device, topics.shared(topics.every_request()))  # the server's share is not a device's
    assert _may_subscribe(acl.SERVER_RULES, topics.shared(topics.every_request()))
    for malformed in ("$share//hallq/#", "$share/g", "$share/g+/hallq/#", "$share/#/hallq/#"):
        assert not _may_subscribe(acl.SERVER_RULES, malformed), malformed

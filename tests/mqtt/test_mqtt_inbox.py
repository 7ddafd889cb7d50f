"""The bridge's inbox: devices served in turn, each within its own queue and rate."""

from __future__ import annotations

import json
import threading

from hallq.mqtt.inbox import STOP, FairInbox
from support.mqtt import connect, start_runtime
from support.waiting import wait_for


def drain(inbox: FairInbox, n: int) -> list:
    return [inbox.get() for _ in range(n)]


def test_devices_are_served_in_turn_whatever_one_of_them_sends():
    inbox = FairInbox(rate=1000, burst=1000, max_queued=1000, clock=lambda: 0.0)
    for i in range(5):
        inbox.put("flood", ("flood", i))
    inbox.put("quiet", ("quiet", 0))
    inbox.put("other", ("other", 0))

    assert drain(inbox, 7) == [("flood", 0), ("quiet", 0), ("other", 0), ("flood", 1), ("flood", 2), ("flood", 3), ("flood", 4)]


def test_calls_and_tickets_go_before_every_devices_status_reports():
    """Issue 15: 2,000 devices reporting every 6 s outran the server, and a window's call waited
    behind every device's report in turn (10 s and more). Housekeeping now waits for them."""
    inbox = FairInbox(rate=1000, burst=1000, max_queued=1000, clock=lambda: 0.0)
    for d in range(50):
        inbox.put(f"screen-{d}", ("status", d), urgent=False)
    inbox.put("caller", ("call_next", 0))
    inbox.put("screen-0", ("status", "again"), urgent=False)
    inbox.put("dispenser", ("issue_ticket", 0))

    served = drain(inbox, 53)
    assert served[:2] == [("call_next", 0), ("issue_ticket", 0)]
    assert sorted(map(str, served[2:])) == sorted(map(str, [("status", d) for d in range(50)] + [("status", "again")]))
    assert served[2:4] == [("status", 0), ("status", 1)]  # housekeeping still takes turns among devices
    assert inbox.queued("screen-0") == 0


def test_past_its_burst_or_its_queue_a_device_is_told_to_wait():
    now = [0.0]
    inbox = FairInbox(rate=10, burst=3, max_queued=2, clock=lambda: now[0])
    assert [inbox.put("d", i) for i in range(2)] == [0.0, 0.0]
    assert inbox.put("d", 2) > 0  # the queue holds 2
    assert drain(inbox, 2) == [0, 1]
    assert inbox.put("d", 3) == 0.0  # the third token
    wait = inbox.put("d", 4)  # no tokens left: one comes back in 0.1 s
    assert 0 < wait <= 0.1
    now[0] += 0.1
    assert inbox.put("d", 5) == 0.0
    assert inbox.put("other", "x") == 0.0  # one device's limits are its own
    assert inbox.put("d", "status", limited=False) == 0.0  # availability is never refused


def test_stop_lets_the_worker_finish_what_is_queued():
    inbox = FairInbox()
    inbox.put("d", 1)
    inbox.stop()
    assert drain(inbox, 2) == [1, STOP]


def test_a_flooding_device_is_refused_and_another_is_served_before_its_backlog(hall):
    from hallq.core.devices.service import DeviceService
    from hallq.mqtt.bridge import RequestBridge

    devices = DeviceService(hall)
    devices.add(hall="district", name="disp-1", role="dispenser")
    devices.add(hall="district", name="disp-2", role="dispenser")
    answers: list[tuple[str, dict]] = []
    done = threading.Event()

    def send(topic: str, payload: bytes) -> None:
        answers.append((topic.split("/")[3], json.loads(payload)))
        if len(answers) == 151:
            done.set()

    bridge = RequestBridge(hall, devices, send=send, max_age=60, now=hall.clock.now, rate=1000, burst=100, max_queued=100)

    def ask(device: str, rid: str) -> None:
        body = {"id": rid, "action": "issue_ticket", "service": "SI", "at": hall.clock.now().isoformat()}
        bridge.submit("district", device, json.dumps(body).encode())

    for i in range(150):  # before the worker runs: all of it arrives at once
        ask("disp-1", f"f{i}")
    ask("disp-2", "quiet")
    refused = [a for _, a in answers if a["status"] == "error"]
    assert len(refused) == 50 and {a["error"]["code"] for a in refused} == {"rate_limited"}
    assert refused[0]["id"] == "f100" and refused[0]["error"]["details"]["retry_after"] > 0

    bridge.start()
    try:
        assert done.wait(60)
    finally:
        bridge.stop()
    served = [(device, a["id"]) for device, a in answers[50:]]
    assert served[:2] == [("disp-1", "f0"), ("disp-2", "quiet")]  # its turn came second, not 101st
    failed = [a for _, a in answers[50:] if a["status"] != "ok"]
    assert len(served) == 101 and not failed, failed[:1]


def test_a_device_told_to_wait_asks_again_and_gets_its_answer(hall):
    runtime = start_runtime(hall, device_rate=5, device_burst=1, device_queue=5)
    try:
        disp = connect(runtime, "dispenser", "disp-1")
        answers = [disp.call("issue_ticket", service="SI", timeout=10) for _ in range(4)]  # faster than 5 a second
        assert [a["status"] for a in answers] == ["ok"] * 4
        assert [a["data"]["number"] for a in answers] == ["A001", "A002", "A003", "A004"]
        disp.stop()
    finally:
        runtime.stop()


def test_past_its_refusals_rate_a_flooding_device_is_not_even_answered(hall):
    """Refusing costs the server too (an answer encoded and sent per request): a device refused
    more than its rate allows gets no answer at all, and another device is still served."""
    from hallq.core.devices.service import DeviceService
    from hallq.mqtt.bridge import RequestBridge

    devices = DeviceService(hall)
    for name in ("disp-1", "disp-2"):
        devices.add(hall="district", name=name, role="dispenser")
    answers: list[tuple[str, dict]] = []
    moment = [0.0]
    bridge = RequestBridge(hall, devices, send=lambda topic, payload: answers.append((topic.split("/")[3], json.loads(payload))),
                           max_age=60, now=hall.clock.now, rate=10, burst=5, max_queued=5, monotonic=lambda: moment[0])

    def ask(device: str, rid: str) -> None:
        body = {"id": rid, "action": "issue_ticket", "service": "SI", "at": hall.clock.now().isoformat()}
        bridge.submit("district", device, json.dumps(body).encode())

    for i in range(100):  # all in one instant
        ask("disp-1", f"f{i}")
    refused = [a["id"] for _, a in answers]
    assert refused == [f"f{i}" for i in range(5, 25)] and bridge.dropped == 75  # 5 queued, 20 told to wait
    moment[0] = 1.0  # a second later: twenty more refusals may be sent (twice its rate)
    for i in range(100, 130):
        ask("disp-1", f"f{i}")
    assert len(answers) == 40 and bridge.dropped == 85
    ask("disp-2", "quiet")
    bridge.start()
    try:
        wait_for(lambda: any(device == "disp-2" for device, _ in answers), what="the quiet dispenser's answer")
    finally:
        bridge.stop()
    assert [a["status"] for device, a in answers if device == "disp-2"] == ["ok"]

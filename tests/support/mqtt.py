"""Helpers for the MQTT and edge tests: the server's MQTT side on the embedded
broker (a free port per test), device links, and staff at a window.
The fixtures built on them (`mqtt`, `device`) are the plugin mqtt_plugin.py."""

from __future__ import annotations

from hallq.core.office import OfficeService
from hallq.mqtt.runtime import MqttRuntime
from hallq.ports import free_port
from hallq_edge.link import DeviceLink

from .waiting import wait_for


def start_runtime(hall, **kw) -> MqttRuntime:
    runtime = MqttRuntime(hall, port=free_port(), **kw).start()
    wait_for(runtime.link.connected.is_set, what="the server to connect to the broker")
    return runtime


def connect(runtime: MqttRuntime, role: str, name: str, window: int | None = None, *, password: str | None = None) -> DeviceLink:
    """Register a device and return its started, connected link."""
    creds = runtime.devices.add(hall="district", name=name, role=role, window=window)
    link = make_link(runtime, name, password or creds["password"])
    link.start()
    wait_for(lambda: link.connected, what=f"{name} to connect")
    return link


def make_link(runtime: MqttRuntime, name: str, password: str, *, hall: str = "district", port: int | None = None) -> DeviceLink:
    """A device's link (not started), to the broker's port for devices (runtime.port unless given)."""
    return DeviceLink(hall=hall, device=name, username=f"{hall}.{name}", password=password,
                      host="127.0.0.1", port=port or runtime.port, reconnect_delay=(1, 1), keepalive=5)


def open_window(hall, number: int, staff: str = "staff5", display_name: str = "王芳", staff_no: str = "1005"):
    """Sign a staff member in at a window; return the staff actor."""
    OfficeService(hall).add_user(name=staff, role="staff", password="staff-password", hall="district", display_name=display_name, staff_no=staff_no)
    actor = OfficeService(hall).actor_for_login(staff, "staff-password")
    hall.window_action("district", number, "open", actor=actor)
    return actor


# What a flooding dispenser's requests may be answered: served (ok, or the service's daily quota
# reached: the hall's answer too) or told to wait (rate_limited). Never lost, never another error.
SERVED_OR_REFUSED = {"ok", "quota_reached", "rate_limited"}


def flood_while_another_asks(loud: DeviceLink, quiet: DeviceLink, count: int, *, hall: str = "district") -> tuple[dict | None, dict[str, int]]:
    """`loud` publishes `count` ticket requests at once, never waiting; meanwhile `quiet` asks for
    one ticket, as a dispenser does. Returns quiet's answer, and loud's answers counted by status
    (ok) or error code, once no more have come for two seconds."""
    import json
    import threading
    import time

    from hallq_protocol import topics

    answers: dict[str, int] = {}
    lock = threading.Lock()
    last = [time.monotonic()]

    def on_answer(client, userdata, message) -> None:
        body = json.loads(message.payload)
        with lock:
            key = body["status"] if body["status"] == "ok" else body["error"]["code"]
            answers[key] = answers.get(key, 0) + 1
            last[0] = time.monotonic()

    loud.client.message_callback_add(topics.response(hall, loud.device), on_answer)
    at = loud.now().isoformat()  # dated as the device dates its own requests
    for i in range(count):
        body = {"id": f"flood-{i}", "action": "issue_ticket", "service": "MI", "at": at}
        loud.client.publish(topics.request(hall, loud.device), json.dumps(body), qos=1)
    answer = quiet.call("issue_ticket", service="SI", timeout=30)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and sum(answers.values()) < count and time.monotonic() - last[0] < 2:
        time.sleep(0.1)
    with lock:
        return answer, dict(answers)


def answers_to_requests(port: int, creds: dict, count: int, *, hall: str = "district", quiet: float = 1.5) -> dict[str, int]:
    """Device `creds` (as DeviceService.add returned them) asks for `count` tickets, one request each,
    then listens until no answer has come for `quiet` seconds: how many answers each request id got."""
    import json
    import threading
    import time

    import paho.mqtt.client as paho
    from paho.mqtt.enums import CallbackAPIVersion

    from hallq_protocol import client as mqtt_client
    from hallq_protocol import topics

    answers: dict[str, int] = {}
    lock, ready = threading.Lock(), threading.Event()
    last = [time.monotonic()]
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=creds["username"])
    client.username_pw_set(creds["username"], creds["password"])

    def on_message(c, u, message) -> None:
        with lock:
            rid = json.loads(message.payload)["id"]
            answers[rid] = answers.get(rid, 0) + 1
            last[0] = time.monotonic()

    client.on_message = on_message
    client.on_connect = lambda c, *a: c.subscribe(topics.response(hall, creds["device"]), qos=1)
    client.on_subscribe = lambda *a: ready.set()
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        wait_for(ready.is_set, what="the device to subscribe to its answers")
        for i in range(count):
            body = {"id": f"once-{i}", "action": "issue_ticket", "service": "SI", "at": time.time()}
            client.publish(topics.request(hall, creds["device"]), json.dumps(body), qos=1)
        wait_for(lambda: len(answers) == count, what="every request to be answered")
        while time.monotonic() - last[0] < quiet:
            time.sleep(0.1)
        with lock:
            return dict(answers)
    finally:
        mqtt_client.stop(client)

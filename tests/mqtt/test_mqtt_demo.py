"""`hallq demo`'s simulated devices: real edge code on mock pins and a file
printer, against the embedded broker."""

from __future__ import annotations

import json

from hallq.mqtt.demo_devices import WINDOW, DemoDevices
from support.waiting import wait_for


def test_demo_devices_issue_print_call_and_review(mqtt, hall, office, tmp_path):
    office.add_user(name=f"staff{WINDOW:02d}", role="staff", password="staff-password", hall="district")
    demo = DemoDevices(hall, hall="district", port=mqtt.port, instance=tmp_path, seed=1)
    demo.start()
    try:
        wait_for(lambda: all(link.connected for link in demo.links), what="the demo devices to connect")
        assert hall.window("district", WINDOW)["state"] == "idle"  # signed in for the caller

        wait_for(lambda: demo.dispenser.config is not None, what="the dispenser's config")
        demo._press(demo.service_pins["BL"])  # a service window 20 serves
        ticket, _ = demo.dispenser.printed.get(timeout=20)
        assert ticket["number"].encode() in (tmp_path / "demo-tickets.escpos").read_bytes()

        demo._press(11)  # the caller's call-next key
        wait_for(lambda: (hall.window("district", WINDOW)["ticket"] or {}).get("number") == ticket["number"], what="the call")
        wait_for(lambda: demo.screen.calls and demo.screen.calls[0]["number"] == ticket["number"], what="the screen")
        wait_for(lambda: demo.caller.answers, what="the caller's answer")  # a key pressed while one is in flight is ignored
        # The dispenser printed the ticket's tracking id as its QR; the call and the window's state
        # that screens and keypads hear carry its number only (issue 12, item 8).
        wait_for(lambda: (demo.caller.state or {}).get("ticket"), what="the caller to hear its window's state")
        assert ticket["id"] and demo.caller.state["ticket"]["number"] == ticket["number"]
        assert ticket["id"] not in json.dumps([demo.caller.state, list(demo.screen.calls), demo.screen.windows])
        demo._press(12)  # complete
        wait_for(lambda: demo.review.pending is not None, what="the review prompt")
        demo._press(demo.review_pins[0])
        wait_for(lambda: demo.review.answers, what="the review")
        assert demo.review.answers[0]["data"]["level"] == "非常满意"
        # Availability is housekeeping: recorded after the calls and tickets queued before it (inbox.py).
        wait_for(lambda: all(d["online"] for d in mqtt.devices.list("district")), what="every device recorded online")
        assert {d["device"]: d["online"] for d in mqtt.devices.list("district")} == {
            "demo-caller-20": True, "demo-dispenser": True, "demo-review-20": True, "demo-screen": True}
    finally:
        demo.close()

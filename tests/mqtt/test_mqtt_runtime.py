"""The MQTT runtime as a whole: what its stop() promises."""

from __future__ import annotations

import time

from hallq.mqtt.runtime import MqttRuntime
from hallq.ports import free_port
from support.waiting import wait_for


def test_stop_waits_for_the_republishing_a_connect_started(hall):
    """The server's link republishes every window and device after each connect, off the MQTT
    thread. stop() returns only once that is done: a republishing thread left running read the
    database after its owner had closed it, and crashed the process (a clock-shifted CI pass)."""
    runtime = MqttRuntime(hall, port=free_port())
    real, ended = runtime.publisher.republish_all, []

    def slow_republish() -> None:
        time.sleep(1.0)
        real()
        ended.append(True)

    runtime.publisher.republish_all = slow_republish
    runtime.start()
    wait_for(runtime.link.connected.is_set, what="the server to connect to the broker")

    runtime.stop()

    assert ended, "stop() returned while the republishing was still under way"

"""What every HallQ MQTT client (the server's link, the edge devices' links, the
tests) needs around paho beyond its own API. Standard library only: the edge
imports it."""

from __future__ import annotations


def stop(client) -> None:
    """Disconnect and wait for paho's network thread to end.

    paho 2.2's `loop_stop` races with that thread's exit (eclipse-paho/paho.mqtt.python#872):
    after `disconnect` the thread may clear the attribute `loop_stop` is about to join, and
    `loop_stop` raises AttributeError. The thread clears it as its last act, so that error
    means what `loop_stop` waits for has already happened."""
    client.disconnect()
    try:
        client.loop_stop()
    except AttributeError:
        pass

"""What every HallQ MQTT client (the server's link, the edge devices' links, the
tests) needs around paho beyond its own API. Standard library only: the edge
imports it."""

from __future__ import annotations

import socket


def no_delay(client) -> None:
    """Send small packets at once (on a connected paho client): with Nagle's algorithm a request
    waits for the peer's delayed ACK of the previous packet, some 40 ms per hop."""
    sock = client.socket()
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


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

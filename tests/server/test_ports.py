"""Choosing free ports: two choices of one process never get the same port."""

from __future__ import annotations

import socket

import pytest

from hallq import ports


class _ScriptedSocket:
    """A socket whose bind to port 0 gets the next port of a script (the kernel reusing one)."""

    script: list[int] = []

    def __init__(self, *args):
        self.port = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def bind(self, address):
        self.port = self.script.pop(0)

    def getsockname(self):
        return ("127.0.0.1", self.port)


def test_a_port_given_once_is_not_given_again(monkeypatch):
    monkeypatch.setattr(ports, "_given", set())
    monkeypatch.setattr(ports.socket, "socket", _ScriptedSocket)
    _ScriptedSocket.script = [41000, 41000, 41000, 41001]
    assert ports.free_port() == 41000
    assert ports.free_port() == 41001  # the system offered 41000 twice more: a server's HTTP and broker port


def test_free_ports_are_bindable_and_distinct():
    chosen = [ports.free_port() for _ in range(50)]
    assert len(set(chosen)) == 50
    with socket.socket() as s:
        s.bind(("127.0.0.1", chosen[-1]))


def test_a_taken_port_is_named_with_its_hint():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(ports.PortTaken, match=f"MQTT port {port} on 127.0.0.1 is already in use; try another"):
            ports.check_port("127.0.0.1", port, what="MQTT port", hint="try another")

"""pytest plugin (registered in tests/conftest.py): the server's MQTT side and device
links, for the MQTT, edge and web tests that need a real broker."""

from __future__ import annotations

import pytest

from hallq_protocol import client as mqtt_client
from hallq_edge.link import DeviceLink

from .mqtt import connect, start_runtime


@pytest.fixture
def mqtt(hall):
    """The server's MQTT side for the `hall` service, on an embedded broker of its own."""
    runtime = start_runtime(hall)
    yield runtime
    runtime.stop()


@pytest.fixture
def device(mqtt):
    """device(role, name, window=None) → a connected DeviceLink, stopped after the test."""
    links = []

    def make(role: str, name: str, window: int | None = None) -> DeviceLink:
        link = connect(mqtt, role, name, window)
        links.append(link)
        return link

    yield make
    for link in links:
        mqtt_client.stop(link.client)

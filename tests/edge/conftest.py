"""Fixtures of the edge tests: `memory_link`, the in-memory DeviceLink of the roles'
fast tests (no broker), and `dispenser`, the dispenser against a real broker and
server. Pins are gpiozero's MockFactory: the shared `mock_factory` fixture."""

from __future__ import annotations

import pytest
from escpos.printer import Dummy

from hallq_edge import hardware
from hallq_edge.blocks import BlockStore
from hallq_edge.dispenser import Dispenser
from hallq_edge.printing import TicketPrinter
from support.edge import LED_PIN, MI_PIN, PAPER_PIN, SI_PIN, dispenser_today
from support.memory_link import MemoryLink
from support.waiting import wait_for


@pytest.fixture
def memory_link(clock):
    """memory_link(device, role=None, respond=None) → a MemoryLink of the example hall on the
    test's clock. The test fails if a role's handler raised on one of them."""
    links: list[MemoryLink] = []

    def make(device: str = "device-1", *, role: str | None = None, respond=None) -> MemoryLink:
        link = MemoryLink(hall="district", device=device, role=role, respond=respond, now=clock.now)
        links.append(link)
        return link

    yield make
    for link in links:
        link.close()
    for link in links:
        link.check()


@pytest.fixture
def dispenser(device, mock_factory, tmp_path, hall):
    link = device("dispenser", "disp-1")
    printer = TicketPrinter(Dummy(), paper_sensor=hardware.sensor(PAPER_PIN, mock_factory))
    d = Dispenser(
        link, buttons={"SI": hardware.button(SI_PIN, mock_factory), "MI": hardware.button(MI_PIN, mock_factory)},
        led=hardware.led(LED_PIN, mock_factory), printer=printer, blocks=BlockStore(tmp_path / "blocks.db"), hall="district",
        now=hall.clock.now,  # the hall's test clock: 10:00 on a Monday
    )
    d._on_link(True)  # the link came up before the dispenser listened
    wait_for(lambda: d.config is not None, what="the device config")
    wait_for(lambda: d.blocks.remaining("SI", dispenser_today(d)) > 0 and d.blocks.remaining("MI", dispenser_today(d)) > 0,
             what="blocks reserved")
    yield d
    d.close()

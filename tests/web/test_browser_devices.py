"""Browser tests of the pages that follow the hall's devices, against a server
running its MQTT side (embedded broker) and real device agents in this process:
the manager's live hall shows a device going offline or out of paper without a
reload, and a kiosk bound to a dispenser has its tickets printed there."""

from __future__ import annotations

import time

import pytest
from escpos.printer import Dummy
from support.browser import WAIT_MS, browser_sign_in
from support.pageserver import ServerProcess
from support.waiting import wait_for

from hallq.core.devices.service import DeviceService
from hallq.core.service import HallService
from hallq.db import Database
from hallq.ports import free_port
from hallq_edge import hardware
from hallq_edge.blocks import BlockStore
from hallq_edge.dispenser import Dispenser
from hallq_edge.link import DeviceLink
from hallq_edge.printing import TicketPrinter
from hallq_protocol import client as mqtt_client


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("device-pages")
    proc = ServerProcess(f"sqlite:///{tmp / 'hallq.db'}", tmp / "instance", mqtt_port=free_port()).start(prepare=True)
    db = Database.from_url(proc.db_url)
    proc.registry = DeviceService(HallService(db))  # the same database, from this process
    yield proc
    db.dispose()
    proc.stop()


@pytest.fixture
def device(server):
    """device(role, name, window=None) → a registered, connected DeviceLink to the server's broker."""
    links = []

    def connect(role: str, name: str, window: int | None = None) -> DeviceLink:
        creds = server.registry.add(hall="district", name=name, role=role, window=window)
        link = DeviceLink(hall="district", device=name, username=creds["username"], password=creds["password"],
                          port=server.mqtt_port, reconnect_delay=(1, 1), keepalive=5)
        wait_for(lambda: _broker_up(server), what="the server's broker")
        link.start()
        wait_for(lambda: link.connected, what=f"{name} to connect")
        wait_for(lambda: server.registry.get("district", name)["online"], what=f"the server to see {name} online")
        links.append(link)
        return link

    yield connect
    for link in links:
        mqtt_client.stop(link.client)


def _broker_up(server) -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", server.mqtt_port), timeout=0.5).close()
        return True
    except OSError:
        return False


def test_manager_sees_a_device_go_offline_and_run_out_of_paper_without_reload(browser, server, device):
    caller = device("caller", "caller-3", 3)
    dispenser = device("dispenser", "disp-m")
    ctx, manager = browser_sign_in(browser, server, "mgr")
    manager.wait_for_selector("#window-3")
    assert "state-offline" not in manager.get_attribute("#window-3", "class")
    manager.evaluate("window.__same_page = true")

    started = time.monotonic()
    caller.stop()  # announces offline, as its Last Will would
    manager.wait_for_selector("#window-3.state-offline", timeout=WAIT_MS)
    offline_after = time.monotonic() - started
    manager.wait_for_function("document.querySelector('#alerts').textContent.includes('设备 caller-3 离线')", timeout=WAIT_MS)

    dispenser.request("status", paper="out", expect_answer=False)
    manager.wait_for_function("document.querySelector('#alerts').textContent.includes('disp-m 的打印机缺纸')", timeout=WAIT_MS)
    assert manager.evaluate("window.__same_page") is True  # no reload happened
    print(f"device offline → manager tile: {offline_after * 1000:.0f} ms")
    ctx.close()


def test_a_kiosk_prints_on_its_dispenser_and_says_when_it_is_offline(browser, server, device, mock_factory, tmp_path):
    link = device("dispenser", "disp-k")
    agent = Dispenser(link, buttons={"SI": hardware.button(17, mock_factory)}, led=hardware.led(22, mock_factory),
                      printer=TicketPrinter(Dummy()), blocks=BlockStore(tmp_path / "blocks.db"), hall="district")
    agent._on_link(True)  # the link came up before the dispenser listened
    wait_for(lambda: agent.config is not None, what="the dispenser's config")

    ctx, kiosk = browser_sign_in(browser, server, "kiosk")
    kiosk.goto("/kiosk/district?printer=disp-k")
    kiosk.click("button.service[data-service=MI]")
    kiosk.wait_for_selector("#ticket:not([hidden])", timeout=WAIT_MS)
    number = kiosk.text_content("#ticket-number")
    assert kiosk.text_content("#ticket-printed") == "请取票。"
    printed, _ = agent.printed.get(timeout=10)
    assert printed["number"] == number and number.encode() in agent.printer.printer.output

    kiosk.click("#ticket-done")
    link.stop()
    wait_for(lambda: not server.registry.get("district", "disp-k")["online"], what="the server to see the printer offline")
    kiosk.click("button.service[data-service=MI]")
    kiosk.wait_for_function("document.querySelector('#ticket-printed').dataset.print === 'offline'", timeout=WAIT_MS)
    assert kiosk.text_content("#ticket-printed") == "打印机离线，请凭屏幕票号/二维码等候。"
    second = kiosk.text_content("#ticket-number")
    assert second != number and second.startswith("B")  # the ticket is issued and shown all the same
    assert agent.printed.empty()
    ctx.close()

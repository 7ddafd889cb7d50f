"""The dispenser on its own, fast: a MemoryLink instead of a broker, MockFactory pins,
an escpos Dummy printer. A press asks the server and prints its ticket; without an
answer it issues from its blocks and hands them in later; no paper, no number; a
kiosk's ticket is printed once per command. (Against a real broker and server:
test_edge_dispenser.py.)"""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from types import SimpleNamespace

import pytest
from escpos.printer import Dummy

from hallq.core.devices.service import DeviceService
from hallq.mqtt import schemas
from hallq.mqtt.bridge import RequestBridge
from hallq_edge import hardware
from hallq_edge.blocks import BlockStore
from hallq_edge.dispenser import Dispenser
from hallq_edge.printing import TicketPrinter
from hallq_protocol import topics
from support.edge import LED_PIN, MI_PIN, PAPER_PIN, SI_PIN, dispenser_today, press, server_tickets
from support.halls import MONDAY_10AM
from support.waiting import wait_for

HALL = {"slug": "district", "id": "cn-gd-demo-district", "name": "示范区政务服务中心", "name_en": "Demo District",
        "timezone": "Asia/Shanghai", "hours": {}, "recall_limit": 2}
CONFIG = schemas.checked(schemas.CONFIG, {
    "device": "disp-1", "role": "dispenser", "hall": HALL, "window": None, "request_max_age": 60.0, "block_size": 20,
    "services": [{"code": "SI", "name": "社会保险", "name_en": "", "prefix": "A"}, {"code": "MI", "name": "医疗保障", "name_en": "", "prefix": "B"}],
    "tracker_url": "https://hall.example/t/district/{ticket}", "server_time": MONDAY_10AM.strftime("%Y-%m-%dT%H:%M:%SZ"),
})
OFFLINE = "网络中断时取号".encode("gb18030")


class ScriptedServer:
    """The server's answers to a dispenser: numbers after the blocks it handed out, blocks of 20."""

    def __init__(self):
        self.next = {"SI": 21, "MI": 21}
        self.prefix = {"SI": "A", "MI": "B"}
        self.refusal: dict | None = None  # set: every issue_ticket is refused with it
        self.silent = False  # set: issue_ticket goes unanswered

    def issue_ticket(self, req: dict):
        if self.silent:
            return None
        if self.refusal is not None:
            return self.refusal
        code = req["service"]
        number = f"{self.prefix[code]}{self.next[code]:03d}"
        self.next[code] += 1
        return {"id": f"t-{number}", "number": number, "service": code, "service_name": {"SI": "社会保险", "MI": "医疗保障"}[code],
                "ahead": 3, "estimated_wait_minutes": 12.0, "issued_at": req["at"]}

    def reserve_block(self, req: dict):
        return {"service": req["service"], "prefix": self.prefix[req["service"]], "business_date": "2026-11-23",
                "first": 1, "last": req["count"]}

    def answers(self) -> dict:
        return {"issue_ticket": self.issue_ticket, "reserve_block": self.reserve_block,
                "offline_ticket": lambda req: {"number": req["number"]}, "status": lambda req: {}}


def build(link, mock_factory, tmp_path, clock) -> Dispenser:
    printer = TicketPrinter(Dummy(), paper_sensor=hardware.sensor(PAPER_PIN, mock_factory))
    return Dispenser(link, buttons={"SI": hardware.button(SI_PIN, mock_factory), "MI": hardware.button(MI_PIN, mock_factory)},
                     led=hardware.led(LED_PIN, mock_factory), printer=printer, blocks=BlockStore(tmp_path / "blocks.db"),
                     hall="district", now=clock.now)


@pytest.fixture
def rig(memory_link, mock_factory, tmp_path, clock):
    """A dispenser whose link came up, got its config and reserved a block of each service."""
    server = ScriptedServer()
    link = memory_link("disp-1", role="dispenser", respond=server.answers())
    d = build(link, mock_factory, tmp_path, clock)
    link.deliver(topics.config("district", "disp-1"), CONFIG, retain=True)
    link.start()
    day = dispenser_today(d)
    wait_for(lambda: d.blocks.remaining("SI", day) == 20 and d.blocks.remaining("MI", day) == 20, what="blocks reserved")
    yield SimpleNamespace(d=d, link=link, server=server, pins=mock_factory)
    d.close()  # a refusal's flashes end before the pins are closed


def sent(link, action: str) -> list[dict]:
    return [r for r in link.requests if r["action"] == action]


def test_a_press_asks_the_server_and_prints_its_ticket(rig, clock):
    press(rig.pins, SI_PIN)

    ticket, offline = rig.d.printed.get(timeout=10)
    assert not offline and ticket["number"] == "A021"
    [asked] = sent(rig.link, "issue_ticket")
    assert asked == {"id": asked["id"], "action": "issue_ticket", "at": clock.now().isoformat(), "service": "SI"}
    out = rig.d.printer.printer.output
    assert b"A021" in out and "社会保险".encode("gb18030") in out and "示范区政务服务中心".encode("gb18030") in out
    assert "前面还有 3 人".encode("gb18030") in out and "预计等候约 12 分钟".encode("gb18030") in out
    assert "扫码查看排队进度".encode("gb18030") in out and OFFLINE not in out  # the tracker's QR code
    assert rig.d.light == "ready"


def test_reserving_blocks_asks_for_a_block_of_each_service(rig):
    assert sorted((r["service"], r["count"]) for r in sent(rig.link, "reserve_block")) == [("MI", 20), ("SI", 20)]
    assert [r["paper"] for r in sent(rig.link, "status")] == ["ok"]  # said once the link was up


def test_without_the_broker_it_issues_from_its_blocks_and_hands_them_in_when_back(rig):
    rig.link.drop()
    assert rig.d.light == "offline"

    offline = [rig.d.press("SI"), rig.d.press("SI"), rig.d.press("MI")]

    assert [t["number"] for t in offline] == ["A001", "A002", "B001"]
    assert [rig.d.printed.get_nowait()[1] for _ in offline] == [True, True, True]
    assert rig.d.printer.printer.output.count(OFFLINE) == 3
    assert sent(rig.link, "issue_ticket") == []  # nothing was asked while the link was down
    assert [t["number"] for t in rig.d.blocks.to_hand_in()] == ["A001", "A002", "B001"]

    rig.link.start()

    wait_for(lambda: rig.d.blocks.to_hand_in() == [], what="the offline tickets to be handed in")
    handed = sent(rig.link, "offline_ticket")
    assert [(r["id"], r["service"], r["number"]) for r in handed] == [
        ("off-2026-11-23-A001", "SI", "A001"), ("off-2026-11-23-A002", "SI", "A002"), ("off-2026-11-23-B001", "MI", "B001")]
    assert [r["issued_at"] for r in handed] == [t["issued_at"] for t in offline]
    assert rig.d.light == "ready"


def test_a_server_that_does_not_answer_gets_a_ticket_from_the_blocks(rig):
    rig.server.silent = True

    ticket = rig.d.press("MI")

    assert ticket["number"] == "B001" and rig.d.printed.get_nowait() == (ticket, True)
    assert len(sent(rig.link, "issue_ticket")) == 1  # asked first
    assert "医疗保障".encode("gb18030") in rig.d.printer.printer.output  # the name from the config


def test_a_final_refusal_prints_why_once_a_minute_and_takes_no_number(rig, clock):
    rig.server.refusal = rig.link.refused("quota_reached", "今日号已发完")

    assert rig.d.press("SI") is None

    out = rig.d.printer.printer.output
    assert "社会保险".encode("gb18030") in out and "今日号源已取完".encode("gb18030") in out and rig.d.printed.empty()
    assert b"A0" not in out  # a slip without a number
    assert rig.d.blocks.remaining("SI", dispenser_today(rig.d)) == 20
    assert rig.d.press("SI") is None and rig.d.printer.printer.output == out  # pressed again at once: nothing more
    clock.advance(seconds=61)
    assert rig.d.press("SI") is None and rig.d.printer.printer.output.count("今日号源已取完".encode("gb18030")) == 2


def test_refusals_in_quick_succession_flash_the_led_once_at_a_time(rig):
    """gpiozero's blink is not safe from two threads at once: a refusal while the LED still flashes
    for the one before adds no second flash thread, and the LED shows the state again after."""
    rig.server.refusal = rig.link.refused("quota_reached", "今日号已发完")
    led, release, flashes = rig.d.led, threading.Event(), []
    blink = led.blink

    def held_flash(*args, background=True, **kw):  # the five flashes last until the test says
        if background:
            return blink(*args, **kw)
        flashes.append(threading.current_thread())
        release.wait(10)

    led.blink = held_flash
    assert rig.d.press("SI") is None
    first = rig.d._flash
    assert rig.d.light == "error" and first.is_alive()
    assert rig.d.press("MI") is None  # while the first still flashes
    assert rig.d._flash is first and flashes == [first]
    release.set()
    first.join(5)
    assert rig.d.light == "ready" and led.is_lit and flashes == [first]


@pytest.mark.parametrize(("code", "details", "lines"), [
    ("hall_closed_today", {"date": "2026-10-01", "reason": "National Day"}, ["今日（2026-10-01）国庆节", "大厅休息，不办理取号"]),
    ("hall_closed_today", {"date": "2026-11-29", "reason": "weekend"}, ["今日（2026-11-29）周末"]),
    ("service_closed", {"hours": ["08:30-12:00", "13:30-16:00"]}, ["现在不是取号时间", "今日取号时间：08:30-12:00、13:30-16:00"]),
    ("service_closed", {"hours": []}, ["今日不办理本业务"]),
])
def test_a_closed_day_or_hour_is_said_on_the_slip(rig, code, details, lines):
    rig.server.refusal = schemas.error(None, code, "refused", **details)

    assert rig.d.press("MI") is None

    out = rig.d.printer.printer.output
    assert "示范区政务服务中心".encode("gb18030") in out
    assert all(line.encode("gb18030") in out for line in lines), out.decode("gb18030", "replace")


def test_out_of_paper_takes_no_number_and_tells_the_server(rig):
    rig.pins.pin(PAPER_PIN).drive_high()  # the printer's paper-out signal

    assert rig.d.press("SI") is None

    assert rig.d.light == "paper_out" and rig.d.printer.printer.output == b""
    assert sent(rig.link, "issue_ticket") == []
    assert [r["paper"] for r in sent(rig.link, "status")] == ["ok", "out"]

    rig.pins.pin(PAPER_PIN).drive_low()  # refilled
    assert rig.d.press("SI")["number"] == "A021"
    assert rig.d.light == "ready"
    assert [r["paper"] for r in sent(rig.link, "status")] == ["ok", "out", "ok"]


def test_a_kiosk_ticket_is_printed_once_per_command_and_answered_each_time(rig, clock):
    command = schemas.PrintTicketCommand(id="k-1", at=clock.now(), ticket={
        "id": "t-k1", "number": "B077", "service": "MI", "service_name": "医疗保障", "issued_at": clock.now().isoformat()}).model_dump(mode="json")

    for _ in range(2):  # QoS 1 may deliver it twice
        rig.link.deliver(topics.command("district", "disp-1"), command)
    wait_for(lambda: len(rig.link.results) == 2, what="both deliveries answered")

    assert [(r["id"], r["status"]) for r in rig.link.results] == [("k-1", "printed"), ("k-1", "printed")]
    assert rig.d.printer.printer.output.count(b"B077") == 1


def test_a_stale_kiosk_command_is_not_printed(rig, clock):
    old = clock.now() - timedelta(seconds=CONFIG["request_max_age"] + 30)
    command = {"id": "k-old", "action": "print_ticket", "at": old.isoformat(), "ticket": {"id": "x", "number": "A099", "service": "SI"}}

    rig.link.deliver(topics.command("district", "disp-1"), command)
    wait_for(lambda: rig.link.results, what="the result")

    assert rig.link.results[0]["status"] == "stale" and "older than 60 s" in rig.link.results[0]["message"]
    assert rig.d.printer.printer.output == b""


def test_its_requests_are_what_the_servers_bridge_accepts(memory_link, mock_factory, tmp_path, clock, hall):
    """The same dispenser against the server's real request bridge, in memory (no broker)."""
    devices = DeviceService(hall)
    devices.add(hall="district", name="disp-1", role="dispenser")
    bridge = RequestBridge(hall, devices, send=lambda topic, payload: None, max_age=60, now=clock.now)
    lock = threading.Lock()  # the bridge's requests come one at a time from the broker

    def server(req: dict):
        with lock:
            return bridge.handle("district", "disp-1", json.dumps(req).encode())

    link = memory_link("disp-1", role="dispenser", respond=server)
    d = build(link, mock_factory, tmp_path, clock)
    link.deliver(topics.config("district", "disp-1"), CONFIG, retain=True)
    link.start()
    wait_for(lambda: d.blocks.remaining("SI", dispenser_today(d)) == 20, what="a block from the server")

    assert d.press("SI")["number"] == "A021"
    link.drop()
    assert d.press("SI")["number"] == "A001"
    link.start()
    wait_for(lambda: d.blocks.to_hand_in() == [], what="the offline ticket handed in")
    assert server_tickets(hall) == ["A001", "A021"]


def test_a_sync_asked_for_while_one_runs_runs_again(rig):
    """The server restarts: the dispenser's first hand-in goes unanswered (the server is not yet
    listening), and the server's config arrives meanwhile. The tickets are handed in then, not at the
    next press."""
    rig.link.drop()
    ticket = rig.d.press("SI")
    asked = []

    def not_yet_then_ok(req):
        asked.append(req["number"])
        if len(asked) == 1:
            rig.link.deliver(topics.config("district", "disp-1"), CONFIG, retain=True)  # the server is back
            return None  # this one was lost
        return {"number": req["number"]}

    rig.link.respond["offline_ticket"] = not_yet_then_ok
    rig.link.start()

    wait_for(lambda: rig.d.blocks.to_hand_in() == [], what="the offline ticket to be handed in")
    assert asked == [ticket["number"], ticket["number"]]

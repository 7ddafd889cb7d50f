"""The dispenser against a real broker and server: MockFactory buttons, an
escpos Dummy printer, a block store on disk."""

from __future__ import annotations

from escpos.printer import Dummy

from hallq.ports import free_port
from hallq_edge import hardware
from hallq_edge.blocks import BlockStore
from hallq_edge.dispenser import Dispenser
from hallq_edge.printing import TicketPrinter
from support.edge import LED_PIN, MI_PIN, PAPER_PIN, SI_PIN, dispenser_today, press, server_tickets
from support.mqtt import connect
from support.pins import ClosingMockFactory
from support.waiting import wait_for

IMAGE = b"\x1dv0"  # ESC/POS raster image (GS v 0): python-escpos prints QR codes as images


def qr_image(url: str) -> bytes:
    """The raster bytes python-escpos sends for a QR code of url."""
    printer = Dummy()
    printer.qr(url, size=5)
    return printer.output[printer.output.index(IMAGE):]


def test_a_press_prints_a_ticket_with_the_next_number(dispenser, mock_factory, hall):
    press(mock_factory, SI_PIN)
    ticket, offline = dispenser.printed.get(timeout=20)

    out = dispenser.printer.printer.output
    assert not offline
    # The blocks took A001–A020 first, so the first ticket issued online is A021.
    assert ticket["number"] == "A021"
    assert b"A021" in out
    assert "社会保险".encode("gb18030") in out
    assert "示范区政务服务中心".encode("gb18030") in out
    assert "前面还有 0 人".encode("gb18030") in out
    assert b"\x1dV" in out  # cut
    assert server_tickets(hall) == ["A021"]

    press(mock_factory, MI_PIN)
    assert dispenser.printed.get(timeout=20)[0]["number"] == "B021"


def test_out_of_paper_consumes_no_number_and_says_so(dispenser, mock_factory, mqtt, hall):
    mock_factory.pin(PAPER_PIN).drive_high()  # the printer's paper-out signal

    assert dispenser.press("SI") is None

    assert dispenser.light == "paper_out"
    assert dispenser.printer.printer.output == b""
    assert server_tickets(hall) == []
    wait_for(lambda: mqtt.devices.get("district", "disp-1")["paper"] == "out", what="the server to hear of it")

    mock_factory.pin(PAPER_PIN).drive_low()  # paper refilled
    assert dispenser.press("SI")["number"] == "A021"
    assert dispenser.light == "ready"
    wait_for(lambda: mqtt.devices.get("district", "disp-1")["paper"] == "ok", what="paper ok")


def test_cut_off_from_the_broker_it_keeps_issuing_unique_numbers_and_reconciles(dispenser, mock_factory, mqtt, hall):
    online = dispenser.press("SI")["number"]
    mqtt.broker.stop()
    wait_for(lambda: not dispenser.link.connected, what="the link to drop")

    offline = [dispenser.press("SI") for _ in range(3)]

    assert [t["number"] for t in offline] == ["A001", "A002", "A003"]
    assert dispenser.light == "offline"
    out = dispenser.printer.printer.output
    assert "网络中断时取号".encode("gb18030") in out
    # No tracker page exists yet for an offline ticket: it says so instead of printing a QR code.
    assert "离线取号，暂无二维码".encode("gb18030") in out and b"Offline: no QR code" in out
    assert IMAGE not in out and "扫码".encode("gb18030") not in out
    assert server_tickets(hall) == [online]

    mqtt.broker.start()
    wait_for(lambda: server_tickets(hall) == sorted([online, "A001", "A002", "A003"]), what="the offline tickets to be handed in")
    wait_for(lambda: dispenser.blocks.to_hand_in() == [], what="the store to mark them handed in")
    after = dispenser.press("SI")["number"]

    everything = [online] + [t["number"] for t in offline] + [after]
    assert len(set(everything)) == len(everything)
    assert server_tickets(hall) == sorted(everything)
    # The queue keeps them in the order they were issued.
    waiting = hall.queue("district")
    assert next(s for s in waiting if s["service"] == "SI")["waiting"] == 5


def test_numbers_survive_a_restart_of_the_dispenser(tmp_path):
    from datetime import date, datetime, timezone

    path = tmp_path / "blocks.db"
    store = BlockStore(path)
    store.add_block(service="SI", prefix="A", business_date="2026-11-23", first=1, last=2)
    day = date(2026, 11, 23)
    first = store.take("SI", day, issued_at=datetime.now(timezone.utc))
    store.close()

    again = BlockStore(path)  # power cut and reboot
    second = again.take("SI", day, issued_at=datetime.now(timezone.utc))

    assert (first, second) == ("A001", "A002")
    assert again.take("SI", day, issued_at=datetime.now(timezone.utc)) is None
    assert [t["number"] for t in again.to_hand_in()] == ["A001", "A002"]


def test_a_new_day_brings_new_blocks(dispenser, hall):
    hall.clock.advance(days=1)  # Tuesday 10:00: yesterday's blocks are worth nothing

    assert dispenser.press("SI")["number"] == "A001"  # online; the counter starts again
    wait_for(lambda: dispenser.blocks.remaining("SI", dispenser_today(dispenser)) == 20, what="a block for the new day")


def make_dispenser(link, pins, blocks: BlockStore, hall) -> Dispenser:
    return Dispenser(link, buttons={"SI": hardware.button(SI_PIN, pins)}, led=hardware.led(LED_PIN, pins),
                     printer=TicketPrinter(Dummy()), blocks=blocks, hall="district", now=hall.clock.now)


def test_tickets_carry_the_tracker_qr_code_without_public_base_url(app, hall, mock_factory, tmp_path):
    from hallq.mqtt.runtime import start_for

    hallq = app.extensions["hallq"]
    hallq.settings = hallq.settings.model_copy(
        update={"public_base_url": "", "host": "127.0.0.1", "port": 5123, "mqtt_host": "127.0.0.1", "mqtt_port": free_port()})
    runtime = start_for(hallq)
    link = None
    try:
        wait_for(runtime.link.connected.is_set, what="the server to connect to the broker")
        link = connect(runtime, "dispenser", "disp-qr")
        d = make_dispenser(link, mock_factory, BlockStore(tmp_path / "blocks.db"), hall)
        d._on_link(True)
        wait_for(lambda: d.config is not None, what="the device config")

        ticket = d.press("SI")

        out = d.printer.printer.output
        assert qr_image(f"http://127.0.0.1:5123/t/district/{ticket['id']}") in out
        assert "扫码查看排队进度".encode("gb18030") in out
        d.close()
    finally:
        if link is not None:
            link.stop()
        runtime.stop()


def test_restarted_without_the_server_it_prints_the_names_from_the_last_config(dispenser, hall, tmp_path):
    from hallq_edge.link import DeviceLink

    dispenser.link.stop()  # power cut; the server is unreachable when it boots again
    never_connects = DeviceLink(hall="district", device="disp-1", username="district.disp-1", password="x", port=free_port())
    pins = ClosingMockFactory()  # the dispenser's own pins: the first one still holds the test's
    again = make_dispenser(never_connects, pins, BlockStore(tmp_path / "blocks.db"), hall)

    try:
        ticket = again.press("SI")
    finally:
        again.close()
        pins.close_devices()

    out = again.printer.printer.output
    assert ticket["number"] == "A001"  # from the block reserved before the restart
    assert "示范区政务服务中心".encode("gb18030") in out and "社会保险".encode("gb18030") in out
    assert b"district" not in out

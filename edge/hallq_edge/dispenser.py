"""The ticket dispenser (取号机): one button per service, a status LED, a
thermal printer, and a store of numbers for when the server is out of reach.

Online, a press asks the server for a ticket and prints it. Without the
server (no broker, or no answer in time) it takes the next number of a block
reserved in advance and prints that, marked as issued offline; when the link
returns it hands those tickets in, then tops its blocks up again. With no
paper, no number is taken: the LED blinks and the server is told.
"""

from __future__ import annotations

import logging
import queue
import threading
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from hallq.mqtt import topics

from .blocks import BlockStore
from .printing import TicketPrinter

log = logging.getLogger("hallq_edge.dispenser")
# Server answers that a visitor cannot get this ticket at all: nothing is issued offline.
FINAL_REFUSALS = {"quota_reached", "service_closed", "service_inactive", "unknown_service"}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Dispenser:
    def __init__(self, link, *, buttons: dict, led, printer: TicketPrinter, blocks: BlockStore, hall: str,
                 timezone_name: str = "Asia/Shanghai", answer_timeout: float = 3.0, now=utcnow):
        self.link = link
        self.buttons = buttons  # service code → gpiozero Button
        self.led = led
        self.printer = printer
        self.blocks = blocks
        self.hall = hall
        self.tz = timezone_name
        self.answer_timeout = answer_timeout
        self.now = now
        self.config: dict | None = None
        self.waiting: dict[str, int] = {}
        self.printed: queue.Queue = queue.Queue()  # every ticket printed: (ticket, offline)
        self._busy = threading.Lock()
        self._paper_reported: str | None = None
        self._sync_lock = threading.Lock()
        self.light: str | None = None  # what the LED shows: ready, offline or paper_out
        self._led_lock = threading.RLock()  # gpiozero LEDs are driven from several threads here
        self._flashing = False
        for code, button in buttons.items():
            button.when_pressed = lambda _=None, c=code: self._on_press(c)
        link.subscribe(topics.config(hall, link.device), self._on_config)
        link.subscribe(topics.queue(hall), self._on_queue)
        link.on_link(self._on_link)
        self._show()

    # -- inputs -----------------------------------------------------------

    def _on_press(self, service: str) -> None:
        threading.Thread(target=self.press, args=(service,), name=f"press-{service}", daemon=True).start()

    def _on_config(self, config: dict) -> None:
        self.config = config
        self.tz = config.get("hall", {}).get("timezone", self.tz)
        self._in_background(self.sync)

    def _on_queue(self, body: dict) -> None:
        self.waiting = {s["service"]: s.get("waiting", 0) for s in body.get("services", []) if isinstance(s, dict) and "service" in s}

    def _on_link(self, up: bool) -> None:
        self._show()
        if up and self.config is not None:
            self._in_background(self.sync)

    @staticmethod
    def _in_background(fn) -> None:
        threading.Thread(target=fn, daemon=True).start()

    # -- a visitor presses -------------------------------------------------

    def press(self, service: str, priority: str | None = None) -> dict | None:
        """Issue and print one ticket of `service`; return it, or None when none could be issued."""
        if not self._busy.acquire(blocking=False):
            return None  # still printing the previous ticket: a second press is not a second visitor
        try:
            paper = self.printer.paper()
            self._report_paper(paper)
            if paper == "out":
                return None
            if self.link.connected:
                params = {"service": service, **({"priority": priority} if priority else {})}
                answer = self.link.call("issue_ticket", timeout=self.answer_timeout, **params)
                if answer is not None and answer.get("status") == "ok":
                    self._keep_reserve(service)
                    return self._print(answer["data"], offline=False)
                if answer is not None and answer["error"]["code"] in FINAL_REFUSALS:
                    log.info("ticket refused: %s", answer["error"]["message"])
                    self._flash_error()
                    return None
            return self._issue_offline(service, priority)
        finally:
            self._busy.release()
            self._show()

    def _keep_reserve(self, service: str) -> None:
        """A new day (or a long offline spell) leaves a service without numbers: fetch a block."""
        size = int((self.config or {}).get("block_size", 20))
        if self.blocks.remaining(service, self._today()) <= size // 2:
            self._in_background(self.sync)

    def _today(self):
        return self.now().astimezone(ZoneInfo(self.tz)).date()

    def _issue_offline(self, service: str, priority: str | None) -> dict | None:
        now = self.now()
        day = self._today()
        number = self.blocks.take(service, day, issued_at=now, priority=priority)
        if number is None:
            log.warning("offline and no numbers left for %s", service)
            self._flash_error()
            return None
        ticket = {"number": number, "service": service, "service_name": self._service_name(service),
                  "issued_at": now.isoformat(), "ahead": None, "estimated_wait_minutes": None}
        try:
            self._print(ticket, offline=True)
        except Exception:
            self.blocks.mark(day, number, "void")  # never handed to a visitor: a gap, not a ticket
            raise
        self.blocks.mark(day, number, "printed")
        return ticket

    def _print(self, ticket: dict, *, offline: bool) -> dict:
        hall = (self.config or {}).get("hall", {})
        self.printer.print_ticket(
            ticket, hall_name=hall.get("name", self.hall), tz=self.tz, offline=offline,
            tracker_url=(self.config or {}).get("tracker_url", "") if not offline else "",
            waiting=self.waiting.get(ticket["service"]),
        )
        self.printed.put((ticket, offline))
        return ticket

    def _service_name(self, code: str) -> str:
        for s in (self.config or {}).get("services", []):
            if s.get("code") == code:
                return s.get("name", code)
        return code

    # -- back online -------------------------------------------------------

    def sync(self) -> None:
        """Hand in offline tickets, then make sure every service has numbers in reserve."""
        if not self._sync_lock.acquire(blocking=False):
            return
        try:
            self._report_paper(self.printer.paper(), force=True)
            for t in self.blocks.to_hand_in():
                answer = self.link.call(
                    "offline_ticket", timeout=self.answer_timeout * 2, request_id=f"off-{t['business_date']}-{t['number']}",
                    service=t["service"], number=t["number"], issued_at=t["issued_at"],
                    **({"priority": t["priority"]} if t["priority"] else {}),
                )
                if answer is None:
                    return  # try again when the link is back
                if answer["status"] == "ok":
                    self.blocks.mark(t["business_date"], t["number"], "handed_in")
                else:
                    log.warning("server refused offline ticket %s: %s", t["number"], answer["error"]["message"])
                    self.blocks.mark(t["business_date"], t["number"], "refused")
            self._top_up()
        finally:
            self._sync_lock.release()

    def _top_up(self) -> None:
        size = int((self.config or {}).get("block_size", 20))
        day = self._today()
        self.blocks.forget_before(day)
        for service in self.buttons:
            if self.blocks.remaining(service, day) > size // 2:
                continue
            answer = self.link.call("reserve_block", timeout=self.answer_timeout * 2, service=service, count=size)
            if answer is None:
                return
            if answer["status"] == "ok":
                b = answer["data"]
                self.blocks.add_block(service=service, prefix=b["prefix"], business_date=b["business_date"], first=b["first"], last=b["last"])

    # -- status -----------------------------------------------------------

    def _report_paper(self, paper: str, force: bool = False) -> None:
        if paper == self._paper_reported and not force:
            return
        self._paper_reported = paper
        self._show()
        if self.link.connected:
            self.link.request("status", paper=paper, expect_answer=False)

    def _show(self) -> None:
        """LED: steady when ready online, slow blink offline, fast blink without paper."""
        if self._paper_reported == "out":
            light, args = "paper_out", (0.2, 0.2)
        elif not self.link.connected:
            light, args = "offline", (1, 1)
        else:
            light, args = "ready", None
        with self._led_lock:
            if light == self.light or self._flashing:
                return
            self.light = light
            self.led.on() if args is None else self.led.blink(*args)

    def _flash_error(self) -> None:
        """Five quick flashes, then the LED shows the dispenser's state again."""

        def flash() -> None:
            with self._led_lock:
                self._flashing = True
                self.light = "error"
            self.led.blink(on_time=0.1, off_time=0.1, n=5, background=False)
            with self._led_lock:
                self._flashing = False
            self._show()

        threading.Thread(target=flash, daemon=True).start()

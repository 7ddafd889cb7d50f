"""The ticket dispenser (取号机): one button per service, a status LED, a
thermal printer, and a store of numbers for when the server is out of reach.

Online, a press asks the server for a ticket and prints it. Without the
server (no broker, or no answer in time) it takes the next number of a block
reserved in advance and prints that, marked as issued offline; when the link
returns it hands those tickets in, then tops its blocks up again. With no
paper, no number is taken: the LED blinks and the server is told.

A touch kiosk beside it prints here too: the server sends the kiosk's ticket
as a `print_ticket` command, printed once per command id (recorded on disk
first) and only while fresh, and the outcome goes back on the result topic.
"""

from __future__ import annotations

import logging
import queue
import threading
from datetime import timedelta
from zoneinfo import ZoneInfo

from hallq_protocol import topics
from hallq_protocol.shapes import BLOCK_SIZE, REQUEST_MAX_AGE

from .blocks import BlockStore
from .clock import age_seconds, utcnow
from .printing import TicketPrinter, refusal_notice

log = logging.getLogger("hallq_edge.dispenser")
# Server answers that a visitor cannot get this ticket at all: nothing is issued offline.
NOTICE_SECONDS = 60  # a refusal's slip is printed once a minute at most (each press flashes the LED)
FINAL_REFUSALS = {"quota_reached", "service_closed", "hall_closed_today", "service_inactive", "unknown_service"}


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
        # Until the server answers (it may be down when the dispenser boots), the config it sent last.
        self.config: dict | None = blocks.last_config()
        self.tz = (self.config or {}).get("hall", {}).get("timezone", self.tz)
        self.waiting: dict[str, int] = {}
        self.printed: queue.Queue = queue.Queue()  # every ticket printed: (ticket, offline)
        self._busy = threading.Lock()
        self._paper_reported: str | None = None
        self._sync_state = threading.Lock()
        self._syncing = False  # a sync runs (in one thread at a time)
        self._sync_wanted = False  # asked for meanwhile: it runs once more
        self.light: str | None = None  # what the LED shows: ready, offline, paper_out, error (flashing) or off (closed)
        self._led_lock = threading.RLock()  # gpiozero LEDs are driven from several threads here
        self._flashing = False
        self._closed = False
        self._flash: threading.Thread | None = None
        self._commands: queue.Queue = queue.Queue()
        self._notices: dict[tuple, object] = {}  # (code, service) → when its slip was last printed
        threading.Thread(target=self._carry_out_commands, name="dispenser-commands", daemon=True).start()
        for code, button in buttons.items():
            button.when_pressed = lambda _=None, c=code: self._on_press(c)
        link.subscribe(topics.config(hall, link.device), self._on_config)
        link.subscribe(topics.queue(hall), self._on_queue)
        link.subscribe(topics.command(hall, link.device), self._on_command)
        link.on_link(self._on_link)
        self._show()

    # -- inputs -----------------------------------------------------------

    def _on_press(self, service: str) -> None:
        threading.Thread(target=self.press, args=(service,), name=f"press-{service}", daemon=True).start()

    def _on_config(self, config: dict) -> None:
        self.config = config
        self.blocks.keep_config(config)
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
                    self._print_refusal(service, answer["error"])
                    return None
            return self._issue_offline(service, priority)
        finally:
            self._busy.release()
            self._show()

    def _print_refusal(self, service: str, error: dict) -> None:
        """Say on paper why no ticket came (the dispenser has no screen): once a minute at most for the
        same refusal, so that a visitor pressing again and again does not empty the roll."""
        key, now = (error["code"], service), self.now()
        last = self._notices.get(key)
        if last is not None and now - last < timedelta(seconds=NOTICE_SECONDS):
            return
        self._notices[key] = now
        try:
            self.printer.print_notice(refusal_notice(error, self._service_name(service)), hall_name=self._hall_name(),
                                      moment=now, tz=self.tz)
        except Exception:  # a jammed printer: the LED has said it already
            log.exception("could not print why the ticket was refused")

    def _keep_reserve(self, service: str) -> None:
        """A new day (or a long offline spell) leaves a service without numbers: fetch a block."""
        size = int((self.config or {}).get("block_size", BLOCK_SIZE))
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
        self.printer.print_ticket(
            ticket, hall_name=self._hall_name(), tz=self.tz, offline=offline,
            tracker_url=(self.config or {}).get("tracker_url", "") if not offline else "",
            waiting=self.waiting.get(ticket["service"]),
        )
        self.printed.put((ticket, offline))
        return ticket

    def _hall_name(self) -> str:
        return (self.config or {}).get("hall", {}).get("name", self.hall)

    def _service_name(self, code: str) -> str:
        for s in (self.config or {}).get("services", []):
            if s.get("code") == code:
                return s.get("name", code)
        return code

    # -- a kiosk's ticket ---------------------------------------------------

    def _on_command(self, body: dict) -> None:
        self._commands.put(body)

    def _carry_out_commands(self) -> None:
        # One at a time, in order: a repeated command then always finds the first one finished.
        while True:
            body = self._commands.get()
            try:
                self.command(body)
            except Exception:  # the worker must outlive any one command
                log.exception("command %r failed", body.get("id"))

    def command(self, body: dict) -> str | None:
        """Carry out one server command once per id and report it; return the outcome (None: nothing to report)."""
        cid = body.get("id")
        if not isinstance(cid, str) or not 0 < len(cid) <= 64:
            return None  # no id to answer to
        ticket = body.get("ticket")
        if body.get("action") != "print_ticket" or not isinstance(ticket, dict) or not isinstance(ticket.get("number"), str):
            self.link.send_result(cid, "error", "not a print_ticket command this dispenser understands")
            return "error"
        earlier = self.blocks.begin_command(cid, self.link.now())
        if earlier == "printing":
            return None  # cut off mid-print (a power cut): unknown whether it printed, so never again
        if earlier is not None:
            self.link.send_result(cid, earlier)  # a repeat gets the same answer
            return earlier
        outcome, message = self._print_command(body, ticket)
        self.blocks.finish_command(cid, outcome)
        self.link.send_result(cid, outcome, message)
        return outcome

    def _print_command(self, body: dict, ticket: dict) -> tuple[str, str | None]:
        max_age = float((self.config or {}).get("request_max_age", REQUEST_MAX_AGE))
        age = age_seconds(body.get("at"), self.link.now())  # the link's clock, as the server's: age is a transport matter
        if age is None:
            return "error", "the command has no valid time"
        if abs(age) > max_age:
            return "stale", f"the command is {age:.0f} s old; older than {max_age:.0f} s is not printed"
        if not self._busy.acquire(timeout=self.answer_timeout * 2):
            return "error", "the printer is busy"
        try:
            paper = self.printer.paper()
            self._report_paper(paper)
            if paper == "out":
                return "paper_out", None
            self._print(ticket, offline=False)
            return "printed", None
        except Exception as exc:  # a jammed or unplugged printer: the kiosk tells the visitor
            log.exception("could not print kiosk ticket %s", ticket.get("number"))
            return "error", str(exc)
        finally:
            self._busy.release()
            self._show()

    # -- back online -------------------------------------------------------

    def sync(self) -> None:
        """Hand in offline tickets, then make sure every service has numbers in reserve.

        Asked for while a sync runs (the link came back, a new config arrived), it runs
        once more after that one: a sync that found the server not yet listening (its
        requests unanswered) is then tried again, not left until the next press."""
        with self._sync_state:
            self._sync_wanted = True
            if self._syncing:
                return
            self._syncing = True
        while True:
            with self._sync_state:
                if not self._sync_wanted:
                    self._syncing = False
                    return
                self._sync_wanted = False
            try:
                self._sync_once()
            except Exception:
                log.exception("could not hand in offline tickets or reserve numbers")

    def _sync_once(self) -> None:
        """One pass of sync: hand in, then top up; it stops at the first request left unanswered."""
        self._report_paper(self.printer.paper(), force=True)
        for t in self.blocks.to_hand_in():
            answer = self.link.call(
                "offline_ticket", timeout=self.answer_timeout * 2, request_id=f"off-{t['business_date']}-{t['number']}",
                service=t["service"], number=t["number"], issued_at=t["issued_at"],
                **({"priority": t["priority"]} if t["priority"] else {}),
            )
            if answer is None:
                return  # the server is not listening (yet): the next sync tries again
            if answer["status"] == "ok":
                self.blocks.mark(t["business_date"], t["number"], "handed_in")
            else:
                log.warning("server refused offline ticket %s: %s", t["number"], answer["error"]["message"])
                self.blocks.mark(t["business_date"], t["number"], "refused")
        self._top_up()

    def _top_up(self) -> None:
        size = int((self.config or {}).get("block_size", BLOCK_SIZE))
        day = self._today()
        self.blocks.forget_before(day)
        self.blocks.forget_commands_before(self.link.now() - timedelta(days=1))
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
            if light == self.light or self._flashing or self._closed:
                return
            self.light = light
            self.led.on() if args is None else self.led.blink(*args)

    def _flash_error(self) -> None:
        """Five quick flashes, then the LED shows the dispenser's state again. An error while the
        LED is flashing already adds none: two threads must never drive one LED (gpiozero's blink
        is not safe to call from two at once)."""
        def flash() -> None:
            self.led.blink(on_time=0.1, off_time=0.1, n=5, background=False)
            with self._led_lock:
                self._flashing = False
            self._show()

        with self._led_lock:  # started under the lock: close() joins every flash it did not forbid
            if self._closed or self._flashing:
                return
            self._flashing = True
            self.light = "error"
            self._flash = threading.Thread(target=flash, daemon=True)
            self._flash.start()

    def close(self, timeout: float = 5.0) -> None:
        """Stop: the last flashes end and the LED is left off, so no blink thread outlives its pins."""
        with self._led_lock:
            self._closed = True  # first: no flash starts and nothing is shown from now on
        if self._flash is not None:
            self._flash.join(timeout)
        with self._led_lock:
            self.led.off()  # also ends a background blink (offline, no paper)
            self.light = "off"

"""Kiosk tickets printed by a dispenser: the server sends a `print_ticket`
command on the dispenser's command topic and waits, briefly, for its result.

The ticket is issued before anything is sent, so whatever happens here the
visitor keeps it (on the kiosk's screen). A printer that is offline is known
at once from its retained availability, and no command is sent. Each command
has its own id; the dispenser prints an id once however often it arrives, and
does not print a command older than request_max_age. Every server process
hears every result, so the one whose kiosk is waiting picks it up.
"""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import datetime
from typing import Callable

from hallq.core.devices.service import DeviceService
from hallq_protocol import shapes, topics

from ..core.clock import utcnow
from . import schemas

log = logging.getLogger("hallq.mqtt.printing")
# A dispenser answers within a second or two; past this the kiosk says so and the screen ticket stands.
ANSWER_SECONDS = 6.0
# What the kiosk may be told: the dispenser's own outcomes, or that it could not be asked.
OFFLINE, NO_ANSWER = "offline", "no_answer"


class PrintDesk:
    """Sends kiosk tickets to dispensers and waits for what they say."""

    def __init__(self, devices: DeviceService, send: Callable[[str, bytes], None], connected: Callable[[], bool], *,
                 answer_seconds: float = ANSWER_SECONDS, now: Callable[[], datetime] = utcnow):
        self.devices = devices
        self.send = send
        self.connected = connected
        self.answer_seconds = answer_seconds
        self.now = now  # the transport's clock: a command's age is a transport matter
        self._waiting: dict[str, tuple[str, str, threading.Event, list]] = {}
        self._lock = threading.Lock()

    def print_ticket(self, hall: str, ticket: dict, printer: str) -> str:
        """Print `ticket` on dispenser `printer`: printed, paper_out, stale, error, offline or no_answer."""
        device = self.devices.printer(hall, printer)  # refuses anything but an active dispenser of the hall
        if not device["online"] or not self.connected():
            return OFFLINE
        command = schemas.PrintTicketCommand(
            id=f"k{uuid.uuid4().hex}", at=self.now(),
            ticket={k: v for k, v in ticket.items() if k in shapes.PrintedTicket.__annotations__},
        )
        done, outcome = threading.Event(), []
        with self._lock:
            self._waiting[command.id] = (hall, printer, done, outcome)
        try:
            self.send(topics.command(hall, printer), schemas.encode(command.model_dump(mode="json")))
            if not done.wait(self.answer_seconds):
                log.warning("dispenser %s/%s did not answer print command %s", hall, printer, command.id)
                return NO_ANSWER
            return outcome[0]
        finally:
            with self._lock:
                self._waiting.pop(command.id, None)

    def on_result(self, hall: str, device: str, payload: bytes) -> None:
        """A dispenser's result (on the MQTT thread): wake the kiosk waiting for it, if it is ours."""
        try:
            result = schemas.parse_result(payload)
        except schemas.BadRequest as exc:
            log.warning("ignored a bad command result from %s/%s: %s", hall, device, exc.message)
            return
        with self._lock:
            entry = self._waiting.get(result.id)
        # The topic names the device (the broker lets only that device publish there): a result
        # for another dispenser's command is not this one's to give.
        if entry is None or entry[:2] != (hall, device) or entry[2].is_set():
            return
        if result.status == "error":
            log.warning("dispenser %s/%s could not print: %s", hall, device, result.message)
        entry[3].append(result.status)
        entry[2].set()

"""The real engine, driven the way a dispenser and window callers would drive it.

Every operation runs inside HallService's own write transaction (sweep, the
core operation, commit), on an in-memory SQLite database, or on one that keeps
every simulated day (`db_url`), for `hallq report` to read afterwards. Tickets are issued,
and windows opened, paused, resumed, started, skipped and given services,
through HallService's public methods unchanged. For call and complete, the two
busiest window actions, the display view HallService would build for the
caller is skipped, since nobody would look at it: the core operation itself
(windows.call_next with the hall's policy, windows.complete) is the same.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import select

from hallq.core.devices.actions import record_review
from hallq.core.devices.models import Device
from hallq.core.windows import actions as windows

from ..core.clock import FixedClock
from ..core.enums import Role
from ..core.errors import Conflict
from ..core.hallfile import HallFile
from ..core.models import Service, User, Window
from ..core.service import HallService
from ..core.txn import Actor
from ..db import Database

MANAGER = "sim-manager"


class EngineHall:
    """One simulated hall day on a fresh in-memory database, or the next day on `db_url`'s."""

    def __init__(self, hall: HallFile, start: datetime, policy=None, db_url: str | None = None):
        self.clock = FixedClock(start)
        self.db = Database.from_url(db_url or "sqlite://")
        self.db.create_all()
        self.service = HallService(self.db, clock_=self.clock, policy=policy)
        self.slug = hall.hall.slug
        self.service.load_hall(hall)

        def set_up(tx) -> None:
            # Built directly: the simulator's manager, staff and review boxes need no password (and hashing one costs).
            session, hall_id = tx.session, tx.hall.id

            def user(name: str, role: Role, display_name: str = "") -> Actor:
                row = session.exec(select(User).where(User.name == name)).first()
                if row is None:
                    row = User(name=name, role=role, hall_id=hall_id, created_at=start, display_name=display_name)
                    session.add(row)
                    session.flush()
                return Actor(name=name, role=role, user_id=row.id, hall_id=hall_id)

            self.actor = user(MANAGER, Role.MANAGER)
            self.window_ids = {w.number: w.id for w in session.exec(select(Window).where(Window.hall_id == hall_id))}
            # One member of staff per window, who opens it and works at it (the figures per staff are theirs).
            self.staff = {n: user(f"sim-staff-{n:03d}", Role.STAFF, f"模拟员工{n:03d}") for n in self.window_ids}
            self.service_ids = {s.code: s.id for s in session.exec(select(Service).where(Service.hall_id == hall_id))}
            self.boxes = {d.window_number: d for d in session.exec(select(Device).where(Device.hall_id == hall_id, Device.role == "review"))}
            for number in self.window_ids:
                if number not in self.boxes:
                    box = Device(hall_id=hall_id, name=f"review-{number}", role="review", window_number=number,
                                 username=f"{self.slug}.review-{number}", password_hash="!", created_at=start)
                    session.add(box)
                    self.boxes[number] = box
            session.flush()
            for box in self.boxes.values():
                session.expunge(box)

        self.service.work.write(self.slug, set_up)

    def close(self) -> None:
        self.db.dispose()

    def at(self, moment: datetime) -> None:
        self.clock.set(moment)

    # -- the hot path -------------------------------------------------------

    def issue(self, service: str, priority: str, channel: str) -> tuple[str, float | None]:
        """Issue a ticket through the front door: its number and the engine's own estimate."""
        view = self.service.issue_ticket(self.slug, service=service, priority=priority, actor=self.actor, channel=channel)
        return view["number"], view["estimated_wait_minutes"]

    def call_next(self, number: int) -> str | None:
        """The window calls its next ticket; the ticket's number, or None when nobody waits."""

        def op(tx):
            return windows.call_next(tx, windows.get_window(tx, number), self.service.policy).number

        try:
            return self.service.work.write(self.slug, op, actor=self.actor)
        except Conflict as exc:
            if exc.code == "queue_empty":
                return None
            raise

    def call(self, number: int, ticket: str) -> str:
        """The window calls one particular ticket (how assign-at-issue systems work)."""
        return self.service.work.write(
            self.slug, lambda tx: windows.call_ticket(tx, windows.get_window(tx, number), ticket).number, actor=self.actor
        )

    def complete(self, number: int) -> None:
        self.service.work.write(self.slug, lambda tx: windows.complete(tx, windows.get_window(tx, number)), actor=self.actor)

    def review(self, number: int, ticket: str, score: int) -> None:
        """The visitor just served at window `number` presses a button of its review box."""
        box = self.boxes[number]
        self.service.work.write(self.slug, lambda tx: record_review(tx, box, ticket_ref=ticket, score=score), actor=self.actor)

    # -- the rest, through the public front door ----------------------------

    def action(self, number: int, action: str, **params) -> dict:
        return self.service.window_action(self.slug, number, action, actor=self.staff[number], **params)

    def skip(self, number: int) -> bool:
        """The called visitor did not come; True when the engine put the ticket back in the queue."""
        view = self.action(number, "skip")
        return view["last_ticket"]["status"] == "waiting"

    def set_services(self, number: int, services: dict[str, float]) -> None:
        self.service.set_window_services(self.slug, number, services, actor=self.actor)

    def sweep(self) -> None:
        self.service.sweep(self.slug)

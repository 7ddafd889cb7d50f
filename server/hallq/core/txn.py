"""The context every core operation runs in: one hall, one moment, one actor,
one database transaction, and the events and audit lines it produces."""

from __future__ import annotations

from dataclasses import InitVar, dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, insert
from sqlmodel import Session, select

from hallq.core.enums import Role
from hallq.core.errors import NotFound
from hallq.core.events import DomainEvent
from hallq.core.models import AuditEntry, Hall, Service, Window, WindowService
from hallq.core.sql import run_prepared

_HALL_BY_SLUG = select(Hall.__table__).where(Hall.slug == bindparam("slug"))
_HALL_SERVICES = select(Service.__table__).where(Service.hall_id == bindparam("hall_id"))
_LINKS = WindowService.__table__.c
WINDOW_SERVICES = select(_LINKS.service_id, _LINKS.weight).where(_LINKS.window_id == bindparam("window_id"))


def find_hall(session: Session, slug: str) -> Hall:
    """Hall `slug` (NotFound "unknown_hall" when there is none)."""
    hall = session.exec(select(Hall).where(Hall.slug == slug)).first() if isinstance(slug, str) else None
    if hall is None:
        raise NotFound("unknown_hall", f"no hall {slug!r}")
    return hall


def hall_row(session: Session, slug: str):
    """Hall `slug` as a read-only row: what a write needs, without the ORM's bookkeeping."""
    row = session.connection().execute(_HALL_BY_SLUG, {"slug": slug}).first() if isinstance(slug, str) else None
    if row is None:
        raise NotFound("unknown_hall", f"no hall {slug!r}")
    return row


@dataclass(frozen=True)
class Actor:
    """Who asks: a signed-in person, a token's owner, a device or the system."""

    name: str
    role: Role | str
    user_id: int | None = None
    hall_id: int | None = None  # None: not bound to one hall (admins, the system)
    origin: str = ""  # where the request came from, for the audit: an address, "mqtt", "cli@host"

    @property
    def is_system(self) -> bool:
        return self.role == "system"


SYSTEM = Actor(name="system", role="system")


def audit_entry(at: datetime, actor: Actor, action: str, target: str = "", *, hall_id: int | None = None, **detail) -> AuditEntry:
    """One line of the audit log: who (name and role), did what, to what, when, with details."""
    return AuditEntry(hall_id=hall_id, at=at, actor=actor.name, actor_role=str(actor.role), origin=actor.origin[:64],
                      action=action, target=target, detail=detail)


_INSERT_AUDIT = insert(AuditEntry)


@dataclass
class Txn:
    session: Session
    hall: Hall
    now: datetime
    actor: Actor = SYSTEM
    events: list[DomainEvent] = field(default_factory=list)
    # (services, capacity) from the unit of work's short-lived cache of hall configuration, if it has them.
    preloaded: InitVar[tuple | None] = None

    def __post_init__(self, preloaded: tuple | None) -> None:
        self._services, self._capacity = preloaded or (None, None)
        self._links: dict[int, dict[int, float]] = {}

    @property
    def loaded(self) -> tuple:
        """(services, capacity) as far as this transaction has loaded them: what the unit of work may keep."""
        return self._services, self._capacity

    def emit(self, kind: str, *, window: int | None = None, **data) -> None:
        self.events.append(DomainEvent(kind=kind, hall=self.hall.slug, at=self.now, window=window, data=data))

    def audit(self, action: str, target: str = "", *, actor: Actor | None = None, **detail) -> None:
        """One audit line in this transaction, by `actor` (this transaction's own by default)."""
        self.session.add(audit_entry(self.now, actor or self.actor, action, target, hall_id=self.hall.id, **detail))

    def audit_many(self, lines: list[tuple[Actor, str, str, dict]]) -> None:
        """Several audit lines (actor, action, target, detail) in one INSERT: for the hot paths."""
        if lines:
            self.session.connection().execute(_INSERT_AUDIT, [
                dict(hall_id=self.hall.id, at=self.now, actor=a.name, actor_role=str(a.role), origin=a.origin[:64],
                     action=action, target=target, detail=detail)
                for a, action, target, detail in lines
            ])

    @property
    def services(self) -> dict[int, Service]:
        """The hall's services by id (read-only rows), loaded once per transaction."""
        if self._services is None:
            rows = self.session.connection().execute(_HALL_SERVICES, {"hall_id": self.hall.id}).all()
            self._services = {s.id: s for s in rows}
        return self._services

    @property
    def capacity(self) -> dict:
        """service id → (open capacity, planned capacity), see estimate.service_capacity."""
        if self._capacity is None:
            from hallq.core.waits.estimate import service_capacity

            self._capacity = service_capacity(self.session, self.hall.id)
        return self._capacity

    def service_by_code(self, code: str) -> Service | None:
        for s in self.services.values():
            if s.code == code:
                return s
        return None

    def window_services(self, window: Window) -> dict[int, float]:
        """service id → weight for one window (read once per transaction: see forget_window_services)."""
        links = self._links.get(window.id)
        if links is None:
            links = self._links[window.id] = dict(run_prepared(self.session, WINDOW_SERVICES, {"window_id": window.id}).all())
        return links

    def forget_window_services(self, window: Window) -> None:
        """The window's services were changed in this transaction: read them again when asked."""
        self._links.pop(window.id, None)

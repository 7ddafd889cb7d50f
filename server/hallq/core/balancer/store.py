"""A hall's balancer settings in the database, and one server process's balancers.

The hall file's [balancer] table is stored per hall (HallBalancer) when the hall is
loaded. Managers change the mode and the auto-mode limits (LIVE_FIELDS) from the
live-hall page or the API; each change is audited and published as the event
`balancer.settings`. Every server process keeps one Balancer per hall and takes
the new settings when the row's version grows.

Only one process ticks a hall (applies auto-mode changes, pushes suggestions):
ticking needs a lease on the hall's row, taken with one conditional UPDATE and
renewed while the process ticks. A lease rather than "wherever MQTT runs",
because the lease needs nothing but the database every process already shares,
survives a process dying (it simply runs out) and holds for any number of
processes on any number of machines. Reading suggestions and applying one a
manager chose need no lease: they change nothing by themselves.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from hallq.core import clock
from hallq.core.accounts import users as accounts
from hallq.core.balancer.balancer import (
    BALANCER,
    MODES,
    Balancer,
    BalancerSettings,
    Suggestion,
)
from hallq.core.errors import Invalid
from hallq.core.models import AuditEntry, Hall, HallBalancer
from hallq.core.txn import Actor, Txn, find_hall

LIMITS = ("max_changes_per_hour", "min_hold_minutes", "max_helpers_per_service", "max_services_per_window")
LIVE_FIELDS = ("mode", *LIMITS)
_TABLE = HallBalancer.__table__


def save_from_file(session: Session, hall: Hall, settings: BalancerSettings, home: dict[int, dict[str, float]], now: datetime) -> None:
    """Store a hall file's [balancer] table. The windows' services in the file are their
    usual ones (where a release returns them) unless `home` says otherwise. The mode and
    limits a manager may change keep their current value when the file leaves them out."""
    data = settings.model_dump(mode="json")
    data["home"] = {**{str(n): dict(s) for n, s in home.items() if s}, **data["home"]}
    row = session.get(HallBalancer, hall.id)
    if row is None:
        row = HallBalancer(hall_id=hall.id)
    else:
        for name in LIVE_FIELDS:
            if name not in settings.model_fields_set:
                data[name] = row.settings.get(name, data[name])
    row.settings = data
    row.version = (row.version or 0) + 1
    row.updated_at, row.updated_by = now, "hall file"
    session.add(row)


def _settings(row: HallBalancer | None) -> BalancerSettings:
    return BalancerSettings.parse(row.settings if row is not None else {})


def view(row: HallBalancer | None) -> dict:
    """What the manager's balancer panel and the API show."""
    s = _settings(row)
    return {
        "mode": s.mode,
        "modes": list(MODES),
        "limits": {name: getattr(s, name) for name in LIMITS},
        "qualified": {"staff": len(s.qualifications), "windows": len(s.window_qualifications)},
        "version": row.version if row else 0,
        "updated_at": clock.as_utc(row.updated_at).strftime("%Y-%m-%dT%H:%M:%SZ") if row and row.updated_at else None,
        "updated_by": row.updated_by if row else "",
    }


def settings_view(hall_service, slug: str, *, actor: Actor) -> dict:
    """The hall's balancer mode and limits (managers and admins of the hall)."""
    with hall_service.db.read() as session:
        hall = find_hall(session, slug)
        accounts.require_manager(actor, hall)
        return view(session.get(HallBalancer, hall.id))


def change_settings(hall_service, slug: str, changes: dict, *, actor: Actor) -> dict:
    """Change the mode and/or auto-mode limits; audited, and published as `balancer.settings`."""
    unknown = sorted(set(changes) - set(LIVE_FIELDS))
    if unknown:
        raise Invalid("bad_balancer_settings", f"only {', '.join(LIVE_FIELDS)} can be changed here, not {', '.join(unknown)}")

    def op(tx: Txn):
        accounts.require_manager(actor, tx.hall)
        row = tx.session.get(HallBalancer, tx.hall.id) or HallBalancer(hall_id=tx.hall.id, settings={})
        before = _settings(row)
        after = BalancerSettings.parse({**row.settings, **changes})
        diff = [name for name in LIVE_FIELDS if getattr(before, name) != getattr(after, name)]
        if diff:
            row.settings = after.model_dump(mode="json")
            row.version = (row.version or 0) + 1
            row.updated_at, row.updated_by = tx.now, actor.name
            tx.session.add(row)
            tx.session.flush()
            tx.audit(
                "balancer.settings",
                "balancer",
                before={n: getattr(before, n) for n in diff},
                after={n: getattr(after, n) for n in diff},
            )
            shown = view(row)
            tx.emit("balancer.settings", mode=shown["mode"], limits=shown["limits"], by=actor.name, version=shown["version"])
        return view(row)

    return hall_service.work.write(slug, op, actor=actor)


@dataclass
class TickResult:
    mode: str
    applied: list[Suggestion] = field(default_factory=list)
    suggestions: list[Suggestion] = field(default_factory=list)


class HallBalancers:
    """One server process's balancers, one per hall, kept in step with the database."""

    def __init__(self, hall_service, *, lease_seconds: float = 90.0, owner: str | None = None):
        self.service = hall_service
        self.lease_seconds = lease_seconds
        self.owner = owner or f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._balancers: dict[str, tuple[int, Balancer]] = {}
        self._held_until: dict[str, datetime] = {}
        self._locks: dict[str, threading.RLock] = {}
        self._guard = threading.Lock()

    def lock(self, slug: str) -> threading.RLock:
        """Held while a hall's balancer is used: it is one object shared by the request threads and the ticker."""
        with self._guard:
            return self._locks.setdefault(slug, threading.RLock())

    def halls(self) -> list[str]:
        with self.service.db.read() as session:
            return list(session.exec(select(Hall.slug)).all())

    def get(self, slug: str) -> Balancer:
        """The hall's balancer with the settings stored now (one small read)."""
        with self.service.db.read() as session:
            hall = find_hall(session, slug)
            row = session.get(HallBalancer, hall.id)
            version = row.version if row else 0
            known = self._balancers.get(slug)
            if known is not None and known[0] == version:
                return known[1]
            settings = _settings(row)
            if known is not None:
                known[1].configure(settings)
                balancer = known[1]
            else:
                balancer = Balancer(settings)
                self._remember_changes(session, hall, balancer)
        self._balancers[slug] = (version, balancer)
        return balancer

    def _remember_changes(self, session: Session, hall: Hall, balancer: Balancer) -> None:
        # Auto mode's limits count the last hour's changes, also those made before this process started.
        now = self.service.clock.now()
        rows = session.exec(
            select(AuditEntry.at, AuditEntry.target)
            .where(AuditEntry.hall_id == hall.id, AuditEntry.actor == BALANCER.name, AuditEntry.action == "window.services")
            .where(AuditEntry.at > now - timedelta(hours=1))
            .order_by(AuditEntry.at)
        ).all()
        for at, target in rows:
            at = clock.as_utc(at)
            balancer.recent.append(at)
            number = target.rpartition(" ")[2]
            if number.isdigit():
                balancer.last_change[int(number)] = at

    def suggestions(self, slug: str) -> tuple[str, list[Suggestion]]:
        """The mode and the current suggestions (none when off)."""
        with self.lock(slug):
            balancer = self.get(slug)
            return balancer.mode, ([] if balancer.mode == "off" else balancer.suggestions(self.service, slug))

    def apply(self, slug: str, suggestion_id: str, *, actor: Actor) -> list[dict]:
        """Apply a suggestion a manager chose; its id may come from another process's list."""
        with self.lock(slug):
            balancer = self.get(slug)
            if suggestion_id not in balancer.pending:
                balancer.suggestions(self.service, slug)
            return balancer.apply(self.service, slug, suggestion_id, actor=actor)

    def tick(self, slug: str) -> TickResult | None:
        """Look at the hall once: auto mode applies within its limits. None when another process holds the hall."""
        with self.lock(slug):
            balancer = self.get(slug)
            if balancer.mode == "off":
                balancer.pending = {}
                return TickResult("off")
            if not self._lease(slug):
                return None
            done = balancer.tick(self.service, slug)
            if balancer.mode == "auto":
                return TickResult("auto", applied=done, suggestions=list(balancer.pending.values()))
            return TickResult(balancer.mode, suggestions=done)

    def _lease(self, slug: str) -> bool:
        now = self.service.clock.now()
        held = self._held_until.get(slug)
        if held is not None and now < held - timedelta(seconds=self.lease_seconds / 2):
            return True  # renewed recently: no write needed
        until = now + timedelta(seconds=self.lease_seconds)

        def take(tx: Txn) -> int:
            session, hall = tx.session, tx.hall
            if session.get(HallBalancer, hall.id) is None:
                session.add(HallBalancer(hall_id=hall.id, settings={}))
                session.flush()
            c = _TABLE.c
            return session.execute(
                update(_TABLE)
                .where(c.hall_id == hall.id, or_(c.lease_owner == self.owner, c.lease_owner.is_(None), c.lease_until < now))
                .values(lease_owner=self.owner, lease_until=until)
            ).rowcount

        try:
            taken = self.service.work.write(slug, take)
        except IntegrityError:  # another process created the row at the same moment
            taken = 0
        if taken:
            self._held_until[slug] = until
        else:
            self._held_until.pop(slug, None)
        return bool(taken)

    def release(self) -> None:
        """Give up every lease (the server is stopping), so another process need not wait for it to run out."""
        self.service.work.change(
            lambda session: session.execute(update(_TABLE).where(_TABLE.c.lease_owner == self.owner).values(lease_owner=None, lease_until=None))
        )
        self._held_until.clear()

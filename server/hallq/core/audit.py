"""Reading the audit log, and taking its old lines out to be archived.

Every change a person, a device or the server makes is one `AuditEntry` (who, with which role,
from where, did what, to what, when, with details); `Txn.audit` writes them. Managers and
administrators read their hall's lines here, filtered, newest first, a page at a time; the
export walks the same filter to the end. Lines older than the retention (at least 180 days,
as 等保2.0 asks) are handed to an archive (see hallq.audit_archive) and only deleted once the
archive holds them: nothing is ever deleted silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session, select

from hallq.core.models import AuditEntry

# What the page's action filter offers: the first part of an action's name.
CATEGORIES = ("auth", "token", "user", "hall", "window", "ticket", "review", "device", "balancer", "audit")
PAGE = 100
MIN_RETENTION_DAYS = 180


@dataclass(frozen=True)
class AuditFilter:
    """Which lines: from `since` (inclusive) to `until` (exclusive), by an actor whose name
    contains `actor`, of an action `category` (its name's first part), about a target containing
    `target`."""

    since: datetime | None = None
    until: datetime | None = None
    actor: str = ""
    category: str = ""
    target: str = ""

    def as_dict(self) -> dict:
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in vars(self).items() if v}


def _where(query, hall_id: int, f: AuditFilter):
    query = query.where(AuditEntry.hall_id == hall_id)
    if f.since is not None:
        query = query.where(AuditEntry.at >= f.since)
    if f.until is not None:
        query = query.where(AuditEntry.at < f.until)
    if f.actor:
        query = query.where(AuditEntry.actor.contains(f.actor, autoescape=True))
    if f.category:
        query = query.where(AuditEntry.action.startswith(f.category + ".", autoescape=True))
    if f.target:
        query = query.where(AuditEntry.target.contains(f.target, autoescape=True))
    return query


def line(entry: AuditEntry) -> dict:
    return {
        "id": entry.id, "at": entry.at, "actor": entry.actor, "role": entry.actor_role, "origin": entry.origin,
        "action": entry.action, "target": entry.target, "detail": entry.detail,
    }


def page(session: Session, hall_id: int, f: AuditFilter, *, before: int | None = None, limit: int = PAGE) -> tuple[list[dict], int | None]:
    """One page of lines, newest first, older than line `before`; and the `before` of the next page (None: no more)."""
    query = _where(select(AuditEntry), hall_id, f)
    if before is not None:
        query = query.where(AuditEntry.id < before)
    rows = session.exec(query.order_by(AuditEntry.id.desc()).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return [line(r) for r in rows], (rows[-1].id if more and rows else None)


def batch(session: Session, hall_id: int, f: AuditFilter, *, after: int = 0, size: int = 1000) -> list[dict]:
    """The next `size` lines the filter selects after line `after`, oldest first (an export walks them all)."""
    query = _where(select(AuditEntry), hall_id, f).where(AuditEntry.id > after).order_by(AuditEntry.id).limit(size)
    return [line(r) for r in session.exec(query).all()]


def cutoff(now: datetime, retention_days: int) -> datetime:
    """The moment before which lines leave the database for the archive."""
    return now - timedelta(days=max(retention_days, MIN_RETENTION_DAYS))


def due_for_archive(session: Session, before: datetime, *, limit: int = 5000) -> list[dict]:
    """The oldest lines (of every hall) dated before `before`, at most `limit`, oldest first."""
    rows = session.exec(select(AuditEntry).where(AuditEntry.at < before).order_by(AuditEntry.id).limit(limit)).all()
    return [{**line(r), "hall_id": r.hall_id} for r in rows]


def remove_archived(session: Session, ids: list[int]) -> int:
    """Delete lines an archive now holds (their ids); how many were deleted."""
    deleted = 0
    for start in range(0, len(ids), 500):
        deleted += session.execute(delete(AuditEntry).where(AuditEntry.id.in_(ids[start:start + 500]))).rowcount or 0
    return deleted

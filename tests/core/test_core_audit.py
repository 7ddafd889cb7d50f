"""The audit's own rules (issue 12, item 11): the day's sweep is the server's line, not whoever
happened to write; lines past their retention move to archive files and leave the database
only once the archive holds them."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta

import pytest
from pydantic import ValidationError
from sqlmodel import select

from hallq.audit_archive import AuditArchiver
from hallq.config import Settings
from hallq.core.models import AuditEntry
from hallq.core.txn import Actor

KIOSK = Actor(name="kiosk1", role="device", origin="10.0.0.7")


def _lines(hall, **where) -> list[tuple]:
    with hall.db.read() as session:
        query = select(AuditEntry.action, AuditEntry.actor, AuditEntry.actor_role, AuditEntry.origin, AuditEntry.target)
        for key, value in where.items():
            query = query.where(getattr(AuditEntry, key) == value)
        return [tuple(row) for row in session.exec(query.order_by(AuditEntry.id)).all()]


def test_the_days_sweep_is_audited_as_the_servers_own_doing(hall, boss, clock):
    hall.issue_ticket("district", service="SI", actor=KIOSK)
    hall.window_action("district", 1, "open", actor=boss)
    clock.advance(days=1)  # the next write finds the sweep due: yesterday's ticket and window close
    hall.issue_ticket("district", service="SI", actor=KIOSK)
    [sweep] = _lines(hall, action="hall.sweep")
    assert sweep == ("hall.sweep", "system", "system", "", "district")
    with hall.db.read() as session:
        detail = session.exec(select(AuditEntry.detail).where(AuditEntry.action == "hall.sweep")).one()
    assert detail == {"expired": ["A001"], "windows_closed": [1]}
    assert _lines(hall, action="ticket.issue")[-1] == ("ticket.issue", "kiosk1", "device", "10.0.0.7", "A001")


def test_old_lines_move_to_the_archive_and_new_ones_stay(hall, clock, tmp_path):
    start = clock.now()
    clock.set(start - timedelta(days=210))  # a Monday: the hall works (as every day this test visits)
    for _ in range(3):
        hall.issue_ticket("district", service="SI", actor=KIOSK)
    clock.set(start - timedelta(days=98))
    hall.issue_ticket("district", service="MI", actor=KIOSK)
    clock.set(start)
    before = _lines(hall)
    archiver = AuditArchiver(hall.work, tmp_path / "archive", retention_days=180)
    [path] = archiver.run()
    with gzip.open(path, "rt", encoding="utf-8") as f:
        archived = [json.loads(text) for text in f]
    assert [(a["action"], a["target"], a["origin"]) for a in archived if a["action"] == "ticket.issue"] == [
        ("ticket.issue", n, "10.0.0.7") for n in ("A001", "A002", "A003")]
    assert all(a["at"].startswith((start - timedelta(days=210)).date().isoformat()) for a in archived)
    after = _lines(hall)
    assert ("ticket.issue", "kiosk1", "device", "10.0.0.7", "B001") in after  # 98 days old: kept
    assert not any(line[-1] in ("A001", "A002", "A003") for line in after)
    assert sorted(map(tuple, [(a["action"], a["actor"], a["role"], a["origin"], a["target"]) for a in archived])) == sorted(
        set(before) - set(after))  # every line is in the database or in the archive
    [(action, actor, *_), ] = _lines(hall, action="audit.archive")
    assert actor == "system" and archiver.run() == []  # nothing more is due


def test_an_archive_that_cannot_be_written_deletes_nothing(hall, clock, tmp_path):
    clock.set(clock.now() - timedelta(days=399))  # a Monday: the hall works
    hall.issue_ticket("district", service="SI", actor=KIOSK)
    clock.advance(days=399)
    before = _lines(hall)
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the archive folder should be")
    with pytest.raises(OSError):
        AuditArchiver(hall.work, blocked).run()
    assert _lines(hall) == before


def test_the_retention_is_never_shorter_than_180_days():
    with pytest.raises(ValidationError):
        Settings(audit_retention_days=30)
    assert Settings().audit_retention_days == 180

"""Numbers reserved in advance, kept on the dispenser's own disk (SQLite), for
issuing tickets while the server cannot be reached; the server's commands
already carried out (a kiosk's ticket is printed once, even after a reboot);
and the last config the server sent (a dispenser that restarts without the
server still prints the hall's and the services' names).

The server takes each block from the hall's counter, so no other dispenser or
terminal will ever issue those numbers. Here a number is taken in the same
transaction that records the offline ticket, with synchronous=FULL: after a
power cut a number is either still free or known as issued, never both, so it
is never printed twice. Unused numbers are simply gaps.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import date, datetime
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS block (
    id INTEGER PRIMARY KEY,
    service TEXT NOT NULL,
    prefix TEXT NOT NULL,
    business_date TEXT NOT NULL,
    first INTEGER NOT NULL,
    last INTEGER NOT NULL,
    next INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS offline_ticket (
    business_date TEXT NOT NULL,
    number TEXT NOT NULL,
    service TEXT NOT NULL,
    priority TEXT,
    issued_at TEXT NOT NULL,
    state TEXT NOT NULL,  -- printing, printed, handed_in, void, refused
    PRIMARY KEY (business_date, number)
);
CREATE TABLE IF NOT EXISTS command (
    id TEXT PRIMARY KEY,  -- the server's command id: a repeat is never carried out twice
    received_at TEXT NOT NULL,
    outcome TEXT NOT NULL  -- printing, printed, paper_out, stale, error
);
CREATE TABLE IF NOT EXISTS server_config (
    id INTEGER PRIMARY KEY CHECK (id = 1),  -- only the latest is kept
    body TEXT NOT NULL  -- JSON, as received on the config topic
);
"""


class BlockStore:
    def __init__(self, path: str | Path):
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a dispenser's power can be cut at any moment
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        self._db.close()

    def add_block(self, *, service: str, prefix: str, business_date: str, first: int, last: int) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO block (service, prefix, business_date, first, last, next) VALUES (?, ?, ?, ?, ?, ?)",
                (service, prefix, business_date, first, last, first),
            )

    def remaining(self, service: str, day: date) -> int:
        with self._lock:
            row = self._db.execute(
                "SELECT COALESCE(SUM(last - next + 1), 0) FROM block WHERE service = ? AND business_date = ? AND next <= last",
                (service, day.isoformat()),
            ).fetchone()
        return int(row[0])

    def take(self, service: str, day: date, *, issued_at: datetime, priority: str | None = None) -> str | None:
        """Take the next free number of a service for today and record it as being printed; None if none is left."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute(
                    "SELECT id, prefix, next FROM block WHERE service = ? AND business_date = ? AND next <= last ORDER BY id LIMIT 1",
                    (service, day.isoformat()),
                ).fetchone()
                if row is None:
                    self._db.execute("ROLLBACK")
                    return None
                block_id, prefix, n = row
                number = f"{prefix}{n:03d}"
                self._db.execute("UPDATE block SET next = next + 1 WHERE id = ?", (block_id,))
                self._db.execute(
                    "INSERT INTO offline_ticket (business_date, number, service, priority, issued_at, state) VALUES (?, ?, ?, ?, ?, 'printing')",
                    (day.isoformat(), number, service, priority, issued_at.isoformat()),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return number

    def mark(self, day: str | date, number: str, state: str) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE offline_ticket SET state = ? WHERE business_date = ? AND number = ?",
                (state, day if isinstance(day, str) else day.isoformat(), number),
            )

    def to_hand_in(self) -> list[dict]:
        """Offline tickets the server has not yet heard of (a ticket cut off mid-print counts: a visitor may hold it)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT business_date, number, service, priority, issued_at FROM offline_ticket "
                "WHERE state IN ('printing', 'printed') ORDER BY issued_at"
            ).fetchall()
        keys = ("business_date", "number", "service", "priority", "issued_at")
        return [dict(zip(keys, r)) for r in rows]

    def issued_numbers(self) -> list[str]:
        """Every number this dispenser issued offline (any state but void)."""
        with self._lock:
            rows = self._db.execute("SELECT number FROM offline_ticket WHERE state != 'void' ORDER BY issued_at").fetchall()
        return [r[0] for r in rows]

    def forget_before(self, day: date) -> None:
        """Drop blocks and handed-in tickets of past days."""
        with self._lock:
            self._db.execute("DELETE FROM block WHERE business_date < ?", (day.isoformat(),))
            self._db.execute("DELETE FROM offline_ticket WHERE business_date < ? AND state NOT IN ('printing', 'printed')", (day.isoformat(),))

    def keep_config(self, config: dict) -> None:
        """Remember the server's latest device config across restarts."""
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO server_config (id, body) VALUES (1, ?)", (json.dumps(config, ensure_ascii=False),))

    def last_config(self) -> dict | None:
        """The config the server sent last, or None if it never sent one."""
        with self._lock:
            row = self._db.execute("SELECT body FROM server_config WHERE id = 1").fetchone()
        return json.loads(row[0]) if row else None

    def begin_command(self, command_id: str, received_at: datetime) -> str | None:
        """Record a command as being carried out: None when it is new, else what became of it (printing: unknown)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute("SELECT outcome FROM command WHERE id = ?", (command_id,)).fetchone()
                if row is None:
                    self._db.execute("INSERT INTO command (id, received_at, outcome) VALUES (?, ?, 'printing')",
                                     (command_id, received_at.isoformat()))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return None if row is None else row[0]

    def finish_command(self, command_id: str, outcome: str) -> None:
        with self._lock:
            self._db.execute("UPDATE command SET outcome = ? WHERE id = ?", (outcome, command_id))

    def forget_commands_before(self, moment: datetime) -> None:
        """Drop commands received before `moment` (older repeats are refused by their age anyway)."""
        with self._lock:
            self._db.execute("DELETE FROM command WHERE received_at < ?", (moment.isoformat(),))

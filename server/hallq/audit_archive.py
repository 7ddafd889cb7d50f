"""Audit lines past their retention leave the database for archive files, never silently.

Each run takes the oldest lines dated before the cutoff (now minus `audit_retention_days`, at
least 180: 等保2.0), writes them to `audit-<first id>-<last id>.jsonl.gz` in the archive folder
(one JSON object per line, as `core.audit.line` gives them, with the hall's id), makes the file
durable (fsync, atomic rename), reads it back, and only then deletes those lines from the
database, in the same change that records `audit.archive` (file, count, first and last id). A
crash before the delete leaves the lines in the database and the next run writes the same file
again; two server processes archiving at once write identical files. Nothing is lost.

Every server process runs it in the background once an hour (`start`); `hallq audit archive`
runs it now.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import threading
from pathlib import Path

from .core import audit
from .core.clock import as_utc
from .core.txn import SYSTEM, audit_entry

log = logging.getLogger(__name__)

BATCH = 5000
INTERVAL_SECONDS = 3600.0


class AuditArchiver:
    def __init__(self, work, directory: Path, retention_days: int = audit.MIN_RETENTION_DAYS):
        """`work`: the hall engine's unit of work (its database and clock)."""
        self.work, self.db, self.clock, self.directory = work, work.db, work.clock, Path(directory)
        self.retention_days = retention_days
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run(self) -> list[Path]:
        """Archive every line past its retention now; the files written."""
        files = []
        while (path := self.archive_batch()) is not None:
            files.append(path)
        return files

    def archive_batch(self) -> Path | None:
        """Archive the oldest batch of lines past their retention; its file, or None when none is due."""
        before = audit.cutoff(self.clock.now(), self.retention_days)
        with self.db.read() as session:
            lines = audit.due_for_archive(session, before, limit=BATCH)
        if not lines:
            return None
        first, last = lines[0]["id"], lines[-1]["id"]
        path = self.directory / f"audit-{first:012d}-{last:012d}.jsonl.gz"
        self._write(path, [{**line, "at": as_utc(line["at"]).isoformat()} for line in lines])
        with gzip.open(path, "rt", encoding="utf-8") as f:  # what the archive holds, read back
            held = [json.loads(text)["id"] for text in f]
        if held != [line["id"] for line in lines]:
            raise OSError(f"the archive {path} does not hold what was written; nothing deleted")

        def delete(session) -> int:
            deleted = audit.remove_archived(session, held)
            session.add(audit_entry(self.clock.now(), SYSTEM, "audit.archive", path.name, count=deleted, first=first, last=last,
                                    before=before.isoformat()))
            return deleted

        deleted = self.work.change(delete)
        log.info("archived %d audit lines (%d-%d) to %s", deleted, first, last, path)
        return path

    def _write(self, path: Path, lines: list[dict]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".tmp{os.getpid()}")
        with open(temporary, "wb") as raw:
            with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as f:
                for line in lines:
                    f.write(json.dumps(line, ensure_ascii=False, sort_keys=True, default=str).encode("utf-8") + b"\n")
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(temporary, path)
        directory = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    def start(self, interval: float = INTERVAL_SECONDS) -> None:
        """Archive in the background, at once and then every `interval` seconds, until close()."""

        def loop() -> None:
            while True:
                try:
                    self.run()
                except Exception:  # a full disk must not stop the server; the lines stay in the database
                    log.exception("archiving the audit failed; the lines stay in the database")
                if self._stop.wait(interval):
                    return

        self._thread = threading.Thread(target=loop, name="hallq-audit-archive", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)


def for_settings(work, settings) -> AuditArchiver:
    directory = Path(settings.audit_archive_dir) if settings.audit_archive_dir else Path(settings.instance_path) / "audit-archive"
    return AuditArchiver(work, directory, settings.audit_retention_days)

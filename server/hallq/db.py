"""Database engines and transactions: SQLite by default, PostgreSQL by URL.

SQLite runs in WAL mode so readers never wait for the writer. Every write
transaction starts with BEGIN IMMEDIATE: it takes the write lock up front, so
two writers never both read a ticket as waiting and then race to claim it, and
never deadlock upgrading a read lock.

`synchronous=NORMAL` is the default, and a deliberate one. In WAL mode a commit
under NORMAL is written to the operating system before it returns, so killing
the server (even kill -9) loses nothing; only a power cut or kernel crash can
drop the last few commits, never corrupt the file. FULL adds an fsync to every
commit, which on the small PCs halls use costs 2–10 ms per ticket. A hall that
runs without a UPS can set `sqlite_synchronous = "FULL"` (HALLQ_SQLITE_SYNCHRONOUS).
"""

from __future__ import annotations

import fcntl
import os
import threading
from contextlib import contextmanager, nullcontext
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, create_engine

from hallq.core.devices import models as devices  # noqa: F401  (the tables: device registry, requests, number blocks)
from hallq.core.reviews import models as reviews  # noqa: F401  (好差评: ratings, rectification cases and their steps)

from .core import models  # noqa: F401  (registers the tables)
from .core.stats import models as stats  # noqa: F401  (the days' figures)

_WRITE = "hallq_write"


def make_engine(url: str, *, synchronous: str = "NORMAL", echo: bool = False) -> Engine:
    """An engine for the URL, with HallQ's SQLite settings where it applies."""
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://") :]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if not url.startswith("sqlite"):
        return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=40)

    memory = url in ("sqlite://", "sqlite:///:memory:")
    if not memory:
        Path(url.split("///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        echo=echo,
        connect_args={"check_same_thread": False, "timeout": 30},
        **({"poolclass": StaticPool} if memory else {"pool_size": 20, "max_overflow": 40}),
    )
    sync = synchronous.upper()
    if sync not in ("OFF", "NORMAL", "FULL", "EXTRA"):
        raise ValueError(f"sqlite synchronous must be OFF, NORMAL, FULL or EXTRA, not {synchronous!r}")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # let SQLAlchemy's begin event issue BEGIN
        cur = dbapi_conn.cursor()
        if not memory:
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={sync}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "BEGIN")

    return engine


class _WriterLock:
    """One SQLite writer at a time, across threads and server processes.

    SQLite has one writer at a time anyway. Queueing writers on a lock, instead
    of letting them poll SQLite's busy handler (which sleeps up to 100 ms
    between tries), cuts p99 latency under load from seconds to milliseconds.
    Threads queue on a mutex; processes on flock() of a file beside the
    database, which wakes the next waiter the moment it is released.
    """

    def __init__(self, path: str | None):
        self._mutex = threading.Lock()
        self._path = path
        self._fd: int | None = None
        self._pid = os.getpid()

    def _file(self) -> int | None:
        if self._path is None:
            return None
        if self._fd is None or self._pid != os.getpid():  # a forked worker opens its own
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd

    def __enter__(self):
        self._mutex.acquire()
        try:
            fd = self._file()
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            self._mutex.release()
            raise
        return self

    def __exit__(self, *exc):
        try:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._mutex.release()


class Database:
    """Hands out sessions: `write()` for changes, `read()` for looking."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._writer = engine.execution_options(**{_WRITE: True})
        self.dialect = engine.dialect.name
        self._write_lock = None
        if self.dialect == "sqlite":
            path = engine.url.database
            self._write_lock = _WriterLock(path + "-writer.lock" if path and path != ":memory:" else None)

    @classmethod
    def from_url(cls, url: str, **kw) -> "Database":
        return cls(make_engine(url, **kw))

    def create_all(self) -> None:
        """Create missing tables directly (tests); deployments use `hallq db upgrade`."""
        SQLModel.metadata.create_all(self.engine)

    @contextmanager
    def write(self):
        """A session whose transaction commits at the end, or rolls back on error."""
        with self._write_lock or nullcontext(), Session(self._writer, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def read(self):
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
            finally:
                session.rollback()

    def dispose(self) -> None:
        self.engine.dispose()

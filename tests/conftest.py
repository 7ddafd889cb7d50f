"""Shared fixtures: databases (SQLite always; PostgreSQL when reachable, and
required in CI), a fixed clock, the example hall, and a ready HallService."""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest

from hallq.core.clock import FixedClock
from hallq.core.events import RecordingPublisher
from hallq.core.hallfile import parse_hall_file
from hallq.core.service import HallService
from hallq.db import Database

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_HALL = ROOT / "server" / "hallq" / "examples" / "district-hall.toml"
PG_ADMIN_URL = os.environ.get("HALLQ_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
# 10:00 in Shanghai on a Monday: the example hall is open.
MONDAY_10AM = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)


def _pg_admin_engine():
    from sqlalchemy import create_engine

    return create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")


def pg_available() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        import psycopg  # noqa: F401
        from sqlalchemy import text

        eng = _pg_admin_engine()
        with eng.connect() as conn:
            conn.execute(text("SELECT 1"))
        eng.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not here"
        return f"{type(exc).__name__}: {exc}".splitlines()[0]


_PG_REASON = "unchecked"


def require_pg() -> None:
    """Skip without PostgreSQL, except in CI where its absence is a failure."""
    global _PG_REASON
    if _PG_REASON == "unchecked":
        _PG_REASON = pg_available()
    if _PG_REASON is None:
        return
    message = f"PostgreSQL not reachable at {PG_ADMIN_URL}: {_PG_REASON}"
    if IN_CI:
        pytest.fail(message + " (CI=true: PostgreSQL tests must run)")
    pytest.skip(message)


@pytest.fixture
def pg_url():
    """A fresh, empty PostgreSQL database for one test; dropped afterwards."""
    require_pg()
    from sqlalchemy import text

    name = f"hallq_test_{uuid.uuid4().hex[:12]}"
    admin = _pg_admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'hallq.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path):
    """Each test using this runs once on a SQLite file and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hallq.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def clock():
    return FixedClock(MONDAY_10AM)


@pytest.fixture
def publisher():
    return RecordingPublisher()


def make_service(url: str, clock, publisher=None) -> HallService:
    db = Database.from_url(url)
    db.create_all()
    service = HallService(db, publisher=publisher, clock_=clock)
    service.load_hall(parse_hall_file(EXAMPLE_HALL))
    return service


@pytest.fixture
def hall(sqlite_url, clock, publisher):
    """A HallService on a SQLite file with the example hall loaded ('district')."""
    service = make_service(sqlite_url, clock, publisher)
    yield service
    service.db.dispose()


@pytest.fixture
def any_hall(db_url, clock, publisher):
    """Like `hall`, once on SQLite and once on PostgreSQL."""
    service = make_service(db_url, clock, publisher)
    yield service
    service.db.dispose()


@pytest.fixture
def manager(hall):
    hall.add_user(name="manager1", role="manager", password="manager-pass", hall="district")
    return hall.actor_for_login("manager1", "manager-pass")


@pytest.fixture
def app(hall, tmp_path):
    """The Flask app around the `hall` service (SQLite, example hall, fixed clock)."""
    from hallq.web import create_app

    app = create_app(service=hall, instance_path=tmp_path / "instance", secret_key="test-secret")
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app):
    return app.test_client()


class ApiUsers:
    """Creates accounts and tokens, and builds Authorization headers."""

    def __init__(self, service):
        self.service = service

    def token(self, name: str, role: str, hall: str | None = "district", **kw) -> dict:
        self.service.add_user(name=name, role=role, password="password-" + name, hall=hall, **kw)
        return {"Authorization": "Bearer " + self.service.create_token(name)}


@pytest.fixture
def users(hall):
    return ApiUsers(hall)


@pytest.fixture
def users_tokens(users):
    """Authorization headers of a manager of the example hall."""
    return users.token("fuzz-manager", "manager")

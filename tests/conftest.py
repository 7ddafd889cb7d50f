"""Fixtures every layer shares: databases (SQLite always; PostgreSQL when reachable,
and required in CI), a fixed clock, the example hall, a ready HallService, its back
office and Flask app, accounts, and gpiozero's mock pins.

Each layer's own fixtures are in its folder's conftest.py (core, web, mqtt, edge, sim,
server, project); fixtures of a family several layers use are the plugins below; what
tests import is in support/ (never from a conftest or another test module)."""

from __future__ import annotations

import os
import uuid

import pytest

from hallq.core.clock import FixedClock
from hallq.core.events import RecordingPublisher
from hallq.core.office import OfficeService
from support.halls import MONDAY_10AM, make_app, make_service, person
from support.project import IN_CI

pytest_plugins = ["support.mqtt_plugin", "support.browser_plugin", "support.cli_plugin"]

PG_ADMIN_URL = os.environ.get("HALLQ_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


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


@pytest.fixture
def hall(sqlite_url, clock, publisher):
    """A HallService on a SQLite file with the example hall loaded ('district')."""
    service = make_service(sqlite_url, clock, publisher)
    yield service
    service.close()  # no queue summary of this test reaches the next one's pages (Socket.IO is one server per process)
    service.db.dispose()


@pytest.fixture
def any_hall(db_url, clock, publisher):
    """Like `hall`, once on SQLite and once on PostgreSQL."""
    service = make_service(db_url, clock, publisher)
    yield service
    service.close()
    service.db.dispose()


@pytest.fixture
def office(hall):
    """The back office (accounts, administration, page figures) of the `hall` service."""
    return OfficeService(hall)


@pytest.fixture
def boss(hall):
    """A manager of the example hall, written straight to the database (no password: quick)."""
    return person(hall, "boss", "manager")


@pytest.fixture
def manager(office):
    office.add_user(name="manager1", role="manager", password="manager-pass", hall="district")
    return office.actor_for_login("manager1", "manager-pass")


@pytest.fixture
def app(hall, tmp_path):
    """The Flask app around the `hall` service (SQLite, example hall, fixed clock)."""
    # wait_prediction_seconds=0: every read after a change plays the hall again, so what a test
    # reads never depends on how fast the machine ran it.
    app = make_app(hall, instance_path=tmp_path / "instance", secret_key="test-secret", wait_prediction_seconds=0)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def mock_factory():
    """gpiozero's mock pins, as gpiozero's own tests have them: a fresh MockFactory made the
    default pin factory for the test (devices built without one get it too); afterwards every
    device on it is closed (support/pins.py), the pins reset and the previous factory restored.
    Drive an input with mock_factory.pin(17).drive_low()."""
    from gpiozero import Device

    from support.pins import ClosingMockFactory

    previous = Device.pin_factory
    Device.pin_factory = factory = ClosingMockFactory()
    try:
        yield factory
    finally:
        factory.close_devices()
        Device.pin_factory = previous

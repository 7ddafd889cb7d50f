"""Alembic migrations: an empty database upgraded to head has exactly the schema
the models describe, on SQLite and PostgreSQL, and HallQ runs on it."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Integer, MetaData, Table, inspect, text
from sqlmodel import SQLModel

from hallq import migrate
from hallq.core.errors import Conflict
from hallq.core.hallfile import parse_hall_file
from hallq.core.office import OfficeService
from hallq.core.service import HallService
from hallq.db import Database, make_engine
from support.project import EXAMPLE_HALL, ROOT


def differences(url: str, metadata: MetaData = SQLModel.metadata) -> list:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        engine.dispose()


def table_names(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_revisions_have_one_head():
    heads = ScriptDirectory(str(migrate.MIGRATIONS)).get_heads()
    assert len(heads) == 1, f"several heads {heads}: run `alembic ... merge heads` (see migrations/README.md)"


def test_upgrade_builds_the_models_schema(db_url):
    assert migrate.current(db_url) is None

    migrate.upgrade(db_url)

    assert migrate.current(db_url) == migrate.head()
    assert differences(db_url) == []
    assert table_names(db_url) >= set(SQLModel.metadata.tables)


def test_upgrade_twice_changes_nothing(db_url):
    migrate.upgrade(db_url)
    migrate.upgrade(db_url)

    assert migrate.current(db_url) == migrate.head()
    assert differences(db_url) == []


def migrated_hall(db_url: str, clock):
    """The example hall on a database upgraded to head, and a manager of it (its password checked)."""
    migrate.upgrade(db_url)
    hall = HallService(Database.from_url(db_url), clock_=clock)
    hall.load_hall(parse_hall_file(EXAMPLE_HALL))
    OfficeService(hall).add_user(name="manager1", role="manager", password="manager-pass", hall="district")
    return hall, OfficeService(hall).actor_for_login("manager1", "manager-pass")


def test_hall_runs_on_a_migrated_database(db_url, clock):
    hall, manager = migrated_hall(db_url, clock)
    try:
        ticket = hall.issue_ticket("district", service="SI", actor=manager)
        hall.window_action("district", 1, "open", actor=manager)
        window = hall.window_action("district", 1, "call-next", actor=manager)

        assert window["last_ticket"]["number"] == ticket["number"]
        assert hall.ticket("district", ticket["number"])["status"] == "called"
    finally:
        hall.db.dispose()


def test_comparison_notices_a_table_without_a_migration(sqlite_url):
    """The check above can fail: a model table that no revision creates shows up."""
    migrate.upgrade(sqlite_url)
    models = MetaData()
    for table in SQLModel.metadata.tables.values():
        table.to_metadata(models)
    Table("not_migrated", models, Column("id", Integer, primary_key=True))

    diff = differences(sqlite_url, models)

    assert [(op[0], op[1].name) for op in diff] == [("add_table", "not_migrated")]


def test_downgrade_to_nothing_and_back(db_url):
    migrate.upgrade(db_url)

    command.downgrade(migrate.alembic_config(db_url), "base")
    assert table_names(db_url) <= {migrate.VERSION_TABLE}
    migrate.upgrade(db_url)

    assert differences(db_url) == []


def test_upgrade_creates_the_sqlite_file_and_its_folders(tmp_path):
    path = tmp_path / "instance" / "data" / "hallq.db"

    migrate.upgrade(f"sqlite:///{path}")

    assert path.is_file()
    assert migrate.current(f"sqlite:///{path}") == migrate.head()


@pytest.mark.postgres
def test_servers_upgrading_at_once_take_turns(pg_url):
    """Several processes upgrading one empty PostgreSQL database all succeed."""
    code = "import sys; from hallq import migrate; migrate.upgrade(sys.argv[1])"
    runs = [subprocess.Popen([sys.executable, "-c", code, pg_url], stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outcomes = [(run.communicate()[1], run.returncode) for run in runs]

    assert [err for err, code in outcomes if code != 0] == []
    assert differences(pg_url) == []


def test_upgrade_adopts_a_database_made_by_create_all(sqlite_url):
    db = Database.from_url(sqlite_url)
    db.create_all()
    db.dispose()

    migrate.upgrade(sqlite_url)

    assert migrate.current(sqlite_url) == migrate.head()


def test_upgrade_refuses_an_unversioned_database_that_differs(sqlite_url):
    engine = make_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE hall (id INTEGER PRIMARY KEY, name TEXT)"))
    engine.dispose()

    with pytest.raises(Conflict) as raised:
        migrate.upgrade(sqlite_url)

    assert raised.value.as_dict()["code"] == "schema_unversioned"
    assert migrate.current(sqlite_url) is None


def test_sqlite_table_rebuild_keeps_rows_that_point_at_it(sqlite_url, tmp_path, clock):
    """A batch ALTER drops and recreates a table; rows in other tables that
    reference it (windowservice -> window) survive, and foreign keys still hold."""
    migrate.upgrade(sqlite_url)
    hall = HallService(Database.from_url(sqlite_url), clock_=clock)
    hall.load_hall(parse_hall_file(EXAMPLE_HALL))
    hall.db.dispose()
    extra = tmp_path / "versions"
    extra.mkdir()
    (extra / "rebuild_window.py").write_text(
        "import sqlalchemy as sa\nfrom alembic import op\n"
        f"revision = 'rebuild_window'\ndown_revision = {migrate.head()!r}\n"
        "branch_labels = depends_on = None\n"
        "def upgrade():\n"
        "    with op.batch_alter_table('window', recreate='always') as batch:\n"
        "        batch.add_column(sa.Column('note', sa.String(), nullable=True))\n"
    )
    cfg = migrate.alembic_config(sqlite_url)
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", f"{migrate.MIGRATIONS / 'versions'}{os.pathsep}{extra}")
    engine = make_engine(sqlite_url)
    with engine.connect() as conn:
        links_before = conn.execute(text("SELECT count(*) FROM windowservice")).scalar()
    engine.dispose()

    command.upgrade(cfg, "head")

    engine = make_engine(sqlite_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM windowservice")).scalar() == links_before > 0
        assert conn.execute(text("SELECT count(*) FROM window WHERE note IS NULL")).scalar() == 20
        assert conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def _model_tables_in_source() -> set[str]:
    """Table names of every `class X(..., table=True)` under server/hallq, read from the source."""
    names = set()
    for path in (ROOT / "server" / "hallq").rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ClassDef):
                continue
            if not any(k.arg == "table" and getattr(k.value, "value", None) is True for k in node.keywords):
                continue
            name = node.name.lower()
            for stmt in node.body:
                if isinstance(stmt, ast.Assign) and any(getattr(t, "id", "") == "__tablename__" for t in stmt.targets):
                    name = ast.literal_eval(stmt.value)
            names.add(name)
    return names


def test_every_table_is_registered_by_hallq_db():
    """migrations/env.py sees only the tables `import hallq.db` registers; a fresh
    interpreter shows which, untouched by what other tests imported."""
    out = subprocess.run(
        [sys.executable, "-c", "import json, hallq.db, sqlmodel; print(json.dumps(sorted(sqlmodel.SQLModel.metadata.tables)))"],
        capture_output=True, text=True, check=True, cwd=Path(migrate.__file__).parent,
    ).stdout
    registered = set(json.loads(out))

    missing = _model_tables_in_source() - registered
    assert not missing, f"tables {sorted(missing)} are defined but hallq/db.py does not import their module"


def test_tickets_from_before_the_journey_get_the_steps_their_rows_tell(db_url, clock):
    """Migration b7d2e4f1a903 keeps what is there: each ticket already in the database gets the
    steps its own columns still tell (its issue, last call, start and end)."""
    hall, manager = migrated_hall(db_url, clock)
    try:
        for _ in range(3):
            hall.issue_ticket("district", service="SI", actor=manager)
        hall.window_action("district", 1, "open", actor=manager)
        hall.window_action("district", 1, "call-next", actor=manager)  # A001: called, started, done
        clock.advance(minutes=2)
        hall.window_action("district", 1, "start", actor=manager)
        clock.advance(minutes=5)
        hall.window_action("district", 1, "complete", actor=manager)
        hall.window_action("district", 1, "call-next", actor=manager)  # A002: completed without start
        clock.advance(minutes=3)
        hall.window_action("district", 1, "complete", actor=manager)
    finally:
        hall.db.dispose()
    command.downgrade(migrate.alembic_config(db_url), "4f7a2c9e1b30")  # as if the journey had never been written
    migrate.upgrade(db_url)

    hall = HallService(Database.from_url(db_url), clock_=clock)
    try:
        got = {n: hall.journey("district", n, viewer=manager) for n in ("A001", "A002", "A003")}
    finally:
        hall.db.dispose()
    assert [s["step"] for s in got["A001"]["steps"]] == ["issued", "called", "started", "completed"]
    assert (got["A001"]["wait_minutes"], got["A001"]["handling_minutes"]) == (0.0, 5.0)
    assert [s["step"] for s in got["A002"]["steps"]] == ["issued", "called", "completed"]
    assert got["A002"]["handling_minutes"] == 3.0  # from its call: the row's started_at was its completion
    assert [s["step"] for s in got["A003"]["steps"]] == ["issued"] and got["A003"]["outcome"] == "open"
    assert got["A002"]["wait_minutes"] == 7.0  # issued 10:00, called 10:07


def test_a_rating_made_before_legs_rates_its_tickets_last_leg(db_url, clock):
    """Migration a7c4e9b2d615: the review box rated only a completed ticket served at its window, so
    a rating from before it rates the ticket's last leg, and that leg cannot be rated again."""
    from hallq.core.devices.service import DeviceService
    from hallq.core.reviews.service import ReviewService

    hall, manager = migrated_hall(db_url, clock)
    try:
        ticket = hall.issue_ticket("district", service="SI", actor=manager)
        for number in (1, 6):  # window 6 serves HR
            hall.window_action("district", number, "open", actor=manager)
        hall.window_action("district", 1, "call-next", actor=manager)
        hall.window_action("district", 1, "transfer", actor=manager, service="HR")
        hall.window_action("district", 6, "call-next", actor=manager)
        hall.window_action("district", 6, "complete", actor=manager)
        DeviceService(hall).add(hall="district", name="review-6", role="review", window=6)
        DeviceService(hall).review("district", "review-6", ticket=ticket["id"], score=4)
    finally:
        hall.db.dispose()
    command.downgrade(migrate.alembic_config(db_url), "f3b8d1c6a524")  # one rating per ticket, no legs
    migrate.upgrade(db_url)

    hall = HallService(Database.from_url(db_url), clock_=clock)
    try:
        legs = ReviewService(hall).rating_form("district", ticket["id"])["legs"]
        assert [(leg["leg"], leg["window"], leg["rated"] and leg["rated"]["score"]) for leg in legs] == [(1, 1, None), (2, 6, 4)]
        with pytest.raises(Conflict):
            ReviewService(hall).rate("district", ticket["id"], score=1, leg=2)
    finally:
        hall.db.dispose()

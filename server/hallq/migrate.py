"""Schema migrations: bring a database to HallQ's newest schema with Alembic.

`hallq db upgrade` calls upgrade(url). The Alembic configuration is built here
in code, so an installed package migrates itself and no file holds the URL.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlmodel import SQLModel

from .core.errors import Conflict
from .db import make_engine

MIGRATIONS = Path(__file__).resolve().with_name("migrations")
VERSION_TABLE = "alembic_version"


def alembic_config(url: str) -> Config:
    """Alembic's configuration for the database at `url`."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    # configparser would read a '%' in a password as interpolation.
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head() -> str:
    """The newest revision shipped with this version of HallQ."""
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def current(url: str) -> str | None:
    """The revision the database is at; None for an empty (or unversioned) one."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def schema_differences(url: str) -> list:
    """What autogenerate would change to make the database match the models (empty: they match)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    finally:
        engine.dispose()


def upgrade(url: str, revision: str = "head") -> None:
    """Apply every pending revision up to `revision`; a database already there is left as is."""
    _adopt_unversioned(url, revision)
    command.upgrade(alembic_config(url), revision)


def _adopt_unversioned(url: str, revision: str) -> None:
    """Stamp a database made by create_all() (no version table) if it already matches head."""
    engine = make_engine(url)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    if VERSION_TABLE in tables or not tables:
        return
    if revision == "head" and not schema_differences(url):
        command.stamp(alembic_config(url), "head")
        return
    raise Conflict(
        "schema_unversioned",
        "the database has tables but no migration history, and they differ from this HallQ's schema; "
        "back it up and migrate into an empty database",
        tables=sorted(tables),
    )

"""Alembic environment: HallQ's own engines and the tables hallq.db registers.

Run by hallq.migrate (which sets sqlalchemy.url in code) or by the alembic
command line (`-x url=...` or HALLQ_DATABASE_URL); see README in this folder.
"""

import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import text
from sqlmodel import SQLModel

# hallq.db imports every module that defines a table; a table it does not
# import is invisible to autogenerate (tests/server/test_migrations.py checks this).
from hallq.db import _WRITE, make_engine

config = context.config
target_metadata = SQLModel.metadata

# Serialises concurrent upgrades on PostgreSQL (several servers starting at once).
PG_LOCK_KEY = 0x48414C4C51  # "HALLQ"

if config.config_file_name is not None:  # the command line; hallq.migrate passes no file
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def database_url() -> str:
    """The URL set in code, else `-x url=...`, else HALLQ_DATABASE_URL."""
    url = (
        config.get_main_option("sqlalchemy.url")
        or context.get_x_argument(as_dictionary=True).get("url")
        or os.environ.get("HALLQ_DATABASE_URL", "")
    )
    if not url:
        raise SystemExit("no database URL: pass -x url=sqlite:///path/hallq.db or set HALLQ_DATABASE_URL")
    return url


def run_migrations_offline() -> None:
    """Print the SQL instead of running it (`alembic upgrade head --sql`)."""
    context.configure(
        url=database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def _sqlite_foreign_keys(connection, on: bool) -> None:
    # The pragma is ignored inside a transaction, so it goes straight to the
    # driver (autocommit mode, see hallq.db) before SQLAlchemy begins one.
    connection.connection.driver_connection.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def run_migrations_online() -> None:
    """Run every pending revision in one transaction."""
    engine = make_engine(database_url())
    sqlite = engine.dialect.name == "sqlite"
    try:
        # _WRITE makes hallq.db begin SQLite transactions with BEGIN IMMEDIATE,
        # so a second upgrader waits instead of migrating the same file twice.
        with engine.connect().execution_options(**{_WRITE: True}) as connection:
            if sqlite:
                # Batch ALTERs rebuild a table (copy, drop, rename); with foreign
                # keys on, dropping a referenced table fails or deletes rows.
                _sqlite_foreign_keys(connection, on=False)
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=True,  # SQLite cannot ALTER most things in place
                transactional_ddl=True,  # SQLite can roll back DDL too: all or nothing
            )
            with context.begin_transaction():
                if engine.dialect.name == "postgresql":
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY})
                context.run_migrations()
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"migration left rows whose foreign keys point nowhere: {broken[:5]}")
            if sqlite:
                _sqlite_foreign_keys(connection, on=True)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

"""Statements built once and run as plain SQL on the engine's busiest paths."""

from __future__ import annotations

from sqlalchemy import bindparam
from sqlmodel import Session


def constant(column, value):
    """`value` for `column` in a statement built once, written into the SQL instead of sent as a
    parameter. PostgreSQL then plans the prepared statement once: with months of finished tickets
    a parameter for the status looks common (almost every ticket is done) and every execution is
    planned again, while 'WAITING' written out is known to be rare (docs/benchmarks.md, issue 13)."""
    return bindparam(None, value, type_=column.type, literal_execute=True)


def run_prepared(session: Session, statement, params: dict):
    """Run a statement built once (module level) as plain SQL, after flushing this
    transaction's changes as the ORM would before a query: the ORM's per-query
    bookkeeping costs more than the query on the engine's busiest paths."""
    session.flush()
    return session.connection().execute(statement, params)

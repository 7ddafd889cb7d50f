"""Statements built once and run as plain SQL on the engine's busiest paths."""

from __future__ import annotations

from sqlmodel import Session


def run_prepared(session: Session, statement, params: dict):
    """Run a statement built once (module level) as plain SQL, after flushing this
    transaction's changes as the ORM would before a query: the ORM's per-query
    bookkeeping costs more than the query on the engine's busiest paths."""
    session.flush()
    return session.connection().execute(statement, params)

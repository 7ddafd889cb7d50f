"""Every ticket's journey, step by step (ticketstep), written once and never changed; the tickets
already in the database get the steps their own columns still tell (issued, its last call, start,
and how it ended), so that figures over older days have something to go on.

Revision ID: b7d2e4f1a903
Revises: 4f7a2c9e1b30
Create Date: 2026-12-06 21:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401


revision: str = 'b7d2e4f1a903'
down_revision: Union[str, Sequence[str], None] = '4f7a2c9e1b30'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# What an existing ticket's columns still tell: (step, moment column, condition, detail).
# A recall overwrote called_at and a transfer erased the first leg: those are lost for them.
_BACKFILL = [
    ("issued", "issued_at", "1 = 1", "''"),
    ("called", "called_at", "called_at IS NOT NULL", "'next'"),
    # A completion without a start set started_at to the completion: no start there.
    ("started", "started_at", "started_at IS NOT NULL AND NOT (status = 'DONE' AND started_at = finished_at)", "''"),
    ("completed", "finished_at", "status = 'DONE'", "''"),
    ("no_show", "finished_at", "status = 'NO_SHOW'", "COALESCE(close_reason, '')"),
    ("closed", "finished_at", "status IN ('EXPIRED', 'CANCELLED') AND finished_at IS NOT NULL", "COALESCE(close_reason, '')"),
]


def upgrade() -> None:
    op.create_table(
        'ticketstep',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('hall_id', sa.Integer(), nullable=False),
        sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('step', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('leg', sa.Integer(), nullable=False),
        sa.Column('service_id', sa.Integer(), nullable=False),
        sa.Column('window_id', sa.Integer(), nullable=True),
        sa.Column('staff_id', sa.Integer(), nullable=True),
        sa.Column('detail', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.ForeignKeyConstraint(['hall_id'], ['hall.id'], ),
        sa.ForeignKeyConstraint(['service_id'], ['service.id'], ),
        sa.ForeignKeyConstraint(['staff_id'], ['user.id'], ),
        sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ),
        sa.ForeignKeyConstraint(['window_id'], ['window.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('ticketstep', schema=None) as batch_op:
        batch_op.create_index('ix_ticketstep_hall_at', ['hall_id', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticketstep_ticket_id'), ['ticket_id'], unique=False)
    for step, column, condition, detail in _BACKFILL:
        op.execute(
            "INSERT INTO ticketstep (ticket_id, hall_id, at, step, leg, service_id, window_id, staff_id, detail) "
            f"SELECT id, hall_id, {column}, '{step}', transfers + 1, service_id, "
            f"{'NULL' if step == 'issued' else 'window_id'}, {'NULL' if step == 'issued' else 'staff_id'}, {detail} "
            f"FROM ticket WHERE {condition}"
        )


def downgrade() -> None:
    with op.batch_alter_table('ticketstep', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticketstep_ticket_id'))
        batch_op.drop_index('ix_ticketstep_hall_at')
    op.drop_table('ticketstep')

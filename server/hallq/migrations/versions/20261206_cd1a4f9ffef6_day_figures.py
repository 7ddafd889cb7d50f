"""Each day's figures of a hall (core/stats): written by the day's sweep for the days
before, and by `hallq stats rebuild` for any (existing history included).

Revision ID: cd1a4f9ffef6
Revises: c3e8a1d5f207
Create Date: 2026-12-06 23:59:13.818122

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate renders sqlmodel.sql.sqltypes.AutoString, UTCDateTime)


revision: str = 'cd1a4f9ffef6'
down_revision: Union[str, Sequence[str], None] = 'c3e8a1d5f207'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('day_figure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('dimension', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('key', sa.Integer(), nullable=False),
    sa.Column('issued', sa.Integer(), nullable=False),
    sa.Column('called', sa.Integer(), nullable=False),
    sa.Column('completed', sa.Integer(), nullable=False),
    sa.Column('no_show', sa.Integer(), nullable=False),
    sa.Column('walked_away', sa.Integer(), nullable=False),
    sa.Column('closed', sa.Integer(), nullable=False),
    sa.Column('transferred', sa.Integer(), nullable=False),
    sa.Column('wait_n', sa.Integer(), nullable=False),
    sa.Column('wait_sum', sa.Float(), nullable=False),
    sa.Column('wait_hist', sa.JSON(), nullable=False),
    sa.Column('handling_n', sa.Integer(), nullable=False),
    sa.Column('handling_sum', sa.Float(), nullable=False),
    sa.Column('handling_hist', sa.JSON(), nullable=False),
    sa.Column('promise_n', sa.Integer(), nullable=False),
    sa.Column('promise_error_sum', sa.Float(), nullable=False),
    sa.Column('reviews', sa.Integer(), nullable=False),
    sa.Column('reviews_5', sa.Integer(), nullable=False),
    sa.Column('reviews_satisfied', sa.Integer(), nullable=False),
    sa.Column('reviews_bad', sa.Integer(), nullable=False),
    sa.Column('score_sum', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['hall_id'], ['hall.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('hall_id', 'day', 'dimension', 'key')
    )


def downgrade() -> None:
    op.drop_table('day_figure')

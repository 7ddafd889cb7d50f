"""Which days a hall is open: China's statutory calendar ("cn", what a hall file says when it
says nothing) or "every_day", with the hall's own closures and extra working days.

Revision ID: c3e8a1d5f207
Revises: b7d2e4f1a903
Create Date: 2026-12-06 21:30:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401


revision: str = 'c3e8a1d5f207'
down_revision: Union[str, Sequence[str], None] = 'b7d2e4f1a903'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('hall', schema=None) as batch_op:
        batch_op.add_column(sa.Column('calendar', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False, server_default='cn'))
        batch_op.add_column(sa.Column('closed_days', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('extra_working_days', sa.JSON(), nullable=False, server_default='[]'))


def downgrade() -> None:
    with op.batch_alter_table('hall', schema=None) as batch_op:
        batch_op.drop_column('extra_working_days')
        batch_op.drop_column('closed_days')
        batch_op.drop_column('calendar')

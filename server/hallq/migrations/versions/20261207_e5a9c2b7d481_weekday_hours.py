"""Opening hours of their own for some weekdays (a shorter Friday, a Saturday morning): the hall
file's weekday_hours, empty (the hall's hours every day) for every hall that has none.

Revision ID: e5a9c2b7d481
Revises: cd1a4f9ffef6
Create Date: 2026-12-07 03:30:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = 'e5a9c2b7d481'
down_revision: Union[str, Sequence[str], None] = 'cd1a4f9ffef6'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('hall', schema=None) as batch_op:
        batch_op.add_column(sa.Column('weekday_hours', sa.JSON(), nullable=False, server_default='{}'))


def downgrade() -> None:
    with op.batch_alter_table('hall', schema=None) as batch_op:
        batch_op.drop_column('weekday_hours')

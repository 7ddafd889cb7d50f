"""The simple estimate kept beside the wait promised at issue (now the wait predictor's), and its
error in the day's figures, so a report shows both. Tickets issued before keep no simple estimate:
their days' simple error is empty, never a guess.

Revision ID: f3b8d1c6a524
Revises: e5a9c2b7d481
Create Date: 2026-12-07 07:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = 'f3b8d1c6a524'
down_revision: Union[str, Sequence[str], None] = 'e5a9c2b7d481'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('simple_wait_minutes', sa.Float(), nullable=True))
    with op.batch_alter_table('day_figure', schema=None) as batch_op:
        batch_op.add_column(sa.Column('simple_n', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('simple_error_sum', sa.Float(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('day_figure', schema=None) as batch_op:
        batch_op.drop_column('simple_error_sum')
        batch_op.drop_column('simple_n')
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_column('simple_wait_minutes')

"""The device request log keeps each request's digest, so that an id used again for another
request is refused (id_reused) rather than answered with the first request's answer.

Revision ID: 9b3e61d2c4a8
Revises: 5e1f0c2a9d47
Create Date: 2026-12-06 06:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401


revision: str = '9b3e61d2c4a8'
down_revision: Union[str, Sequence[str], None] = '5e1f0c2a9d47'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # Rows logged before have none: their repeats are answered as before.
    with op.batch_alter_table('devicerequest', schema=None) as batch_op:
        batch_op.add_column(sa.Column('digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('devicerequest', schema=None) as batch_op:
        batch_op.drop_column('digest')

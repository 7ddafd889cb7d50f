"""Each audit line says where the request came from (an address, "mqtt", "cli@host"), and the
audit is indexed by time for its page, its export and its archiving.

Revision ID: 4f7a2c9e1b30
Revises: 9b3e61d2c4a8
Create Date: 2026-12-06 11:30:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401


revision: str = '4f7a2c9e1b30'
down_revision: Union[str, Sequence[str], None] = '9b3e61d2c4a8'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # Lines written before have no origin: they keep "" (unknown).
    with op.batch_alter_table('auditentry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('origin', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False, server_default=''))
        batch_op.create_index(batch_op.f('ix_auditentry_at'), ['at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('auditentry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auditentry_at'))
        batch_op.drop_column('origin')

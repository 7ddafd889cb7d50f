"""Balancer: a hall's live-balancer settings from its hall file and its managers, and the tick lease (issue 5).

Halls loaded before this revision get their row at their next `hallq hall load`
(until then the balancer runs with its defaults).

Revision ID: 82adb163a605
Revises: c1904449ecaf
Create Date: 2026-11-22 10:48:53.018287

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate renders sqlmodel.sql.sqltypes.AutoString, UTCDateTime)


# revision identifiers, used by Alembic.
revision: str = '82adb163a605'
down_revision: Union[str, Sequence[str], None] = 'c1904449ecaf'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('hallbalancer',
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('updated_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('lease_owner', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('lease_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['hall_id'], ['hall.id'], ),
    sa.PrimaryKeyConstraint('hall_id')
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('hallbalancer')

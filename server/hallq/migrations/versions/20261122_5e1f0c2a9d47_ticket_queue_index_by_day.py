"""The ticket queue index takes the business day before queued_at, so counting the people
ahead of a ticket reads the index alone (issue 2: the issue path's cost no longer grows with
the queue).

Revision ID: 5e1f0c2a9d47
Revises: 82adb163a605
Create Date: 2026-11-22 11:45:00

"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = '5e1f0c2a9d47'
down_revision: Union[str, Sequence[str], None] = '82adb163a605'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_queue')
        batch_op.create_index('ix_ticket_queue', ['hall_id', 'status', 'service_id', 'priority', 'business_date', 'queued_at'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_queue')
        batch_op.create_index('ix_ticket_queue', ['hall_id', 'status', 'service_id', 'priority', 'queued_at'], unique=False)

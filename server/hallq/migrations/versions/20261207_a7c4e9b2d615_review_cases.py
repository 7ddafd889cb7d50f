"""好差评 end to end: one rating per service leg (the leg, its service, indicator scores, a bad
rating's reasons and text, whether an approved appeal took it out of the rates), the hall's
[reviews] settings, and the rectification cases of bad ratings (with their appeals) and their
steps. Existing ratings rate their ticket's last leg (the review box rated only a completed ticket at
its window); no case is opened for them (they were never rectified: the figures count cases from
here on).

Revision ID: a7c4e9b2d615
Revises: f3b8d1c6a524
Create Date: 2026-12-07 16:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401


revision: str = 'a7c4e9b2d615'
down_revision: Union[str, Sequence[str], None] = 'f3b8d1c6a524'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# SQLite keeps review's UNIQUE (ticket_id) without a name: batch mode finds it by this convention.
NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s"}
DAY_COLUMNS = ('served_legs', 'reviews_1', 'reviews_phone', 'reviews_default', 'appealed_removed', 'cases', 'rectified',
               'rectified_on_time')


def _old_unique() -> str:
    return "review_ticket_id_key" if op.get_bind().dialect.name == "postgresql" else "uq_review_ticket_id"


def upgrade() -> None:
    with op.batch_alter_table('hall', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review_settings', sa.JSON(), nullable=False, server_default='{}'))
    with op.batch_alter_table('review', schema=None, naming_convention=NAMES) as batch_op:
        batch_op.add_column(sa.Column('leg', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('service_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('indicators', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.add_column(sa.Column('reasons', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('comment', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('excluded', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.drop_constraint(_old_unique(), type_='unique')
        batch_op.create_unique_constraint('uq_review_ticket_leg', ['ticket_id', 'leg'])
        batch_op.create_index(batch_op.f('ix_review_ticket_id'), ['ticket_id'], unique=False)
        batch_op.create_foreign_key('fk_review_service_id', 'service', ['service_id'], ['id'])
    # A rating rated the ticket's final leg: the review box took only a completed ticket served at its
    # window. So its leg is the ticket's last (transfers + 1) and its service the ticket's.
    op.execute("UPDATE review SET leg = (SELECT ticket.transfers + 1 FROM ticket WHERE ticket.id = review.ticket_id), "
               "service_id = (SELECT ticket.service_id FROM ticket WHERE ticket.id = review.ticket_id)")
    op.create_table('review_case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('opened_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('callback_due', sa.Date(), nullable=False),
    sa.Column('due', sa.Date(), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('settled_on', sa.Date(), nullable=True),
    sa.Column('called_back_on', sa.Date(), nullable=True),
    sa.Column('follow_up_score', sa.Integer(), nullable=True),
    sa.Column('closed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('appeal_state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('appeal_kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('appeal_by', sa.Integer(), nullable=True),
    sa.Column('handler_id', sa.Integer(), nullable=True),
    sa.Column('contact_sealed', sqlmodel.sql.sqltypes.AutoString(length=400), nullable=True),
    sa.Column('contact_masked', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('contact_consent_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('contact_erased_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['handler_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['appeal_by'], ['user.id'], ),
    sa.ForeignKeyConstraint(['hall_id'], ['hall.id'], ),
    sa.ForeignKeyConstraint(['review_id'], ['review.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('review_id')
    )
    with op.batch_alter_table('review_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_case_hall_id'), ['hall_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_case_state'), ['state'], unique=False)
    op.create_table('case_step',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('step', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('actor_role', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['review_case.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('case_step', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_step_case_id'), ['case_id'], unique=False)
    # The days' 好差评 figures: by level and channel, appeals, cases. Days rolled up before count none
    # of them (`hallq stats rebuild` fills them in from the ratings).
    with op.batch_alter_table('day_figure', schema=None) as batch_op:
        for name in DAY_COLUMNS:
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('day_figure', schema=None) as batch_op:
        for name in reversed(DAY_COLUMNS):
            batch_op.drop_column(name)
    with op.batch_alter_table('case_step', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_step_case_id'))
    op.drop_table('case_step')
    with op.batch_alter_table('review_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_case_state'))
        batch_op.drop_index(batch_op.f('ix_review_case_hall_id'))
    op.drop_table('review_case')
    # A ticket rated on several legs keeps the rating of its first rated leg: the old schema holds one per ticket.
    op.execute("DELETE FROM review WHERE leg > (SELECT MIN(r2.leg) FROM review AS r2 WHERE r2.ticket_id = review.ticket_id)")
    with op.batch_alter_table('review', schema=None) as batch_op:
        batch_op.drop_constraint('fk_review_service_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_review_ticket_id'))
        batch_op.drop_constraint('uq_review_ticket_leg', type_='unique')
        batch_op.create_unique_constraint(_old_unique(), ['ticket_id'])
        batch_op.drop_column('excluded')
        batch_op.drop_column('comment')
        batch_op.drop_column('reasons')
        batch_op.drop_column('indicators')
        batch_op.drop_column('service_id')
        batch_op.drop_column('leg')
    with op.batch_alter_table('hall', schema=None) as batch_op:
        batch_op.drop_column('review_settings')

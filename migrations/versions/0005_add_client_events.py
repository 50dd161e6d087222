"""add client events

The history of a client record (consent given or withdrawn, segment, handover to
another worker, relatives, retention, erasure), and a partial unique index that
keeps the periodic sweeps from opening two reminders of the same kind for one
client.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 07:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

_OPEN_SWEPT = "done_at IS NULL AND kind IN ('segment_check','retention','erasure')"


def upgrade():
    op.create_table(
        'client_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('action', sa.String(length=30), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_client_events_actor_id_users')),
        sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_client_events_client_id_clients')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_client_events')),
    )
    with op.batch_alter_table('client_events', schema=None) as batch_op:
        batch_op.create_index('ix_client_events_client_at', ['client_id', 'at'], unique=False)
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.create_index('uq_follow_ups_open_swept_kind', ['client_id', 'kind'], unique=True,
                              sqlite_where=sa.text(_OPEN_SWEPT), postgresql_where=sa.text(_OPEN_SWEPT))


def downgrade():
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.drop_index('uq_follow_ups_open_swept_kind',
                            sqlite_where=sa.text(_OPEN_SWEPT), postgresql_where=sa.text(_OPEN_SWEPT))
    with op.batch_alter_table('client_events', schema=None) as batch_op:
        batch_op.drop_index('ix_client_events_client_at')
    op.drop_table('client_events')

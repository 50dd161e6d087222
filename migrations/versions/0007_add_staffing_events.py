"""add staffing events

The timeline of a staffing request: every move of the request or of one of its
offers, with the acting user (none for the system) and a note code.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 00:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'staffing_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('request_id', sa.Integer(), nullable=False),
        sa.Column('offer_id', sa.Integer(), nullable=True),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('action', sa.String(length=30), nullable=False),
        sa.Column('from_status', sa.String(length=20), nullable=True),
        sa.Column('to_status', sa.String(length=20), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_staffing_events_actor_id_users')),
        sa.ForeignKeyConstraint(['offer_id'], ['staffing_offers.id'],
                                name=op.f('fk_staffing_events_offer_id_staffing_offers'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['request_id'], ['staffing_requests.id'],
                                name=op.f('fk_staffing_events_request_id_staffing_requests'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_staffing_events')),
    )
    with op.batch_alter_table('staffing_events', schema=None) as batch_op:
        batch_op.create_index('ix_staffing_events_request_at', ['request_id', 'at'], unique=False)


def downgrade():
    with op.batch_alter_table('staffing_events', schema=None) as batch_op:
        batch_op.drop_index('ix_staffing_events_request_at')
    op.drop_table('staffing_events')

"""add concerns, coded follow-ups, missed visits and who may complete orders

A concern raised in a visit report is a row of its own (description, urgency,
acknowledgement, escalation); follow-ups carry a code and parameters rendered in
the reader's language, a priority and the coded reason for it; a visit report can
say the visit was missed; a provider organisation chooses who may complete its
orders.

Revision ID: guard1
Revises: 0007
Create Date: 2026-12-06 02:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'guard1'
down_revision = 'accounts1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'concerns',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.Integer(), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=True),
        sa.Column('visit_id', sa.Integer(), nullable=True),
        sa.Column('provider_id', sa.Integer(), nullable=True),
        sa.Column('reported_by_id', sa.Integer(), nullable=True),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('urgency', sa.String(length=10), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('acknowledged_by_id', sa.Integer(), nullable=True),
        sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("urgency in ('today','week')", name=op.f('ck_concerns_urgency_known')),
        sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_concerns_client_id_clients')),
        sa.ForeignKeyConstraint(['order_id'], ['service_orders.id'], name=op.f('fk_concerns_order_id_service_orders')),
        sa.ForeignKeyConstraint(['visit_id'], ['visit_reports.id'], name=op.f('fk_concerns_visit_id_visit_reports')),
        sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_concerns_provider_id_providers')),
        sa.ForeignKeyConstraint(['reported_by_id'], ['users.id'], name=op.f('fk_concerns_reported_by_id_users')),
        sa.ForeignKeyConstraint(['acknowledged_by_id'], ['users.id'],
                                name=op.f('fk_concerns_acknowledged_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_concerns')),
    )
    op.create_index('ix_concerns_client_created', 'concerns', ['client_id', 'created_at'])
    op.create_index('ix_concerns_open_urgent', 'concerns', ['urgency', 'acknowledged_at', 'escalated_at'])
    with op.batch_alter_table('follow_ups') as batch:
        batch.add_column(sa.Column('code', sa.String(length=40), nullable=True))
        batch.add_column(sa.Column('params', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('concern_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('priority', sa.Integer(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('priority_code', sa.String(length=40), nullable=True))
        batch.add_column(sa.Column('priority_params', sa.JSON(), nullable=True))
        batch.create_foreign_key(op.f('fk_follow_ups_concern_id_concerns'), 'concerns', ['concern_id'], ['id'])
    with op.batch_alter_table('visit_reports') as batch:
        batch.add_column(sa.Column('missed', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('providers') as batch:
        batch.add_column(sa.Column('completion_by', sa.String(length=10), nullable=False, server_default='admins'))
        batch.create_check_constraint(op.f('ck_providers_completion_by_known'), "completion_by in ('admins','members')")


def downgrade():
    with op.batch_alter_table('providers') as batch:
        batch.drop_constraint(op.f('ck_providers_completion_by_known'), type_='check')
        batch.drop_column('completion_by')
    with op.batch_alter_table('visit_reports') as batch:
        batch.drop_column('missed')
    with op.batch_alter_table('follow_ups') as batch:
        batch.drop_constraint(op.f('fk_follow_ups_concern_id_concerns'), type_='foreignkey')
        for name in ('priority_params', 'priority_code', 'priority', 'concern_id', 'params', 'code'):
            batch.drop_column(name)
    op.drop_index('ix_concerns_open_urgent', table_name='concerns')
    op.drop_index('ix_concerns_client_created', table_name='concerns')
    op.drop_table('concerns')

"""add voucher settlement

Service vouchers get a lifecycle (granted, open, closed), amounts in the API's
units (minutes, visits or cents a month, the county's value per hour or visit) and
whether the monthly amount renews; the service events providers record against
them, their timeline, a per-service-type "free to the client" setting, and the
monthly settlement with one line per provider and one statement item per event
(unique per event and kind: nothing is paid twice). The old per-provider
settlement table, which nothing used, is replaced.

Revision ID: vouchers1
Revises: 0007
Create Date: 2026-12-06 03:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'vouchers1'
down_revision = 'interop1'
branch_labels = None
depends_on = None


def upgrade():
    # Amounts into the API's units before the columns are renamed.
    op.execute("UPDATE service_vouchers SET value_per_month = value_per_month * 60, unit = 'hour' "
               "WHERE unit = 'hours'")
    op.execute("UPDATE service_vouchers SET unit = 'visit' WHERE unit = 'visits'")
    op.execute("UPDATE service_vouchers SET unit = 'euro', unit_value_cents = 0 WHERE unit = 'euros'")
    op.execute("UPDATE service_vouchers SET value_per_month = 1 WHERE value_per_month <= 0")
    with op.batch_alter_table('service_vouchers', schema=None) as batch_op:
        batch_op.alter_column('value_per_month', new_column_name='monthly_amount')
        batch_op.alter_column('unit_value_cents', new_column_name='value_cents_per_unit')
        batch_op.alter_column('valid_until', new_column_name='valid_to')
        batch_op.drop_column('client_share_cents')
        batch_op.add_column(sa.Column('renews', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('status', sa.String(length=10), nullable=False, server_default='granted'))
        batch_op.add_column(sa.Column('open_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('close_reason', sa.Text(), nullable=True))
        batch_op.create_check_constraint('unit_known', "unit in ('hour','visit','euro')")
        batch_op.create_check_constraint('status_known', "status in ('granted','open','closed')")
        batch_op.create_check_constraint('amount_positive', 'monthly_amount > 0')
        batch_op.create_check_constraint('value_not_negative', 'value_cents_per_unit >= 0')
    with op.batch_alter_table('service_vouchers', schema=None) as batch_op:
        batch_op.alter_column('renews', server_default=None)
        batch_op.alter_column('status', server_default=None)
    # Vouchers already funding an order are in use.
    op.execute("UPDATE service_vouchers SET status = 'open' WHERE id IN "
               "(SELECT voucher_id FROM service_orders WHERE voucher_id IS NOT NULL)")

    op.drop_table('voucher_settlements')
    op.create_table(
        'voucher_settlements',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('requested_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('running_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status in ('queued','running','done','paid')",
                           name=op.f('ck_voucher_settlements_status_known')),
        sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'],
                                name=op.f('fk_voucher_settlements_requested_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_voucher_settlements')),
        sa.UniqueConstraint('month', name=op.f('uq_voucher_settlements_month')),
    )
    op.create_table(
        'voucher_service_settings',
        sa.Column('service_type_id', sa.Integer(), nullable=False),
        sa.Column('free_to_client', sa.Boolean(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['service_type_id'], ['service_types.id'],
                                name=op.f('fk_voucher_service_settings_service_type_id_service_types')),
        sa.PrimaryKeyConstraint('service_type_id', name=op.f('pk_voucher_service_settings')),
    )
    op.create_table(
        'voucher_service_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('voucher_id', sa.Integer(), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=False),
        sa.Column('provider_id', sa.Integer(), nullable=False),
        sa.Column('visit_id', sa.Integer(), nullable=True),
        sa.Column('corrects_id', sa.Integer(), nullable=True),
        sa.Column('date', sa.Date(), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('quantity', sa.Integer(), nullable=False),
        sa.Column('price_cents_per_unit', sa.Integer(), nullable=False),
        sa.Column('voucher_cents', sa.Integer(), nullable=False),
        sa.Column('client_share_cents', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('refusal_reason', sa.Text(), nullable=True),
        sa.Column('auto_approved', sa.Boolean(), nullable=False),
        sa.Column('settlement_id', sa.Integer(), nullable=True),
        sa.Column('recorded_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('under_review_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('refused_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('settled_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status in ('recorded','under_review','approved','settled','paid','refused')",
                           name=op.f('ck_voucher_service_events_status_known')),
        sa.CheckConstraint('quantity >= 0', name=op.f('ck_voucher_service_events_quantity_not_negative')),
        sa.CheckConstraint('voucher_cents >= 0 AND client_share_cents >= 0',
                           name=op.f('ck_voucher_service_events_cents_not_negative')),
        sa.ForeignKeyConstraint(['corrects_id'], ['voucher_service_events.id'],
                                name=op.f('fk_voucher_service_events_corrects_id_voucher_service_events')),
        sa.ForeignKeyConstraint(['order_id'], ['service_orders.id'],
                                name=op.f('fk_voucher_service_events_order_id_service_orders')),
        sa.ForeignKeyConstraint(['provider_id'], ['providers.id'],
                                name=op.f('fk_voucher_service_events_provider_id_providers')),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'],
                                name=op.f('fk_voucher_service_events_recorded_by_id_users')),
        sa.ForeignKeyConstraint(['settlement_id'], ['voucher_settlements.id'],
                                name=op.f('fk_voucher_service_events_settlement_id_voucher_settlements')),
        sa.ForeignKeyConstraint(['visit_id'], ['visit_reports.id'],
                                name=op.f('fk_voucher_service_events_visit_id_visit_reports')),
        sa.ForeignKeyConstraint(['voucher_id'], ['service_vouchers.id'],
                                name=op.f('fk_voucher_service_events_voucher_id_service_vouchers')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_voucher_service_events')),
    )
    with op.batch_alter_table('voucher_service_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_voucher_service_events_corrects_id'), ['corrects_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_voucher_service_events_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_voucher_service_events_provider_id'), ['provider_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_voucher_service_events_settlement_id'), ['settlement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_voucher_service_events_voucher_id'), ['voucher_id'], unique=False)
        batch_op.create_index('ix_voucher_service_events_voucher_month', ['voucher_id', 'month'], unique=False)
        batch_op.create_index('ix_voucher_service_events_status_date', ['status', 'date'], unique=False)
    op.create_table(
        'voucher_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('voucher_id', sa.Integer(), nullable=True),
        sa.Column('service_event_id', sa.Integer(), nullable=True),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('action', sa.String(length=30), nullable=False),
        sa.Column('from_status', sa.String(length=20), nullable=True),
        sa.Column('to_status', sa.String(length=20), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_voucher_events_actor_id_users')),
        sa.ForeignKeyConstraint(['service_event_id'], ['voucher_service_events.id'],
                                name=op.f('fk_voucher_events_service_event_id_voucher_service_events')),
        sa.ForeignKeyConstraint(['voucher_id'], ['service_vouchers.id'],
                                name=op.f('fk_voucher_events_voucher_id_service_vouchers')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_voucher_events')),
    )
    with op.batch_alter_table('voucher_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_voucher_events_service_event_id'), ['service_event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_voucher_events_voucher_id'), ['voucher_id'], unique=False)
    op.create_table(
        'voucher_settlement_lines',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('settlement_id', sa.Integer(), nullable=False),
        sa.Column('provider_id', sa.Integer(), nullable=False),
        sa.Column('events', sa.Integer(), nullable=False),
        sa.Column('voucher_cents', sa.Integer(), nullable=False),
        sa.Column('client_share_cents', sa.Integer(), nullable=False),
        sa.Column('credit_cents', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['provider_id'], ['providers.id'],
                                name=op.f('fk_voucher_settlement_lines_provider_id_providers')),
        sa.ForeignKeyConstraint(['settlement_id'], ['voucher_settlements.id'],
                                name=op.f('fk_voucher_settlement_lines_settlement_id_voucher_settlements')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_voucher_settlement_lines')),
        sa.UniqueConstraint('settlement_id', 'provider_id', name='uq_settlement_lines_provider'),
    )
    with op.batch_alter_table('voucher_settlement_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_voucher_settlement_lines_provider_id'), ['provider_id'], unique=False)
    op.create_table(
        'voucher_statement_items',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('line_id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('service_date', sa.Date(), nullable=False),
        sa.Column('quantity', sa.Integer(), nullable=False),
        sa.Column('voucher_cents', sa.Integer(), nullable=False),
        sa.Column('client_share_cents', sa.Integer(), nullable=False),
        sa.CheckConstraint("kind in ('event','reversal','corrected')",
                           name=op.f('ck_voucher_statement_items_kind_known')),
        sa.ForeignKeyConstraint(['event_id'], ['voucher_service_events.id'],
                                name=op.f('fk_voucher_statement_items_event_id_voucher_service_events')),
        sa.ForeignKeyConstraint(['line_id'], ['voucher_settlement_lines.id'],
                                name=op.f('fk_voucher_statement_items_line_id_voucher_settlement_lines')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_voucher_statement_items')),
        sa.UniqueConstraint('event_id', 'kind', name='uq_statement_items_event_kind'),
    )
    with op.batch_alter_table('voucher_statement_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_voucher_statement_items_line_id'), ['line_id'], unique=False)


def downgrade():
    op.drop_table('voucher_statement_items')
    op.drop_table('voucher_settlement_lines')
    op.drop_table('voucher_events')
    op.drop_table('voucher_service_events')
    op.drop_table('voucher_service_settings')
    op.drop_table('voucher_settlements')
    op.create_table(
        'voucher_settlements',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('provider_id', sa.Integer(), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('units', sa.Integer(), nullable=False),
        sa.Column('municipality_cents', sa.Integer(), nullable=False),
        sa.Column('client_share_cents', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['provider_id'], ['providers.id'],
                                name=op.f('fk_voucher_settlements_provider_id_providers')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_voucher_settlements')),
        sa.UniqueConstraint('provider_id', 'month', name='uq_voucher_settlements_provider_month'),
    )
    with op.batch_alter_table('service_vouchers', schema=None) as batch_op:
        batch_op.drop_constraint('ck_service_vouchers_unit_known', type_='check')
        batch_op.drop_constraint('ck_service_vouchers_status_known', type_='check')
        batch_op.drop_constraint('ck_service_vouchers_amount_positive', type_='check')
        batch_op.drop_constraint('ck_service_vouchers_value_not_negative', type_='check')
        batch_op.drop_column('close_reason')
        batch_op.drop_column('closed_at')
        batch_op.drop_column('open_at')
        batch_op.drop_column('status')
        batch_op.drop_column('renews')
        batch_op.add_column(sa.Column('client_share_cents', sa.Integer(), nullable=False, server_default='0'))
        batch_op.alter_column('valid_to', new_column_name='valid_until')
        batch_op.alter_column('value_cents_per_unit', new_column_name='unit_value_cents')
        batch_op.alter_column('monthly_amount', new_column_name='value_per_month')
    with op.batch_alter_table('service_vouchers', schema=None) as batch_op:
        batch_op.alter_column('client_share_cents', server_default=None)
    op.execute("UPDATE service_vouchers SET value_per_month = value_per_month / 60, unit = 'hours' "
               "WHERE unit = 'hour'")
    op.execute("UPDATE service_vouchers SET unit = 'visits' WHERE unit = 'visit'")
    op.execute("UPDATE service_vouchers SET unit = 'euros' WHERE unit = 'euro'")

"""indexes that keep the staff pages' cost independent of the history

The staff dashboard lists the staff member's own escalated orders, orders with a
concern, completed orders waiting to be closed and latest orders, newest first.
With only an index on ``ordered_by_id`` PostgreSQL walked the primary key backwards
through the whole table for a status nobody had (200,000 rows read to return none,
58 ms at the reference size). ``(ordered_by_id, status, id)`` answers each status
list from the index, ``(ordered_by_id, id)`` the latest orders (it replaces the
single-column index), and a partial index on ``(ordered_by_id, id)`` where
``has_concern`` holds only the few orders with a concern.

The provider inbox lists the organisation's waiting offers by answer time; the
offers index on ``(provider_id, status)`` gains ``deadline_at`` so that the first
page is read in order instead of sorting the status's rows of every provider (7 ms
at the reference size, 38,000 rows read to return 50).

Revision ID: perf1
Revises: shopcodes1
Create Date: 2026-12-06 09:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'perf1'
down_revision = 'shopcodes1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('service_orders', schema=None) as batch_op:
        batch_op.drop_index('ix_service_orders_ordered_by_id')
        batch_op.create_index('ix_service_orders_orderer_id', ['ordered_by_id', 'id'], unique=False)
        batch_op.create_index('ix_service_orders_orderer_status', ['ordered_by_id', 'status', 'id'], unique=False)
        batch_op.create_index('ix_service_orders_orderer_concern', ['ordered_by_id', 'id'], unique=False,
                              postgresql_where=sa.text('has_concern'), sqlite_where=sa.text('has_concern'))


    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.drop_index('ix_offers_provider_status')
        batch_op.create_index('ix_offers_provider_status_deadline', ['provider_id', 'status', 'deadline_at'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.drop_index('ix_offers_provider_status_deadline')
        batch_op.create_index('ix_offers_provider_status', ['provider_id', 'status'], unique=False)
    with op.batch_alter_table('service_orders', schema=None) as batch_op:
        batch_op.drop_index('ix_service_orders_orderer_concern')
        batch_op.drop_index('ix_service_orders_orderer_status')
        batch_op.drop_index('ix_service_orders_orderer_id')
        batch_op.create_index('ix_service_orders_ordered_by_id', ['ordered_by_id'], unique=False)

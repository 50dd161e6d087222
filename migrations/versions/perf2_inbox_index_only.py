"""the provider inbox read from its indexes

The inbox shows the provider's waiting offers (soonest answer time first) with the
number of all of them, and the orders the organisation has won, newest first.

- ``offers (provider_id, status, deadline_at, id) INCLUDE (sent_at)`` replaces
  ``(provider_id, status, deadline_at)``: the waiting offers are counted from the
  index alone (at the reference size 19 index pages instead of 438 table pages for
  a provider's 2,169 waiting offers) and a page is read in its exact order, without
  a sort. On SQLite the index has no INCLUDE part.
- ``service_orders (provider_id, status, id)`` replaces ``(provider_id, status)``:
  the ids of the newest page of won orders come from the index alone.

Both replace an index: an offer's or order's write maintains as many as before.

Revision ID: perf2
Revises: reports500a
Create Date: 2026-12-06 20:15:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'perf2'
down_revision = 'reports500a'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.drop_index('ix_offers_provider_status_deadline')
        batch_op.create_index('ix_offers_provider_status_deadline_id', ['provider_id', 'status', 'deadline_at', 'id'],
                              unique=False, postgresql_include=['sent_at'])
    with op.batch_alter_table('service_orders', schema=None) as batch_op:
        batch_op.drop_index('ix_service_orders_provider_status')
        batch_op.create_index('ix_service_orders_provider_status_id', ['provider_id', 'status', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('service_orders', schema=None) as batch_op:
        batch_op.drop_index('ix_service_orders_provider_status_id')
        batch_op.create_index('ix_service_orders_provider_status', ['provider_id', 'status'], unique=False)
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.drop_index('ix_offers_provider_status_deadline_id')
        batch_op.create_index('ix_offers_provider_status_deadline', ['provider_id', 'status', 'deadline_at'],
                              unique=False)

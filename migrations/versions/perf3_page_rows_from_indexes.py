"""the staff dashboard, the provider inbox and the client page read their rows from indexes

The app keeps one generic plan per prepared statement (core.db.install_plan_cache_mode),
so what a page's statement costs PostgreSQL is what its generic plan reads. Measured
on the reference data (bench/seed.py) as the backend's CPU per execution of the
generic plan:

- ``clients (responsible_worker_id, erased_at)`` replaces ``(responsible_worker_id)``:
  the dashboard's count of the worker's clients not erased is read from the index
  alone (3 index pages instead of 345 table pages for 400 clients; the dashboard's
  figures statement 0.31 -> 0.09 ms). A lookup by worker alone uses it as before.
- The staff dashboard's three indexes by orderer (perf1) include the columns its
  lists show (number, client, service type, provider and the status): each list's
  rows come from the index alone instead of a second look-up by primary key per row
  (the lists' statement 0.52 -> 0.35 ms). Same keys: an order's write maintains as
  many index entries as before, wider ones.
- ``service_orders (provider_id, id) INCLUDE (number, client_id, status, start_date,
  service_type_id) WHERE status IN ('accepted', 'in_progress', 'completed')``: the
  provider inbox's won orders, newest first, read in order from the index alone
  instead of sorting the provider's orders of every status and looking each up by
  primary key (0.36 -> 0.16 ms). The inbox's statement writes the statuses into its
  text so that the generic plan can use the partial index. An added index: an
  order entering one of these statuses writes one more index entry.
- ``visit_reports (order_id) WHERE missed IS TRUE``: the staff client page's signals
  find the missed visits of the client's orders from this index instead of reading
  every visit of each order (89 -> 3 buffers; the signals statement 0.14 -> 0.07 ms).
  Only a missed visit writes an entry.

On SQLite the indexes have no INCLUDE part.

Revision ID: perf3
Revises: perf2
Create Date: 2026-12-07 05:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'perf3'
down_revision = 'perf2'
branch_labels = None
depends_on = None

ROW = ['number', 'client_id', 'service_type_id', 'provider_id']
WON = "status IN ('accepted', 'in_progress', 'completed')"


def upgrade():
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_index('ix_clients_responsible_worker_id')
        batch_op.create_index('ix_clients_worker_erased', ['responsible_worker_id', 'erased_at'], unique=False)
    with op.batch_alter_table('service_orders', schema=None) as batch_op:
        batch_op.drop_index('ix_service_orders_orderer_id')
        batch_op.drop_index('ix_service_orders_orderer_status')
        batch_op.drop_index('ix_service_orders_orderer_concern')
        batch_op.create_index('ix_service_orders_orderer_id_rows', ['ordered_by_id', 'id'], unique=False,
                              postgresql_include=[*ROW, 'status'])
        batch_op.create_index('ix_service_orders_orderer_status_rows', ['ordered_by_id', 'status', 'id'],
                              unique=False, postgresql_include=ROW)
        batch_op.create_index('ix_service_orders_orderer_concern_rows', ['ordered_by_id', 'id'], unique=False,
                              postgresql_include=[*ROW, 'status'],
                              postgresql_where=sa.text('has_concern'), sqlite_where=sa.text('has_concern'))
        batch_op.create_index('ix_service_orders_provider_won', ['provider_id', 'id'], unique=False,
                              postgresql_include=['number', 'client_id', 'status', 'start_date', 'service_type_id'],
                              postgresql_where=sa.text(WON), sqlite_where=sa.text(WON))
    with op.batch_alter_table('visit_reports', schema=None) as batch_op:
        batch_op.create_index('ix_visit_reports_missed_order', ['order_id'], unique=False,
                              postgresql_where=sa.text('missed IS TRUE'), sqlite_where=sa.text('missed IS TRUE'))


def downgrade():
    with op.batch_alter_table('visit_reports', schema=None) as batch_op:
        batch_op.drop_index('ix_visit_reports_missed_order')
    with op.batch_alter_table('service_orders', schema=None) as batch_op:
        batch_op.drop_index('ix_service_orders_provider_won')
        batch_op.drop_index('ix_service_orders_orderer_concern_rows')
        batch_op.drop_index('ix_service_orders_orderer_status_rows')
        batch_op.drop_index('ix_service_orders_orderer_id_rows')
        batch_op.create_index('ix_service_orders_orderer_id', ['ordered_by_id', 'id'], unique=False)
        batch_op.create_index('ix_service_orders_orderer_status', ['ordered_by_id', 'status', 'id'], unique=False)
        batch_op.create_index('ix_service_orders_orderer_concern', ['ordered_by_id', 'id'], unique=False,
                              postgresql_where=sa.text('has_concern'), sqlite_where=sa.text('has_concern'))
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_index('ix_clients_worker_erased')
        batch_op.create_index('ix_clients_responsible_worker_id', ['responsible_worker_id'], unique=False)

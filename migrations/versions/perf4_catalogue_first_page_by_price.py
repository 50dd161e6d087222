"""the public catalogue's first page walks the sellable offerings in price order

The catalogue search (catalogue.services.search_catalogue) lists sellable offerings
serving a postal code, cheapest first, a page of 20 at a time. Its generic plan
sorted every offering serving the postal code to return the first 21: 833 offerings
and 3.7 ms of SQL at the reference size (bench/seed.py), 4,166 and 15.6 ms at
five times it, so the page's cost grew with the catalogue. With this partial index of
the sellable offerings by price, and the page's limit written into the statement,
PostgreSQL walks the offerings in price order and stops when a page of them serves
the postal code: 0.62 and 0.65 ms. The predicate is written as the statement
writes sellable_offerings' conditions (``IS true``) so that the generic plan may use
it. An offering's write maintains one more index entry if it is sellable.

Revision ID: perf4
Revises: perf3
Create Date: 2026-12-07 09:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'perf4'
down_revision = 'perf3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('offerings', schema=None) as batch_op:
        batch_op.create_index(
            'ix_offerings_sellable_price', ['price_cents', 'id'], unique=False,
            postgresql_where=sa.text('active IS true AND self_paid IS true AND price_cents IS NOT NULL'),
            sqlite_where=sa.text('active IS 1 AND self_paid IS 1 AND price_cents IS NOT NULL'))


def downgrade():
    with op.batch_alter_table('offerings', schema=None) as batch_op:
        batch_op.drop_index('ix_offerings_sellable_price')

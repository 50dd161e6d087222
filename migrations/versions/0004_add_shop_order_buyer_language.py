"""add shop order buyer language

The language the buyer used at checkout, so that every e-mail about the purchase
(also those sent later, by the provider's actions or Stripe's events) is in it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 07:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('shop_orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('buyer_language', sa.String(length=5), nullable=False,
                                      server_default='fi'))


def downgrade():
    with op.batch_alter_table('shop_orders', schema=None) as batch_op:
        batch_op.drop_column('buyer_language')

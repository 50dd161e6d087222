"""add provider requested services

The service types an organisation names in its application, kept for the
administrator's decision (offerings are created later in the marketplace).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 07:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('providers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('requested_service_type_ids', sa.JSON(), nullable=False,
                                      server_default=sa.text("'[]'")))


def downgrade():
    with op.batch_alter_table('providers', schema=None) as batch_op:
        batch_op.drop_column('requested_service_type_ids')

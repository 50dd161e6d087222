"""add token names, kinds and last use

API tokens get a name (shown in the token list), a kind (``session`` from a login,
``machine`` for an organisation's system), when they were last used, and who
created a machine token.

Revision ID: api1
Revises: reports1
Create Date: 2026-12-06 03:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'api1'
down_revision = 'reports1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name', sa.String(length=100), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('kind', sa.String(length=20), nullable=False, server_default='session'))
        batch_op.add_column(sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('created_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_api_tokens_created_by_id_users'), 'users', ['created_by_id'], ['id'])


def downgrade():
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_api_tokens_created_by_id_users'), type_='foreignkey')
        batch_op.drop_column('created_by_id')
        batch_op.drop_column('last_used_at')
        batch_op.drop_column('kind')
        batch_op.drop_column('name')

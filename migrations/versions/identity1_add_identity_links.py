"""add identity links (strong identification of relatives)

A relative's personal identity code, as a keyed hash (HMAC-SHA256 with the app's
secret key), linked to their login, so that strong identification (OpenID Connect)
can find them. Clients are found through their client record.

Revision ID: identity1
Revises: api1
Create Date: 2026-12-06 06:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'identity1'
down_revision = 'api1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('identity_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_identity_links_created_by_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_identity_links_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_links')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_identity_links_code_hash')),
    sa.UniqueConstraint('user_id', name=op.f('uq_identity_links_user_id'))
    )


def downgrade():
    op.drop_table('identity_links')

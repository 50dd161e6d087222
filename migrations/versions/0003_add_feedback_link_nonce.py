"""add feedback link nonce and moderation events

``feedback_links.nonce``: 128 random bits that enter the link token's HMAC, so the
server can show a link to staff again while the database keeps only the token's
hash. Existing links get a random nonce (their tokens, which were never derivable,
are unchanged: ``issue_feedback_link`` re-keys such a link when it is asked for it).

``feedback_moderation_events``: who hid or unhid a feedback item, when and why.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 08:00:00

"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('feedback_links', schema=None) as batch_op:
        batch_op.add_column(sa.Column('nonce', sa.String(length=32), nullable=True))
    conn = op.get_bind()
    links = sa.table('feedback_links', sa.column('id', sa.Integer), sa.column('nonce', sa.String))
    ids = conn.execute(sa.select(links.c.id).where(links.c.nonce.is_(None))).scalars().all()
    for link_id in ids:
        conn.execute(sa.update(links).where(links.c.id == link_id).values(nonce=secrets.token_hex(16)))
    with op.batch_alter_table('feedback_links', schema=None) as batch_op:
        batch_op.alter_column('nonce', existing_type=sa.String(length=32), nullable=False)

    op.create_table('feedback_moderation_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('feedback_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("action in ('hide','unhide')", name=op.f('ck_feedback_moderation_events_action_known')),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_feedback_moderation_events_actor_id_users')),
    sa.ForeignKeyConstraint(['feedback_id'], ['feedback.id'], name=op.f('fk_feedback_moderation_events_feedback_id_feedback')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_moderation_events'))
    )
    with op.batch_alter_table('feedback_moderation_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_moderation_events_feedback_id'), ['feedback_id'], unique=False)


def downgrade():
    with op.batch_alter_table('feedback_moderation_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_moderation_events_feedback_id'))
    op.drop_table('feedback_moderation_events')
    with op.batch_alter_table('feedback_links', schema=None) as batch_op:
        batch_op.drop_column('nonce')

"""Mandates: a relative's right to act for a client gets scopes, a validity period
and who ended it. Existing rows keep every scope, open-ended.

Revision ID: mandates1
Revises: identity1
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'mandates1'
down_revision = 'identity1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('client_representatives', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ended_by_id', sa.Integer(), nullable=True))
        for name in ('may_see_services', 'may_send_messages', 'may_buy', 'may_give_feedback'):
            batch_op.add_column(sa.Column(name, sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('valid_from', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('valid_until', sa.Date(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_client_representatives_ended_by_id_users'), 'users',
                                    ['ended_by_id'], ['id'])


def downgrade():
    # Without scopes and dates every remaining row would mean full, open-ended
    # access: a limited, expired or future mandate is ended instead, so the
    # downgrade never widens what a relative may do.
    reps = sa.table('client_representatives', sa.column('ended_at', sa.DateTime(timezone=True)),
                    sa.column('may_see_services', sa.Boolean()), sa.column('may_send_messages', sa.Boolean()),
                    sa.column('may_buy', sa.Boolean()), sa.column('may_give_feedback', sa.Boolean()),
                    sa.column('valid_from', sa.Date()), sa.column('valid_until', sa.Date()))
    op.execute(reps.update().where(reps.c.ended_at.is_(None), sa.or_(
        reps.c.may_see_services.is_(False), reps.c.may_send_messages.is_(False), reps.c.may_buy.is_(False),
        reps.c.may_give_feedback.is_(False), reps.c.valid_until < sa.func.current_date(),
        reps.c.valid_from > sa.func.current_date())).values(ended_at=sa.func.current_timestamp()))
    with op.batch_alter_table('client_representatives', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_client_representatives_ended_by_id_users'), type_='foreignkey')
        for name in ('valid_until', 'valid_from', 'may_give_feedback', 'may_buy', 'may_send_messages',
                     'may_see_services', 'ended_by_id'):
            batch_op.drop_column(name)

"""add report run indexes

A partial unique index makes the monthly reports exactly once per kind and month
(the scheduled sweep checks before inserting; this is the backstop when two cron
schedulers run it at the same moment), and an index on created_at serves the list
of recent reports.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 08:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('report_runs', schema=None) as batch_op:
        batch_op.create_index('uq_report_runs_scheduled', ['kind', 'period_from', 'period_to'], unique=True,
                              sqlite_where=sa.text('scheduled'), postgresql_where=sa.text('scheduled'))
        batch_op.create_index('ix_report_runs_created_at', ['created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('report_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_report_runs_created_at')
        batch_op.drop_index('uq_report_runs_scheduled')

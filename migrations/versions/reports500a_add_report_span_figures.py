"""add report span figures

Pre-combined kept figures of aligned runs of 2, 4, 8, 16 or 32 closed months
(``report_span_figures``), built by the settle job from the kept months, so that
a report over a year combines a few parts per group instead of twelve; and
``report_months.through``: the current month's finished days are kept too (its
row keeps the days before ``through``), so that only today is computed live.

Revision ID: reports500a
Revises: perf1
Create Date: 2026-12-06 13:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'reports500a'
down_revision = 'perf1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'report_span_figures',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('start', sa.Date(), nullable=False),
        sa.Column('months', sa.Integer(), nullable=False),
        sa.Column('part', sa.Integer(), nullable=False),
        sa.Column('grouping', sa.String(length=30), nullable=False),
        sa.Column('figures', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_report_span_figures')),
        sa.UniqueConstraint('kind', 'start', 'months', 'part', 'grouping',
                            name='uq_report_span_figures_kind_start_months_part_grouping'),
    )
    with op.batch_alter_table('report_months', schema=None) as batch_op:
        batch_op.add_column(sa.Column('through', sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table('report_months', schema=None) as batch_op:
        batch_op.drop_column('through')
    op.drop_table('report_span_figures')

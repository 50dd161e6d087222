"""add report month figures

The kept figures of closed months per report kind, month and dimension
(``report_month_figures``), the months' state (``report_months``: settled or
stale), and an index on the date of visit reports (a month of delivered hours is
read by its dates).

Revision ID: reports1
Revises: 0007
Create Date: 2026-12-06 03:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'reports1'
down_revision = 'frontdoor1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'report_months',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('stale', sa.Boolean(), nullable=False),
        sa.Column('changes', sa.Integer(), nullable=False),
        sa.Column('parts', sa.Integer(), nullable=False),
        sa.Column('format_version', sa.Integer(), nullable=False),
        sa.Column('computed_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_report_months')),
        sa.UniqueConstraint('kind', 'month', name='uq_report_months_kind_month'),
    )
    op.create_table(
        'report_month_figures',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('part', sa.Integer(), nullable=False),
        sa.Column('grouping', sa.String(length=30), nullable=False),
        sa.Column('figures', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_report_month_figures')),
        sa.UniqueConstraint('kind', 'month', 'part', 'grouping',
                            name='uq_report_month_figures_kind_month_part_grouping'),
    )
    with op.batch_alter_table('visit_reports', schema=None) as batch_op:
        batch_op.create_index('ix_visit_reports_date', ['date'], unique=False)


def downgrade():
    with op.batch_alter_table('visit_reports', schema=None) as batch_op:
        batch_op.drop_index('ix_visit_reports_date')
    op.drop_table('report_month_figures')
    op.drop_table('report_months')

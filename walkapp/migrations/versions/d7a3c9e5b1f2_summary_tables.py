"""summary tables for the lägesbild, the inbox and the maps (counts per day × group or cell), filled from the items

Revision ID: d7a3c9e5b1f2
Revises: d13a7f0c2e51
Create Date: 2026-12-03 06:30:00

The tables are filled here from the existing items (the same code as `walkapp rebuild-summaries`,
which can be run again at any time, e.g. after changing BABEL_DEFAULT_TIMEZONE).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd7a3c9e5b1f2'
down_revision = 'd13a7f0c2e51'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'summary_daily',
        sa.Column('dim', sa.String(length=12), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('night', sa.Boolean(), nullable=False),
        sa.Column('value', sa.String(length=40), nullable=False),
        sa.Column('weekday', sa.SmallInteger(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.Column('rated', sa.Integer(), nullable=False),
        sa.Column('rating_sum', sa.Integer(), nullable=False),
        sa.Column('rating_squares', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('dim', 'day', 'night', 'value', name=op.f('pk_summary_daily')),
    )
    op.create_table(
        'summary_fixed',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('night', sa.Boolean(), nullable=False),
        sa.Column('weekday', sa.SmallInteger(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('tenths', sa.Integer(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.Column('with_due', sa.Integer(), nullable=False),
        sa.Column('on_time', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('day', 'night', 'weekday', 'organisation_id', 'tenths', name=op.f('pk_summary_fixed')),
    )
    op.create_table(
        'summary_open',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('night', sa.Boolean(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('due_date', sa.Date(), nullable=False),
        sa.Column('weekday', sa.SmallInteger(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('day', 'night', 'kind', 'status', 'organisation_id', 'due_date',
                                name=op.f('pk_summary_open')),
    )
    op.create_table(
        'summary_status',
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('dim', sa.String(length=12), nullable=False),
        sa.Column('value', sa.String(length=40), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('kind', 'status', 'dim', 'value', name=op.f('pk_summary_status')),
    )
    op.create_table(
        'summary_cell',
        sa.Column('level', sa.SmallInteger(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('night', sa.Boolean(), nullable=False),
        sa.Column('y', sa.Integer(), nullable=False),
        sa.Column('x', sa.Integer(), nullable=False),
        sa.Column('weekday', sa.SmallInteger(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('level', 'day', 'night', 'y', 'x', name=op.f('pk_summary_cell')),
    )
    op.create_table(
        'summary_place',
        sa.Column('level', sa.SmallInteger(), nullable=False),
        sa.Column('dim', sa.String(length=12), nullable=False),
        sa.Column('value', sa.String(length=40), nullable=False),
        sa.Column('y', sa.Integer(), nullable=False),
        sa.Column('x', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.Column('lat_sum', sa.BigInteger(), nullable=False),
        sa.Column('lon_sum', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('level', 'dim', 'value', 'y', 'x', 'kind', 'status', name=op.f('pk_summary_place')),
    )
    fill()


def fill():
    """Count the existing items, in this migration's transaction, with the app's own code (offline
    (--sql) there is nothing to read: run `walkapp rebuild-summaries` after applying the SQL)."""
    from alembic import context

    from walkapp import summaries

    if not context.is_offline_mode():
        summaries.rebuild(op.get_bind())


def downgrade():
    for table in ('summary_place', 'summary_cell', 'summary_status', 'summary_open', 'summary_fixed', 'summary_daily'):
        op.drop_table(table)

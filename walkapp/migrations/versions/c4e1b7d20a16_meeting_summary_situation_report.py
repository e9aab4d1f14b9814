"""meeting summary on walks; saved lägesbild reports

Revision ID: c4e1b7d20a16
Revises: b7e2c4d9a0f1
Create Date: 2026-12-02 23:58:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4e1b7d20a16'
down_revision = 'b7e2c4d9a0f1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('walk', schema=None) as batch_op:
        batch_op.add_column(sa.Column('meeting_summary', sa.Text(), nullable=False, server_default=''))
    op.create_table(
        'situation_report',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('period_start', sa.Date(), nullable=False),
        sa.Column('period_end', sa.Date(), nullable=False),
        sa.Column('scope', sa.JSON(), nullable=False),
        sa.Column('analysis', sa.Text(), nullable=False),
        sa.Column('sources_used', sa.JSON(), nullable=False),
        sa.Column('sources_not_used', sa.Text(), nullable=False),
        sa.Column('figures', sa.JSON(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_situation_report_created_by_id_user'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_situation_report')),
    )
    with op.batch_alter_table('situation_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_situation_report_created_at'), ['created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('situation_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_situation_report_created_at'))
    op.drop_table('situation_report')
    with op.batch_alter_table('walk', schema=None) as batch_op:
        batch_op.drop_column('meeting_summary')

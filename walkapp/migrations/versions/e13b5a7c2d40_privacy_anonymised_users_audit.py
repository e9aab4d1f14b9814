"""privacy: anonymised users, privacy audit log

Revision ID: e13b5a7c2d40
Revises: c4e1b7d20a16
Create Date: 2026-12-03 06:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e13b5a7c2d40'
down_revision = 'c4e1b7d20a16'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('anonymised_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        'privacy_audit',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('via', sa.String(length=10), nullable=False),
        sa.Column('action', sa.String(length=20), nullable=False),
        sa.Column('subject_hash', sa.String(length=64), nullable=True),
        sa.Column('counts', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['actor_id'], ['user.id'], name=op.f('fk_privacy_audit_actor_id_user'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_privacy_audit')),
    )
    with op.batch_alter_table('privacy_audit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_privacy_audit_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_privacy_audit_subject_hash'), ['subject_hash'], unique=False)


def downgrade():
    with op.batch_alter_table('privacy_audit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_privacy_audit_subject_hash'))
        batch_op.drop_index(batch_op.f('ix_privacy_audit_at'))
    op.drop_table('privacy_audit')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('anonymised_at')

"""rate counts: the login failure counter also counts guest uploads and join attempts

Revision ID: b7e2c4d9a0f1
Revises: c4e8a2f1b9d3
Create Date: 2026-12-03 00:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7e2c4d9a0f1'
down_revision = 'c4e8a2f1b9d3'
branch_labels = None
depends_on = None


def upgrade():
    # Existing rows are sign-in failures: scope 'login', amount 1.
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_failure_email_hash'))
        batch_op.alter_column('email_hash', new_column_name='key_hash',
                              existing_type=sa.String(length=64), existing_nullable=False)
        batch_op.add_column(sa.Column('scope', sa.String(length=30), server_default='login', nullable=False))
        batch_op.add_column(sa.Column('amount', sa.Integer(), server_default='1', nullable=False))
    op.create_index(op.f('ix_login_failure_key_hash'), 'login_failure', ['key_hash'], unique=False)


def downgrade():
    # Rows of other scopes stay; their HMACs never match an address's, and they age out.
    op.drop_index(op.f('ix_login_failure_key_hash'), table_name='login_failure')
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.drop_column('amount')
        batch_op.drop_column('scope')
        batch_op.alter_column('key_hash', new_column_name='email_hash',
                              existing_type=sa.String(length=64), existing_nullable=False)
    op.create_index(op.f('ix_login_failure_email_hash'), 'login_failure', ['email_hash'], unique=False)

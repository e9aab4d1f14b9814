"""pending_delete: storage keys whose photo files are still to be deleted

Revision ID: f2b8d4a6c1e3
Revises: d7a3c9e5b1f2
Create Date: 2026-12-03 09:50:00

A photo's old files (after a redaction, or when the photo is deleted) are recorded here in the
same transaction as the change, and the row goes once the files are gone; `walkapp retention`
retries what a failed deletion left.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f2b8d4a6c1e3'
down_revision = 'd7a3c9e5b1f2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'pending_delete',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('since', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_pending_delete')),
    )
    with op.batch_alter_table('pending_delete', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pending_delete_since'), ['since'], unique=False)


def downgrade():
    with op.batch_alter_table('pending_delete', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pending_delete_since'))
    op.drop_table('pending_delete')

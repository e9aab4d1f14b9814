"""photos: face detection result, "may show people", review and redaction times

Revision ID: d13a7f0c2e51
Revises: d7a3c91e5f42
Create Date: 2026-12-03 06:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd13a7f0c2e51'
down_revision = 'd7a3c91e5f42'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('photo', schema=None) as batch_op:
        batch_op.add_column(sa.Column('faces_checked_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('face_boxes', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('may_show_people', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('people_reviewed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('redacted_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('photo', schema=None) as batch_op:
        batch_op.drop_column('redacted_at')
        batch_op.drop_column('people_reviewed_at')
        batch_op.drop_column('may_show_people')
        batch_op.drop_column('face_boxes')
        batch_op.drop_column('faces_checked_at')

"""outbox: failed_at; no bodies (sign-in links) kept for sent mails

Revision ID: c4e8a2f1b9d3
Revises: a1d359daf2fa
Create Date: 2026-12-02 23:59:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4e8a2f1b9d3'
down_revision = 'a1d359daf2fa'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN (no table rebuild on SQLite).
    with op.batch_alter_table('outbox_mail', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True))
    # Sent mails kept their bodies, and with them live sign-in links: keep no usable token at rest.
    outbox = sa.table('outbox_mail', sa.column('sent_at', sa.DateTime(timezone=True)),
                      sa.column('body_text', sa.Text()), sa.column('body_html', sa.Text()))
    op.execute(outbox.update().where(outbox.c.sent_at.is_not(None)).values(body_text='', body_html=''))


def downgrade():
    # The blanked bodies cannot come back (and must not).
    with op.batch_alter_table('outbox_mail', schema=None) as batch_op:
        batch_op.drop_column('failed_at')

"""observation may hold personal data

Revision ID: d7a3c91e5f42
Revises: e13b5a7c2d40
Create Date: 2026-12-03 06:30:00

"""
from alembic import op
import sqlalchemy as sa

from walkapp import personal_data

# revision identifiers, used by Alembic.
revision = 'd7a3c91e5f42'
down_revision = 'e13b5a7c2d40'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('may_hold_personal_data', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
    # Mark the descriptions already stored, as a new or edited one is marked.
    observation = sa.table('observation', sa.column('id', sa.Integer), sa.column('description', sa.Text),
                           sa.column('may_hold_personal_data', sa.Boolean))
    connection = op.get_bind()
    rows = connection.execute(sa.select(observation.c.id, observation.c.description)
                              .where(observation.c.description != '')).all()
    flagged = [row.id for row in rows if personal_data.looks_personal(row.description)]
    for start in range(0, len(flagged), 500):
        connection.execute(observation.update().where(observation.c.id.in_(flagged[start:start + 500]))
                           .values(may_hold_personal_data=True))


def downgrade():
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.drop_column('may_hold_personal_data')

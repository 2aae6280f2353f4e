"""report index on sessions

The program report counts a period's held sessions by kind, place, learner and month from
this covering index alone (tutoring/reports/models.py).

Revision ID: c6658f5ecb14
Revises: 1aed7dd53e78
Create Date: 2026-11-27 01:09:12.911358

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c6658f5ecb14'
down_revision = '1aed7dd53e78'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.create_index(
            'ix_sessions_report',
            ['status', 'starts_at', 'kind', 'mode', 'venue_id', 'learner_id', 'ends_at'],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_sessions_report')

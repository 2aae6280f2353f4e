"""encrypt cancel reasons

Revision ID: 499e8e83e44d
Revises: dc0096d4e5dc
Create Date: 2026-11-26 22:16:52.280726

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '499e8e83e44d'
down_revision = 'dc0096d4e5dc'
branch_labels = None
depends_on = None


# Cancel reasons become EncryptedText (tutoring/crypto.py): reasons written before are
# encrypted here with the current data key; the column type in the database stays TEXT.
COLUMNS = (("sessions", "id", "cancel_reason"), ("session_changes", "id", "reason"))


def _rewrite(convert):
    connection = op.get_bind()
    for table_name, key, column in COLUMNS:
        table = sa.table(table_name, sa.column(key, sa.Integer), sa.column(column, sa.Text))
        rows = connection.execute(sa.select(table.c[key], table.c[column]).where(table.c[column].isnot(None))).all()
        for row_id, value in rows:
            new = convert(value)
            if new != value:
                connection.execute(table.update().where(table.c[key] == row_id).values({column: new}))


def upgrade():
    from tutoring.crypto import PREFIX, encrypt

    _rewrite(lambda value: value if value.startswith(PREFIX + ":") else encrypt(value))


def downgrade():
    from tutoring.crypto import PREFIX, decrypt

    _rewrite(lambda value: decrypt(value) if value.startswith(PREFIX + ":") else value)

"""encrypt notes and case reviews

Revision ID: 84bf539e1846
Revises: db6f3e0bc7c1
Create Date: 2026-11-26 22:59:42.927278

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '84bf539e1846'
down_revision = 'db6f3e0bc7c1'
branch_labels = None
depends_on = None


# Study notes, their earlier versions and case reviews become encrypted at rest
# (tutoring/crypto.py). Text columns keep their type; the revisions' JSON column becomes TEXT.
TEXT_COLUMNS = (
    ("study_notes", ("body", "homework", "next_steps")),
    ("case_reviews", ("situation", "decisions")),
)


def _rewrite(table_name, columns, convert):
    connection = op.get_bind()
    table = sa.table(table_name, sa.column("id", sa.Integer), *(sa.column(c, sa.Text) for c in columns))
    for row in connection.execute(sa.select(table.c.id, *(table.c[c] for c in columns))).all():
        values = {c: convert(v) for c, v in zip(columns, row[1:]) if v is not None}
        if values:
            connection.execute(table.update().where(table.c.id == row[0]).values(values))


def upgrade():
    import json

    from tutoring.crypto import PREFIX, encrypt

    def seal(value):
        return value if value.startswith(PREFIX + ":") else encrypt(value)

    with op.batch_alter_table("study_note_revisions", schema=None) as batch_op:
        batch_op.alter_column("before", existing_type=sa.JSON(), type_=sa.Text(), postgresql_using="before::text")
    for table_name, columns in TEXT_COLUMNS:
        _rewrite(table_name, columns, seal)
    _rewrite("study_note_revisions", ("before",), lambda v: seal(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)))


def downgrade():
    from tutoring.crypto import PREFIX, decrypt

    def open_(value):
        return decrypt(value) if value.startswith(PREFIX + ":") else value

    for table_name, columns in TEXT_COLUMNS:
        _rewrite(table_name, columns, open_)
    _rewrite("study_note_revisions", ("before",), open_)
    with op.batch_alter_table("study_note_revisions", schema=None) as batch_op:
        batch_op.alter_column("before", existing_type=sa.Text(), type_=sa.JSON(), postgresql_using="before::json")

"""`flask db upgrade` on an empty database reaches exactly the models' schema."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from tests.conftest import BASE_CONFIG, POSTGRES_URL, new_postgres_database
from tutoring import create_app
from tutoring.extensions import db

BACKENDS = ["sqlite", *(["postgresql"] if POSTGRES_URL else [])]


@pytest.fixture(params=BACKENDS)
def empty_database(request, tmp_path):
    """Yield the URL of a new, empty database of each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/empty.sqlite3"
        return
    with new_postgres_database("manabi_migrations") as url:
        yield url


def test_upgrade_reaches_the_models_schema(empty_database, tmp_path):
    app = create_app({**BASE_CONFIG, "DATABASE_URL": empty_database}, instance_path=str(tmp_path))
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
        db.engine.dispose()
    assert differences == []


def test_downgrade_to_base_and_up_again(empty_database, tmp_path):
    app = create_app({**BASE_CONFIG, "DATABASE_URL": empty_database}, instance_path=str(tmp_path))
    runner = app.test_cli_runner()
    for command in (["db", "upgrade"], ["db", "downgrade", "base"], ["db", "upgrade"]):
        result = runner.invoke(args=command)
        assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.execute(text("SELECT count(*) FROM users")).scalar() == 0
        db.session.remove()
        db.engine.dispose()

"""`flask db upgrade` on an empty database reaches exactly the models' schema."""

from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import BASE_CONFIG, POSTGRES_URL, postgres_reachable, service_missing
from tutoring import create_app
from tutoring.extensions import db

BACKENDS = ["sqlite", *(["postgresql"] if POSTGRES_URL else [])]


@pytest.fixture(params=BACKENDS)
def empty_database(request, tmp_path):
    """Yield the URL of a new, empty database of each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/empty.sqlite3"
        return
    if not postgres_reachable(POSTGRES_URL):
        service_missing("PostgreSQL is not reachable")
    name = f"manabi_migrations_{uuid.uuid4().hex[:8]}"
    admin = create_engine(
        make_url(POSTGRES_URL).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


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

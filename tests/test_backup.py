"""`flask --app wsgi backup` and `restore`: a round trip brings back the data and the files."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from tests.conftest import BASE_CONFIG, new_postgres_database, tokyo
from tutoring import create_app
from tutoring.extensions import db
from tutoring.people.models import User
from tutoring.scheduling.models import TutoringSession


@pytest.fixture
def filled(app, program, book):
    """The test's app with people, a session and an uploaded file."""
    ids = book(tokyo(2026, 12, 1, 16, 0))
    upload = Path(app.instance_path, "whiteboard", "1")
    upload.mkdir(parents=True)
    (upload / "photo.jpg").write_bytes(b"\xff\xd8 a worksheet photo")
    return ids


def backup(app, tmp_path):
    archive = tmp_path / "backup.tar.gz"
    result = app.test_cli_runner().invoke(args=["backup", "--output", str(archive)])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == str(archive)
    return archive


@pytest.fixture
def empty_target(app, tmp_path):
    """Yield the URL of a new empty database of the same kind as the test's."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path}/restored.sqlite3"
        return
    with new_postgres_database("manabi_restore") as url:
        yield url


def test_backup_and_restore_round_trip(app, tmp_path, filled, program, empty_target):
    archive = backup(app, tmp_path)
    with tarfile.open(archive) as opened:
        names = opened.getnames()
    assert "manifest.json" in names
    assert "files/whiteboard/1/photo.jpg" in names
    assert not any("secret" in name or name.endswith("config.py") for name in names)

    target_instance = tmp_path / "restored-instance"
    restored = create_app(
        {**BASE_CONFIG, "DATABASE_URL": empty_target}, instance_path=str(target_instance)
    )
    result = restored.test_cli_runner().invoke(args=["restore", "--input", str(archive)])
    assert result.exit_code == 0, result.output
    with restored.app_context():
        assert db.session.get(User, program.learner.id).name == "田中 陽向"
        assert db.session.query(TutoringSession).count() == 1
        db.session.remove()
        db.engine.dispose()
    assert (
        target_instance / "whiteboard/1/photo.jpg"
    ).read_bytes() == b"\xff\xd8 a worksheet photo"


def test_restore_refuses_a_database_with_data_unless_forced(app, tmp_path, filled):
    archive = backup(app, tmp_path)
    refused = app.test_cli_runner().invoke(args=["restore", "--input", str(archive)])
    assert refused.exit_code != 0
    assert "--force" in refused.output


def test_restore_refuses_unsafe_archives(app, tmp_path):
    evil = tmp_path / "evil.tar.gz"
    payload = tmp_path / "x"
    payload.write_text("{}")
    with tarfile.open(evil, "w:gz") as archive:
        archive.add(payload, arcname="../../escape.txt")
    result = app.test_cli_runner().invoke(args=["restore", "--input", str(evil), "--force"])
    assert result.exit_code != 0
    assert "unsafe path" in result.output
    assert not (tmp_path.parent.parent / "escape.txt").exists()

"""Consistent backups of the database and the uploaded files, and their restore.

A backup is one .tar.gz holding `manifest.json`, the database (`database.sqlite3` made with
SQLite's online backup API, or `database.pgdump` from pg_dump's custom format) and the
uploaded files under `files/` (everything in instance/ that Manabi wrote for users, such as
whiteboard images). Secrets (the secret key, instance/config.py, Jitsi keys) are not in it:
keep them apart, as docs/deploy.md explains.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from datetime import datetime
from pathlib import Path

from flask import Flask
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tutoring.database import utcnow
from tutoring.extensions import db

# Folders of instance/ that hold users' files; everything else there is configuration.
FILE_FOLDERS = ("whiteboard", "uploads")
FORMAT_VERSION = 1


class BackupError(Exception):
    """A backup or restore could not be made; the message says why."""


def _alembic_revision() -> str | None:
    try:
        return db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:
        db.session.rollback()
        return None


def _program(name: str) -> str:
    """Return the full path of a PostgreSQL client program, or explain that it is missing."""
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return path


def _holds_data() -> bool:
    """Tell whether the configured database already has accounts (restoring would replace them)."""
    try:
        return db.session.execute(text("SELECT 1 FROM users LIMIT 1")).first() is not None
    except Exception:
        db.session.rollback()  # no users table: a new, empty database
        return False


def _pg_environment(url) -> tuple[list[str], dict[str, str]]:
    """Return libpq connection arguments and environment (the password never on the command line)."""
    args = [
        "--host",
        url.host or "127.0.0.1",
        "--port",
        str(url.port or 5432),
        "--dbname",
        url.database,
    ]
    if url.username:
        args += ["--username", url.username]
    environment = dict(os.environ)
    if url.password:
        environment["PGPASSWORD"] = url.password
    return args, environment


def _dump_database(app: Flask, folder: Path) -> str:
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":
        target = folder / "database.sqlite3"
        source = sqlite3.connect(url.database)
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)  # consistent even while the server writes
        finally:
            copy.close()
            source.close()
        return target.name
    if url.get_backend_name() == "postgresql":
        target = folder / "database.pgdump"
        args, environment = _pg_environment(url)
        result = subprocess.run(  # noqa: S603 (a fixed program, arguments from configuration)
            [_program("pg_dump"), "--format=custom", "--no-owner", "--file", str(target), *args],
            env=environment,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
        return target.name
    raise BackupError(f"backups of {url.get_backend_name()} databases are not supported")


def make_backup(app: Flask, output: Path, now: datetime | None = None) -> dict:
    """Write a backup archive to output and return its manifest."""
    instance = Path(app.instance_path)
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        database_file = _dump_database(app, folder)
        files = [name for name in FILE_FOLDERS if (instance / name).is_dir()]
        manifest = {
            "format": FORMAT_VERSION,
            "created_at": (now or utcnow()).isoformat(),
            "database": database_file,
            "alembic_revision": _alembic_revision(),
            "files": files,
        }
        (folder / "manifest.json").write_text(json.dumps(manifest, indent=2))
        output.parent.mkdir(parents=True, exist_ok=True)
        partial = output.with_suffix(output.suffix + ".partial")
        with tarfile.open(partial, "w:gz") as archive:
            archive.add(folder / "manifest.json", arcname="manifest.json")
            archive.add(folder / database_file, arcname=database_file)
            for name in files:
                archive.add(instance / name, arcname=f"files/{name}")
        partial.replace(output)  # a half-written archive never carries the final name
    return manifest


def _safe_members(archive: tarfile.TarFile) -> list[tarfile.TarInfo]:
    """Refuse archives with absolute paths, parent references or links."""
    members = archive.getmembers()
    for member in members:
        path = Path(member.name)
        if path.is_absolute() or ".." in path.parts or member.issym() or member.islnk():
            raise BackupError(f"unsafe path in backup: {member.name}")
    return members


def restore_backup(app: Flask, archive_path: Path, *, force: bool = False) -> dict:
    """Restore a backup into the configured database and instance folder; return its manifest."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    instance = Path(app.instance_path)
    with tempfile.TemporaryDirectory() as work, tarfile.open(archive_path, "r:gz") as archive:
        folder = Path(work)
        archive.extractall(folder, members=_safe_members(archive), filter="data")
        manifest = json.loads((folder / "manifest.json").read_text())
        if manifest.get("format") != FORMAT_VERSION:
            raise BackupError("this backup was made by an incompatible version")
        if not force and _holds_data():
            raise BackupError("the database is not empty; pass --force to replace it")
        database_file = folder / manifest["database"]
        db.session.remove()
        db.engine.dispose()
        if database_file.suffix == ".sqlite3":
            if url.get_backend_name() != "sqlite":
                raise BackupError("this backup holds a SQLite database; the configured one is not")
            target = Path(url.database)
            for suffix in ("-wal", "-shm"):
                Path(f"{target}{suffix}").unlink(missing_ok=True)
            shutil.copyfile(database_file, target)
        else:
            if url.get_backend_name() != "postgresql":
                raise BackupError(
                    "this backup holds a PostgreSQL dump; the configured database is not"
                )
            args, environment = _pg_environment(url)
            result = subprocess.run(  # noqa: S603 (a fixed program, arguments from configuration)
                [
                    _program("pg_restore"),
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    "--exit-on-error",
                    *args,
                    str(database_file),
                ],
                env=environment,
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                raise BackupError(f"pg_restore failed: {result.stderr.strip()}")
        for name in manifest["files"]:
            if name not in FILE_FOLDERS:
                raise BackupError(f"unexpected folder in backup: {name}")
            shutil.rmtree(instance / name, ignore_errors=True)
            shutil.copytree(folder / "files" / name, instance / name)
    return manifest

"""Commands run through `flask --app wsgi …`."""

from __future__ import annotations

import click
from flask import Flask

from tutoring.extensions import db
from tutoring.validation import ValidationError


def register(app: Flask) -> None:
    """Attach the project's commands to the app's CLI."""
    from tutoring.notify.cli import register as register_notify

    register_notify(app)

    @app.cli.group()
    def users() -> None:
        """Manage accounts."""

    @users.command("create")
    @click.option("--email", required=True)
    @click.option("--name", required=True)
    @click.option(
        "--role", required=True, type=click.Choice(["learner", "tutor", "coordinator", "admin"])
    )
    @click.option("--password", default=None, help="Without it, sign-in needs an invitation.")
    def create_user(email: str, name: str, role: str, password: str | None) -> None:
        """Create an account and print its id as the last line."""
        from tutoring.people import service
        from tutoring.people.models import Role

        try:
            user = service.create_user(
                None, email=email, name=name, role=Role(role), password=password
            )
        except ValidationError as error:
            raise click.UsageError(f"{error.field}: {error.message}") from None
        db.session.commit()
        click.echo(user.id)

    @app.cli.group()
    def tokens() -> None:
        """Manage personal API tokens."""

    @tokens.command("create")
    @click.option("--email", required=True)
    @click.option("--name", default="command line")
    def create_token(email: str, name: str) -> None:
        """Create a personal API token for an account and print it as the last line."""
        from tutoring.auth import service
        from tutoring.people.service import find_by_sign_in_name

        user = find_by_sign_in_name(email)
        if user is None:
            raise click.UsageError(f"no account with e-mail {email}")
        _token, raw = service.create_token(user, name)
        db.session.commit()
        click.echo(raw)

    @app.cli.group("data-keys")
    def data_keys() -> None:
        """Manage the keys that encrypt notes and case reviews at rest."""

    @data_keys.command("new")
    def new_data_key() -> None:
        """Print a new random key for TUTORING_DATA_KEYS__<id>."""
        from tutoring.crypto import new_key

        click.echo(new_key())

    @data_keys.command("rotate")
    def rotate_data_keys() -> None:
        """Re-encrypt every stored value with TUTORING_DATA_KEY_CURRENT (keep old keys until done)."""
        from tutoring.crypto import DecryptionError, encrypted_columns, rotate

        try:
            changed = rotate(encrypted_columns(db.metadata))
        except DecryptionError as error:
            db.session.rollback()
            raise click.ClickException(str(error)) from None
        db.session.commit()
        click.echo(f"re-encrypted {changed} values")

    @app.cli.command("backup")
    @click.option(
        "--output", type=click.Path(dir_okay=False), default=None, help="The archive to write."
    )
    def backup(output: str | None) -> None:
        """Write a consistent backup (database and uploaded files); print its path last."""
        from pathlib import Path

        from tutoring.backup import BackupError, make_backup
        from tutoring.database import utcnow

        path = (
            Path(output)
            if output
            else Path(app.instance_path, "backups", f"manabi-{utcnow():%Y%m%d-%H%M%S}.tar.gz")
        )
        try:
            manifest = make_backup(app, path)
        except BackupError as error:
            raise click.ClickException(str(error)) from None
        click.echo(
            f"database {manifest['database']}, revision {manifest['alembic_revision']}, files {manifest['files']}"
        )
        click.echo(str(path))

    @app.cli.command("restore")
    @click.option("--input", "archive", type=click.Path(exists=True, dir_okay=False), required=True)
    @click.option("--force", is_flag=True, help="Replace a database that already holds data.")
    def restore(archive: str, force: bool) -> None:
        """Restore a backup made by `backup` into the configured database and instance folder."""
        from pathlib import Path

        from tutoring.backup import BackupError, restore_backup

        try:
            manifest = restore_backup(app, Path(archive), force=force)
        except BackupError as error:
            raise click.ClickException(str(error)) from None
        click.echo(
            f"restored the backup of {manifest['created_at']} (revision {manifest['alembic_revision']})"
        )

    from tutoring.attendance.cli import attendance
    from tutoring.production import serve_prod

    app.cli.add_command(attendance)
    app.cli.add_command(serve_prod)

    @app.cli.command("demo")
    @click.option("--if-empty", is_flag=True, help="Load only into a database without accounts.")
    def demo(if_empty: bool) -> None:
        """Load the demo program (idempotent) and print its accounts."""
        from tutoring.demo import DEMO_PASSWORD, database_is_empty, demo_accounts, load_demo

        if if_empty and not database_is_empty():
            accounts = demo_accounts()
            if not accounts:
                click.echo("The database holds data already; no demo data loaded.")
                return
        else:
            accounts = load_demo()
            db.session.commit()
        click.echo(f"Demo accounts (password for all: {DEMO_PASSWORD}):")
        for user in accounts:
            click.echo(f"  {user.role.value:<12} {user.sign_in_name:<28} {user.name}")

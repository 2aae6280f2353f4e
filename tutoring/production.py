"""The production server: migrations, then N gunicorn processes with gevent-websocket.

`flask --app wsgi serve-prod` (and `make serve-prod`) checks the settings a program needs,
applies the database migrations, then starts one gunicorn per process on consecutive ports
(PORT, PORT+1, …), each with one gevent-websocket worker. Socket.IO's long-polling fallback
needs every request of a client to reach the same process, which one gunicorn with several
workers cannot promise: the proxy in front chooses the process per client (nginx hashes the
board named in the Socket.IO query, deploy/nginx.conf, so a board's people share a process)
and the Redis message queue joins the rooms that still span processes (tutoring/realtime.py).
tutoring/supervisor.py then restarts a process that dies and stops them all on SIGTERM or SIGINT.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

ROOT = Path(__file__).resolve().parent.parent
# gevent-websocket's worker, logging requests to gunicorn's access log (see the module).
WORKER_CLASS = "tutoring.gunicorn_worker.Worker"
# Seconds a process gets to finish its requests and close its sockets after SIGTERM.
GRACEFUL_SECONDS = 10


class SettingsError(click.ClickException):
    """The deployment lacks something it needs; the message says what to set."""


def default_workers() -> int:
    """Return one process per core this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def settings_problems(config: Mapping[str, Any], workers: int) -> list[str]:
    """Return what keeps this configuration from serving in production (empty: nothing)."""
    problems = []
    if config.get("ENV") in ("development", "testing"):
        problems.append(
            f"TUTORING_ENV is {config.get('ENV')!r}: the production server runs with "
            "TUTORING_ENV=production (the default) and its secrets set (docs/deploy.md)."
        )
    url = str(config.get("DATABASE_URL") or "")
    if not url.startswith("postgresql"):
        problems.append(
            "TUTORING_DATABASE_URL must name the PostgreSQL database, e.g. "
            "postgresql+psycopg://manabi@db/manabi (SQLite is for `make run` only)."
        )
    if workers < 1:
        problems.append("WORKERS must be at least 1.")
    if workers > 1 and not config.get("REDIS_URL"):
        problems.append(
            f"{workers} processes share whiteboard rooms only through Redis: set "
            "TUTORING_REDIS_URL (e.g. redis://127.0.0.1:6379/0), or run WORKERS=1."
        )
    return problems


def gunicorn_command(host: str, port: int) -> list[str]:
    """Return the command of one server process on host:port."""
    from gunicorn import config as gunicorn_config

    # gunicorn 25+ opens a control socket at one fixed path per user: processes would share it.
    control = ["--no-control-socket"] if hasattr(gunicorn_config, "ControlSocketDisable") else []
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--worker-class",
        WORKER_CLASS,
        "--workers",
        "1",
        "--bind",
        f"{host}:{port}",
        "--graceful-timeout",
        str(GRACEFUL_SECONDS),
        "--name",
        f"manabi-{port}",
        # The access log with the app's redaction: no tokens, query strings or cookies.
        "--logger-class",
        "tutoring.logs.GunicornLogger",
        "--access-logfile",
        "-",
        *control,
        "wsgi:app",
    ]


def server_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """Return the environment of a server process: the launcher's, in gevent mode."""
    return {**environ, "TUTORING_SOCKETIO_ASYNC_MODE": "gevent", "PYTHONUNBUFFERED": "1"}


def upgrade_database() -> None:
    """Apply the migrations (the app context is the command's)."""
    from flask_migrate import upgrade

    from tutoring.extensions import db

    upgrade()
    db.session.remove()
    db.engine.dispose()  # the servers open their own connections


@click.command("serve-prod")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--port", default=8001, show_default=True, help="Port of the first process; +1 per process."
)
@click.option(
    "--workers",
    type=int,
    default=None,
    envvar="WORKERS",
    help="Server processes (default: one per core).",
)
def serve_prod(host: str, port: int, workers: int | None) -> None:
    """Migrate the database, then serve with one gunicorn (gevent-websocket) per process."""
    from flask import current_app

    workers = default_workers() if workers is None else workers
    problems = settings_problems(current_app.config, workers)
    if problems:
        raise SettingsError("the production server does not start:\n  " + "\n  ".join(problems))
    try:
        import gevent  # noqa: F401
        import geventwebsocket  # noqa: F401
        import gunicorn  # noqa: F401
    except ImportError as error:
        raise SettingsError(
            f"{error.name} is not installed: pip install -e '.[prod]' (make serve-prod does)"
        ) from None
    click.echo("applying database migrations")
    upgrade_database()
    # The supervisor needs none of the app: replace this process (same pid, for systemd and
    # signals) by a bare interpreter running tutoring/supervisor.py, ~10 MiB instead of ~150.
    spec = {
        "host": host,
        "commands": {str(port + n): gunicorn_command(host, port + n) for n in range(workers)},
        "cwd": str(ROOT),
    }
    sys.stdout.flush()
    sys.stderr.flush()
    supervisor = str(Path(__file__).with_name("supervisor.py"))
    os.execve(  # noqa: S606
        sys.executable,
        # -P: tutoring/ is not put on sys.path, so none of its modules shadows the stdlib's.
        [sys.executable, "-P", supervisor, json.dumps(spec)],
        server_environment(os.environ),
    )

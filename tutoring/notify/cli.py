"""`flask --app wsgi notify …`: run the scheduler once or continuously, make VAPID keys."""

from __future__ import annotations

import signal
import threading
import time

import click
from flask import Flask, current_app


def register(app: Flask) -> None:
    """Attach the notify command group."""

    @app.cli.group()
    def notify() -> None:
        """Reminders and follow-up messages."""

    @notify.command("run-once")
    @click.option("--limit", type=click.IntRange(1, 10_000), default=None, help="Messages at most.")
    def run_once_command(limit: int | None) -> None:
        """Queue what is due, deliver it, and print a summary."""
        from tutoring.notify.worker import run_once

        click.echo(str(run_once(limit=limit)))

    @notify.command("worker")
    @click.option(
        "--interval",
        type=click.FloatRange(0.1, 3600),
        default=None,
        help="Seconds between ticks (NOTIFY_POLL_SECONDS).",
    )
    @click.option(
        "--max-iterations", type=click.IntRange(1), default=None, help="Stop after this many ticks."
    )
    @click.option(
        "--max-seconds", type=click.FloatRange(0.1), default=None, help="Stop after this long."
    )
    def worker_command(
        interval: float | None, max_iterations: int | None, max_seconds: float | None
    ) -> None:
        """Deliver due messages until stopped (SIGTERM or Ctrl-C finish the current tick)."""
        from tutoring.notify.worker import run_forever

        app = current_app._get_current_object()
        stop = threading.Event()

        def request_stop(*_args) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        timer = None
        if max_seconds is not None:
            timer = threading.Timer(max_seconds, stop.set)
            timer.daemon = True
            timer.start()
        started = time.monotonic()
        ticks = run_forever(
            app,
            interval=interval or float(app.config["NOTIFY_POLL_SECONDS"]),
            stop=stop,
            max_iterations=max_iterations,
        )
        if timer is not None:
            timer.cancel()
        click.echo(f"worker stopped after {ticks} tick(s), {time.monotonic() - started:.1f} s")

    @notify.command("vapid-keys")
    @click.option(
        "--force", is_flag=True, help="Replace an existing key: every device must subscribe again."
    )
    def vapid_keys_command(force: bool) -> None:
        """Create the Web Push key in instance/ and print the public key as the last line."""
        from tutoring.notify.channels.webpush import key_path, keys_from_pem, write_key_file

        app = current_app._get_current_object()
        path = key_path(app)
        if path.exists() and not force:
            keys = keys_from_pem(path.read_bytes())
            click.echo(f"{path} exists already (use --force to replace it).")
        else:
            keys = write_key_file(path)
            click.echo(f"wrote {path}")
        click.echo(keys.public_key)

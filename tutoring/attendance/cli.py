"""`flask --app wsgi attendance …`: the sweep by hand or from cron."""

from __future__ import annotations

from datetime import datetime

import click
from flask.cli import AppGroup

attendance = AppGroup("attendance", help="Attendance: close abandoned intervals, derive statuses.")


@attendance.command("sweep")
@click.option(
    "--now",
    "now_text",
    default=None,
    help="Sweep as if it were this ISO 8601 instant (with offset); for tests and repairs.",
)
@click.option(
    "--backfill",
    is_flag=True,
    help="Also derive sessions that ended longer ago than ATTENDANCE_DERIVE_WITHIN_DAYS and "
    "were never derived (after installing attendance on an existing program, or an outage).",
)
def sweep_command(now_text: str | None, backfill: bool) -> None:
    """Close intervals whose leave never came and derive the statuses of ended sessions.

    Idempotent; the server also runs it in the background every minute and when it starts.
    """
    from tutoring.attendance.tasks import sweep_all

    now = None
    if now_text:
        try:
            now = datetime.fromisoformat(now_text)
        except ValueError:
            raise click.BadParameter("give an ISO 8601 date-time", param_hint="--now") from None
        if now.tzinfo is None:
            raise click.BadParameter("give the offset, e.g. +09:00", param_hint="--now")
    result = sweep_all(now, backfill=backfill)
    if result.skipped:
        click.echo("Another process is sweeping; nothing done.")
        return
    click.echo(
        f"settled {result.settled} participant(s), stored {result.intervals} interval(s) "
        f"({result.closed_by_sweep} closed by the sweep), derived {result.derived} session(s)"
    )


@attendance.command("prune")
def prune_command() -> None:
    """Delete raw presence reports older than ATTENDANCE_EVENT_RETENTION_DAYS.

    Only reports already folded into stored intervals (and observers' reports) go; the
    server also does this once an hour.
    """
    from tutoring.attendance.tasks import prune_all

    click.echo(f"deleted {prune_all()} presence report(s)")

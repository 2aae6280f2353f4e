"""Running the sweep: the `attendance sweep` command and the server's background task.

Nothing runs in create_app (no database work at start, and `flask db upgrade` must work on an
empty database). The server starts its sweeper on the first request it handles, which is right
after a (re)start: a health check or the first page. The first round runs at once, so a server
killed while people were in a room closes their intervals as soon as it is back.
"""

from __future__ import annotations

import threading
from datetime import datetime

from flask import Flask, current_app
from sqlalchemy.exc import IntegrityError, OperationalError

from tutoring.attendance import service
from tutoring.extensions import db, socketio

_start_lock = threading.Lock()
PRUNE_BATCH = 5000


def sweep_all(
    now: datetime | None = None, *, batch: int = 200, backfill: bool = False
) -> service.SweepResult:
    """Sweep until no work remains, committing after each batch."""
    total = service.SweepResult()
    while True:
        result = service.sweep(now, batch=batch, backfill=backfill)
        db.session.commit()
        total.add(result)
        if result.skipped:
            total.skipped = True
            return total
        if not result.more:
            return total


def prune_all(now: datetime | None = None) -> int:
    """Delete every raw presence report past its retention, committing after each batch."""
    total = 0
    while True:
        deleted = service.prune_presence_events(now, batch=PRUNE_BATCH)
        db.session.commit()
        total += deleted
        if deleted < PRUNE_BATCH:
            return total


def _sweep_forever(app: Flask, interval: float) -> None:
    rounds = 0
    while True:
        with app.app_context():
            try:
                sweep_all()
                # Pruning is slow work on a big table: once an hour (and at start) is plenty.
                if rounds % max(1, int(3600 / interval)) == 0:
                    prune_all()
            except (IntegrityError, OperationalError) as error:
                # Another process swept the same participants first, or SQLite was busy:
                # nothing was stored, the next round picks up what is left.
                db.session.rollback()
                app.logger.warning("attendance sweep deferred: %s", error.__class__.__name__)
            except Exception:
                db.session.rollback()
                app.logger.exception("attendance sweep failed")
            finally:
                db.session.remove()
        rounds += 1
        socketio.sleep(interval)


def start_background_sweep() -> None:
    """Start this process's sweeper once (not under tests, not when the interval is 0)."""
    app = current_app._get_current_object()
    if "attendance_sweeper" in app.extensions:
        return
    with _start_lock:
        if "attendance_sweeper" in app.extensions:
            return
        interval = app.config.get("ATTENDANCE_SWEEP_INTERVAL_SECONDS") or 0
        if app.testing or interval <= 0:
            app.extensions["attendance_sweeper"] = None
            return
        app.extensions["attendance_sweeper"] = socketio.start_background_task(
            _sweep_forever, app, float(interval)
        )

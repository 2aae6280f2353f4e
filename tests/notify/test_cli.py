"""The notify commands: one tick, a bounded worker loop, the VAPID key."""

from __future__ import annotations

from datetime import timedelta

from tests.notify.conftest import messages
from tutoring.database import utcnow
from tutoring.notify.channels.webpush import keys_from_pem


def test_run_once_delivers_what_is_due_and_says_so(app, runner, program, book, link_line, line_api):
    link_line(program.learner, quiet_start=None, quiet_end=None)  # whatever the clock says
    start = (utcnow() + timedelta(minutes=50)).replace(second=0, microsecond=0)
    book(start, minutes=60)
    result = runner.invoke(args=["notify", "run-once"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "planned 1; sent 1"
    assert [m["kind"] for m in messages(app)] == ["reminder_hour"]
    again = runner.invoke(args=["notify", "run-once"])
    assert again.output.strip() == "planned 0; nothing due"


def test_the_worker_stops_after_its_bound(runner):
    result = runner.invoke(args=["notify", "worker", "--interval", "0.1", "--max-iterations", "3"])
    assert result.exit_code == 0, result.output
    assert "worker stopped after 3 tick(s)" in result.output
    timed = runner.invoke(args=["notify", "worker", "--interval", "0.1", "--max-seconds", "0.3"])
    assert timed.exit_code == 0, timed.output
    assert "worker stopped after" in timed.output


def test_vapid_keys_are_made_once_in_the_instance_folder(app, runner):
    result = runner.invoke(args=["notify", "vapid-keys"])
    assert result.exit_code == 0, result.output
    path = app.instance_path + "/vapid-private.pem"
    with open(path, "rb") as handle:
        public = keys_from_pem(handle.read()).public_key
    assert result.output.strip().splitlines()[-1] == public
    again = runner.invoke(args=["notify", "vapid-keys"])
    assert "exists already" in again.output
    assert again.output.strip().splitlines()[-1] == public
    import os
    import stat

    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_the_demo_gives_settings_and_a_short_history_once(app, runner):
    from tutoring.extensions import db
    from tutoring.notify.models import NotificationPreference, OutboxMessage

    for _ in range(2):
        result = runner.invoke(args=["demo"])
        assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.query(NotificationPreference).count() == 4
        statuses = sorted(m.status.value for m in db.session.query(OutboxMessage))
    assert statuses == ["failed", "sent", "sent", "sent", "sent"]

"""The outbox: each message delivered exactly once by racing workers, retried with back-off."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import timedelta

import pytest

from tests.conftest import BASE_CONFIG, ROOT
from tests.notify.conftest import LINE_TOKEN, messages, run, tokyo
from tutoring.crypto import new_key
from tutoring.database import utcnow
from tutoring.extensions import db
from tutoring.notify import outbox
from tutoring.notify.models import Channel, MessageKind

START = tokyo(2026, 12, 2, 16, 0)
NOW = tokyo(2026, 11, 20, 12, 0)  # nothing else is due then


def queue_notices(app, program, session_id: int, count: int, due) -> None:
    """Queue `count` distinct LINE messages to the learner, all due at `due`."""
    with app.app_context():
        outbox.enqueue(
            [
                outbox.Planned(
                    kind=MessageKind.CANCELLED,
                    channel=Channel.LINE,
                    recipient_id=program.learner.id,
                    session_id=session_id,
                    due_at=due,
                    variant=f"v{n}",
                )
                for n in range(count)
            ]
        )
        db.session.commit()


@pytest.fixture
def queued(app, program, book, link_line):
    link_line(program.learner)
    [session_id] = book(START)

    def queue(count: int, due=NOW) -> int:
        queue_notices(app, program, session_id, count, due)
        return session_id

    return queue


def test_two_workers_racing_deliver_every_message_exactly_once(app, queued, line_api):
    queued(60)
    barrier = threading.Barrier(2)
    errors = []

    def work(name: str) -> None:
        try:
            barrier.wait()
            with app.app_context():
                while True:
                    summary = run(app, NOW, worker=name, limit=4)
                    if not summary.outcomes:
                        break
        except Exception as error:  # surfaced below: a thread's failure must fail the test
            errors.append(error)

    threads = [threading.Thread(target=work, args=(f"worker-{n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    keys = [r.headers["x-line-retry-key"] for r in line_api.requests]
    assert len(keys) == 60
    assert len(set(keys)) == 60  # no message twice
    rows = messages(app)
    assert {m["status"] for m in rows} == {"sent"}
    assert {m["attempts"] for m in rows} == {1}


def test_two_processes_running_the_cli_deliver_every_message_once(app, queued, line_api, tmp_path):
    queued(40, due=utcnow() - timedelta(minutes=1))
    env = {
        **os.environ,
        "TUTORING_SECRET_KEY": BASE_CONFIG["SECRET_KEY"],
        "TUTORING_DATA_KEYS__k1": new_key(),
        "TUTORING_DATA_KEY_CURRENT": "k1",
        "TUTORING_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "TUTORING_LINE_CHANNEL_ACCESS_TOKEN": LINE_TOKEN,
        "TUTORING_LINE_API_BASE_URL": line_api.url,
        "TUTORING_NOTIFY_BATCH_SIZE": "3",
    }
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "notify", "worker"]
    command += ["--interval", "0.1", "--max-iterations", "12"]
    workers = [
        subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        for _ in range(2)
    ]
    outputs = [w.communicate(timeout=120)[0].decode() for w in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs
    keys = [r.headers["x-line-retry-key"] for r in line_api.requests]
    assert len(keys) == 40
    assert len(set(keys)) == 40
    assert {m["status"] for m in messages(app)} == {"sent"}


def test_a_failing_channel_is_retried_with_back_off(app, queued, line_api):
    queued(1)
    line_api.respond(500)
    summary = run(app, NOW)
    assert summary.outcomes == {"pending": 1}
    [message] = messages(app)
    assert message["status"] == "pending"
    assert message["attempts"] == 1
    assert message["error"] == "LINE 500"
    assert message["next_attempt_at"] == NOW + timedelta(seconds=60)
    assert run(app, NOW + timedelta(seconds=59)).outcomes == {}  # not before its time
    assert run(app, NOW + timedelta(seconds=60)).outcomes == {"sent": 1}
    [message] = messages(app)
    assert message["attempts"] == 2
    assert message["error"] is None
    assert message["sent_at"] == NOW + timedelta(seconds=60)
    # The same retry key both times: LINE would not deliver a retried push twice.
    first, second = line_api.requests
    assert first.headers["x-line-retry-key"] == second.headers["x-line-retry-key"]
    with app.app_context():
        from tutoring.notify.models import DeliveryAttempt

        outcomes = [a.outcome.value for a in db.session.query(DeliveryAttempt).order_by("id")]
    assert outcomes == ["pending", "sent"]


def test_rate_limits_wait_as_long_as_asked_and_give_up_after_the_last_attempt(
    app, queued, line_api
):
    app.config["NOTIFY_MAX_ATTEMPTS"] = 2
    queued(1)
    line_api.respond(429, {"Retry-After": "600"})
    run(app, NOW)
    assert messages(app)[0]["next_attempt_at"] == NOW + timedelta(seconds=600)
    line_api.respond(503)
    run(app, NOW + timedelta(seconds=600))
    [message] = messages(app)
    assert message["status"] == "failed"
    assert message["error"] == "LINE 503"
    assert run(app, NOW + timedelta(days=1)).outcomes == {}


def test_a_claim_left_by_a_dead_worker_is_taken_over_after_the_timeout(app, queued, line_api):
    queued(1)
    with app.app_context():
        assert len(outbox.claim("dead-worker", NOW, 10)) == 1
    assert run(app, NOW + timedelta(minutes=4)).outcomes == {}  # still within its claim
    assert run(app, NOW + timedelta(minutes=5, seconds=1), worker="alive").outcomes == {"sent": 1}
    with app.app_context():
        from tutoring.notify.models import MessageStatus, OutboxMessage

        message = db.session.query(OutboxMessage).one()
        # The dead worker coming back cannot overwrite what the other recorded.
        assert (
            outbox.finish(message, "dead-worker", MessageStatus.FAILED, NOW) is MessageStatus.SENT
        )
    assert len(line_api.requests) == 1


def test_a_message_for_a_disabled_account_is_not_sent(app, program, queued, line_api):
    queued(1)
    with app.app_context():
        from tutoring.people.models import User

        db.session.get(User, program.learner.id).active = False
        db.session.commit()
    assert run(app, NOW).outcomes == {"skipped": 1}
    assert messages(app)[0]["error"] == "recipient_inactive"
    assert line_api.requests == []


def test_a_bug_while_composing_is_logged_and_retried_up_to_the_limit(
    app, queued, line_api, monkeypatch
):
    from tutoring.notify import worker

    def broken(*args, **kwargs):
        raise KeyError("boom")

    monkeypatch.setattr(worker, "compose", broken)
    app.config["NOTIFY_MAX_ATTEMPTS"] = 2
    queued(1)
    errors = []
    monkeypatch.setattr(app.logger, "exception", lambda *a, **k: errors.append(a))
    assert run(app, NOW).outcomes == {"pending": 1}
    assert run(app, NOW + timedelta(minutes=1)).outcomes == {"failed": 1}
    assert messages(app)[0]["error"] == "KeyError"
    assert len(errors) == 2
    assert line_api.requests == []


def test_a_claim_abandoned_on_its_last_attempt_fails(app, queued):
    app.config["NOTIFY_MAX_ATTEMPTS"] = 1
    queued(1)
    with app.app_context():
        outbox.claim("dead-worker", NOW, 10)
    run(app, NOW + timedelta(minutes=6))
    [message] = messages(app)
    assert message["status"] == "failed"
    assert message["error"] == "worker_lost"

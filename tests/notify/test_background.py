"""The worker as a background thread of the server (the default of `make run`)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from tests.notify.conftest import messages
from tests.notify.test_outbox import queue_notices
from tutoring.database import utcnow
from tutoring.notify.worker import background_enabled


@pytest.fixture
def app_config(line_config):
    return {**line_config, "NOTIFY_WORKER_THREAD": True, "NOTIFY_POLL_SECONDS": 0.2}


def test_the_server_starts_the_worker_with_its_first_request(
    app, client, program, book, link_line, line_api
):
    link_line(program.learner)
    [session_id] = book(utcnow() + timedelta(days=30))
    queue_notices(app, program, session_id, 3, utcnow() - timedelta(seconds=1))
    assert "notify_worker_thread" not in app.extensions
    client.get("/healthz")
    thread = app.extensions["notify_worker_thread"]
    try:
        # The worker marks a message sent after LINE answered: wait for the marks, not the calls.
        deadline = time.monotonic() + 15
        while {m["status"] for m in messages(app)} != {"sent"} and time.monotonic() < deadline:
            time.sleep(0.1)
        assert {m["status"] for m in messages(app)} == {"sent"}
        assert len(line_api.requests) == 3
        client.get("/healthz")
        assert app.extensions["notify_worker_thread"] is thread  # one worker per server
    finally:
        app.extensions["notify_worker_stop"].set()
        thread.join(10)
    assert not thread.is_alive()


def test_by_default_only_a_development_server_runs_the_worker(app):
    app.config["NOTIFY_WORKER_THREAD"] = None
    assert not background_enabled(app)  # tests, and production: `notify worker` instead
    app.config["ENV"] = "development"
    assert background_enabled(app)
    app.config["NOTIFY_WORKER_THREAD"] = False
    assert not background_enabled(app)

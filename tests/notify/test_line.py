"""LINE pushes through the real client against a local stand-in of the Messaging API."""

from __future__ import annotations

import uuid
from datetime import timedelta

from flask_babel import force_locale
from flask_babel import gettext as _

from tests.notify.conftest import LINE_ID, LINE_TOKEN, messages, run, tokyo
from tutoring.extensions import db
from tutoring.notify.channels.line import retry_key
from tutoring.notify.models import NotificationPreference

START = tokyo(2026, 12, 2, 16, 0)


def test_hour_reminder_push_has_lines_shape_token_and_the_join_link(
    app, program, book, link_line, line_api
):
    link_line(program.learner)
    [session_id] = book(START)
    summary = run(app, START - timedelta(hours=1))
    assert summary.outcomes == {"sent": 1}
    [request] = line_api.requests
    assert request.path == "/v2/bot/message/push"
    assert request.headers["authorization"] == f"Bearer {LINE_TOKEN}"
    assert request.headers["content-type"] == "application/json"
    assert uuid.UUID(request.headers["x-line-retry-key"]).version == 5
    body = request.json()
    assert body["to"] == LINE_ID
    [message] = body["messages"]
    assert message["type"] == "text"
    text = message["text"]
    assert f"https://manabi.example.org/sessions/{session_id}/room" in text
    assert "16:00" in text
    assert "陽向" in text  # the learner's given name, in the greeting
    # Nothing else personal: no family name, no tutor, no notes.
    assert "田中" not in text
    assert "鈴木" not in text
    with app.test_request_context(), force_locale("ja"):
        assert _("Your session starts today at %(time)s.", time="16:00") in text
        assert _("Join the room") in text
    [sent] = messages(app)
    assert sent["status"] == "sent"
    assert retry_key(sent["key"]) == request.headers["x-line-retry-key"]


def test_day_reminder_shows_the_date_in_japanese(app, program, book, link_line, line_api):
    link_line(program.learner)
    book(START)
    run(app, START - timedelta(hours=24))
    text = line_api.requests[0].json()["messages"][0]["text"]
    assert "12月2日(水)" in text
    assert "16:00–18:00" in text


def test_a_blocked_account_switches_line_off_and_is_not_retried(
    app, program, book, link_line, line_api
):
    link_line(program.learner)
    book(START)
    line_api.respond(403, body=b'{"message":"Forbidden"}')
    assert run(app, START - timedelta(hours=24)).outcomes == {"failed": 1}
    [failed] = messages(app)
    assert failed["error"] == "LINE refused the push (403)"
    with app.app_context():
        preference = db.session.get(NotificationPreference, program.learner.id)
        assert preference.line_enabled is False
        assert preference.line_disabled_at is not None
    # The next reminder is not queued for LINE any more, and nothing retries the failed one.
    assert run(app, START - timedelta(hours=1)).outcomes == {}
    assert len(line_api.requests) == 1


def test_a_user_who_is_not_a_friend_is_treated_like_a_blocked_one(
    app, program, book, link_line, line_api
):
    link_line(program.learner)
    book(START)
    line_api.respond(400, body=b'{"message":"Failed to send messages"}')
    assert run(app, START - timedelta(hours=24)).outcomes == {"failed": 1}
    with app.app_context():
        assert db.session.get(NotificationPreference, program.learner.id).line_enabled is False


def test_a_retry_already_accepted_by_line_counts_as_sent(app, program, book, link_line, line_api):
    link_line(program.learner)
    book(START)
    line_api.respond(409, body=b'{"message":"The retry key is already accepted"}')
    assert run(app, START - timedelta(hours=24)).outcomes == {"sent": 1}


def test_a_wrong_channel_token_is_retried_for_the_operator_to_fix(
    app, program, book, link_line, line_api
):
    link_line(program.learner)
    book(START)
    line_api.respond(401)
    assert run(app, START - timedelta(hours=24)).outcomes == {"pending": 1}
    with app.app_context():
        assert db.session.get(NotificationPreference, program.learner.id).line_enabled is True


def test_an_unreachable_line_api_is_retried(app, program, book, link_line, line_api):
    link_line(program.learner)
    book(START)
    app.config["LINE_API_BASE_URL"] = "http://127.0.0.1:9"  # the discard port: refused
    assert run(app, START - timedelta(hours=24)).outcomes == {"pending": 1}
    assert messages(app)[0]["error"] == "LINE: ConnectionError"

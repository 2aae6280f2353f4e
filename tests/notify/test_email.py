"""E-mail through a local SMTP server started by the test, parsed back."""

from __future__ import annotations

import email
from datetime import timedelta
from email.policy import default

import pytest
from flask_babel import force_locale
from flask_babel import gettext as _

from tests.conftest import free_port
from tests.notify.conftest import messages, run, set_preferences, tokyo

START = tokyo(2026, 12, 2, 16, 0)
REFUSED = "nobody@example.org"


class Collector:
    """An aiosmtpd handler that keeps every message and refuses one address."""

    def __init__(self) -> None:
        self.envelopes = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address == REFUSED:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.envelopes.append(envelope)
        return "250 Message accepted"


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    handler = Collector()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, handler
    controller.stop()


@pytest.fixture
def app_config(line_config, smtp_server):
    controller, _handler = smtp_server
    return {
        **line_config,
        "PUBLIC_URL": "https://manabi.example.org",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": controller.port,
        "SMTP_STARTTLS": False,
        "SMTP_FROM": "Manabi <no-reply@manabi.example.org>",
    }


def parsed(envelope):
    return email.message_from_bytes(envelope.content, policy=default)


def test_a_reminder_arrives_with_a_japanese_subject_body_and_the_join_link(
    app, program, book, smtp_server
):
    _controller, handler = smtp_server
    [session_id] = book(START)
    summary = run(app, START - timedelta(hours=24))
    # Learner and tutor both have e-mail addresses on their accounts.
    assert summary.outcomes == {"sent": 2}
    by_recipient = {tuple(e.rcpt_tos): e for e in handler.envelopes}
    envelope = by_recipient[(program.learner.email,)]
    assert envelope.mail_from == "no-reply@manabi.example.org"
    mail = parsed(envelope)
    with app.test_request_context(), force_locale("ja"):
        subject = _(
            "Reminder: your session on %(date)s at %(time)s", date="12月2日(水)", time="16:00"
        )
        opening = _(
            "Your session is on %(date)s, %(start)s–%(end)s.",
            date="12月2日(水)",
            start="16:00",
            end="18:00",
        )
        greeting = _("Hello %(name)s,", name="陽向")
    assert mail["Subject"] == subject
    # Encoded for any mail server: the raw header is RFC 2047, the body base64 UTF-8.
    assert b"=?utf-8?" in envelope.content.split(b"\r\n\r\n")[0]
    assert mail["To"].addresses[0].addr_spec == program.learner.email
    assert mail["Auto-Submitted"] == "auto-generated"
    text = mail.get_body(("plain",))
    assert text.get_content_charset() == "utf-8"
    assert text["Content-Transfer-Encoding"] == "base64"
    body = text.get_content()
    assert greeting in body
    assert opening in body
    assert "12月2日(水)" in body
    room = f"https://manabi.example.org/sessions/{session_id}/room"
    assert room in body
    assert "https://manabi.example.org/settings/notifications" in body
    assert "田中" not in body  # the given name only
    html = mail.get_body(("html",)).get_content()
    assert f'href="{room}"' in html
    assert '<html lang="ja">' in html
    # The tutor's copy names the learner by given name only, and has no encouragement line.
    tutor_body = parsed(by_recipient[(program.tutor.email,)]).get_body(("plain",)).get_content()
    assert "陽向" in tutor_body
    assert "田中" not in tutor_body


def test_messages_follow_the_chosen_language(app, program, book, smtp_server):
    _controller, handler = smtp_server
    set_preferences(app, program.learner, locale="en", email_enabled=True)
    set_preferences(app, program.tutor, email_enabled=False)
    book(START)
    run(app, START - timedelta(hours=1))
    [envelope] = handler.envelopes
    mail = parsed(envelope)
    assert mail["Subject"] == "Your session starts at 16:00"
    assert "Join the room" in mail.get_body(("plain",)).get_content()


def test_a_refused_address_fails_without_retrying(app, program, book, smtp_server, make_user):
    _controller, handler = smtp_server
    learner = make_user("learner", email=REFUSED, name="山田 花子")
    set_preferences(app, program.tutor, email_enabled=False)
    book(START, learner=learner)
    assert run(app, START - timedelta(hours=24)).outcomes == {"failed": 1}
    [message] = messages(app)
    assert message["error"] == "recipient refused"
    assert handler.envelopes == []


def test_an_smtp_server_that_does_not_answer_is_retried(app, program, book):
    set_preferences(app, program.tutor, email_enabled=False)
    app.config["SMTP_PORT"] = free_port()  # nothing listens there
    book(START)
    assert run(app, START - timedelta(hours=24)).outcomes == {"pending": 1}
    assert messages(app)[0]["error"] == "SMTP: ConnectionRefusedError"

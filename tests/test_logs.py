"""Tokens in URLs never reach the request log."""

from __future__ import annotations

import logging

from tutoring.logs import RedactSecrets, redact


def test_invitation_calendar_and_room_tokens_are_redacted():
    line = '"GET /invite/AbC-123_xyz HTTP/1.1" 200 / GET /calendar/s3cr3t.ics / https://meet/room?jwt=eyJ.a.b&x=1'
    cleaned = redact(line)
    for secret in ("AbC-123_xyz", "s3cr3t", "eyJ.a.b"):
        assert secret not in cleaned
    assert "/invite/[redacted]" in cleaned
    assert "&x=1" in cleaned


def test_the_development_server_log_is_filtered(app, caplog):
    logger = logging.getLogger("werkzeug")
    assert any(isinstance(f, RedactSecrets) for f in logger.filters)
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        logger.info('%s - - "%s" %s', "127.0.0.1", "GET /invite/secret-token HTTP/1.1", "200")
    assert "secret-token" not in caplog.text
    assert "/invite/[redacted]" in caplog.text

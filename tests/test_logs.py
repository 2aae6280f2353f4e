"""Tokens in URLs never reach the request log."""

from __future__ import annotations

import logging

import pytest

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


# Production: gunicorn writes the access log (--logger-class tutoring.logs.GunicornLogger).

SECRETS = ("inv-SECRET-1", "cal-SECRET-2", "eyJ.SECRET.3", "mnb_SECRET4", "session=SECRET5")


def _close(logger) -> None:
    for log in (logger.access_log, logger.error_log):
        for handler in list(log.handlers):
            handler.close()
            log.removeHandler(handler)


def _gunicorn_logger(tmp_path, access_format: str | None = None):
    from gunicorn.config import Config

    from tutoring.logs import GunicornLogger

    config = Config()
    config.set("accesslog", str(tmp_path / "access.log"))
    config.set("errorlog", str(tmp_path / "error.log"))
    if access_format:
        config.set("access_log_format", access_format)
    return GunicornLogger(config), tmp_path / "access.log"


class _Response:
    status = "200 OK"
    sent = 512
    headers = [("Content-Type", "text/html"), ("Set-Cookie", "session=SECRET5; HttpOnly")]


def _request(path: str, query: str = "") -> tuple[dict, list]:
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": path + ("?" + query if query else ""),
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.9",
        "HTTP_REFERER": "https://manabi.example.org/invite/inv-SECRET-1?next=/",
        "HTTP_COOKIE": "session=SECRET5",
        "HTTP_AUTHORIZATION": "Bearer mnb_SECRET4",
        "HTTP_USER_AGENT": "Mozilla/5.0",
    }
    headers = [
        ("Referer", environ["HTTP_REFERER"]),
        ("Cookie", environ["HTTP_COOKIE"]),
        ("Authorization", environ["HTTP_AUTHORIZATION"]),
        ("User-Agent", environ["HTTP_USER_AGENT"]),
    ]
    return environ, headers


def test_gunicorn_access_log_keeps_secrets_and_queries_out(tmp_path):
    from datetime import timedelta

    # The default format and one that asks for every atom that could carry a secret.
    greedy = "%(r)s %(U)s %(q)s %(f)s %({cookie}i)s %({authorization}i)s %({set-cookie}o)s %({raw_uri}e)s"
    for access_format in (None, greedy):
        logger, log = _gunicorn_logger(tmp_path, access_format)
        for path, query in (
            ("/invite/inv-SECRET-1", ""),
            ("/calendar/cal-SECRET-2.ics", ""),
            ("/sessions/7/room", "jwt=eyJ.SECRET.3&q=%E7%94%B0%E4%B8%AD"),
        ):
            environ, headers = _request(path, query)
            logger.access(_Response(), headers, environ, timedelta(milliseconds=12))
        _close(logger)
        text = log.read_text()
        assert text.count("\n") == 3
        for secret in (*SECRETS, "%E7%94%B0"):
            assert secret not in text, f"{secret} in the access log: {text}"
        assert "GET /invite/[redacted] HTTP/1.1" in text
        assert "/sessions/7/room?[redacted]" in text
        if access_format is None:  # still a useful log
            assert "203.0.113.9 " in text
            assert '" 200 ' in text
        log.unlink()


def test_gunicorn_error_log_is_filtered(tmp_path):
    logger, _ = _gunicorn_logger(tmp_path)
    logger.error("Error handling request %s", "/invite/inv-SECRET-1")
    _close(logger)
    text = (tmp_path / "error.log").read_text()
    assert "inv-SECRET-1" not in text
    assert "/invite/[redacted]" in text


@pytest.mark.server_errors_expected
def test_a_server_error_logs_the_path_without_its_secret(app, client, caplog, monkeypatch):
    def broken(token):
        raise RuntimeError("boom")

    monkeypatch.setattr("tutoring.scheduling.service.user_for_feed", broken)
    with caplog.at_level(logging.ERROR, logger=app.logger.name):
        assert client.get("/calendar/cal-SECRET-2.ics").status_code == 500
    assert "unhandled error on GET /calendar/[redacted]" in caplog.text
    assert "cal-SECRET-2" not in caplog.text


@pytest.mark.server_errors_expected
def test_database_errors_are_logged_without_the_values(
    app, make_user, make_token, caplog, monkeypatch
):
    from tests.conftest import bearer
    from tutoring.extensions import db
    from tutoring.people.models import Role, User

    make_user("tutor", email="taken@example.org")

    def duplicate(*args, **kwargs):
        db.session.add(User(name="秘密 花子", role=Role.TUTOR, email="taken@example.org"))
        db.session.flush()

    monkeypatch.setattr("tutoring.people.service.list_users", duplicate)
    token = make_token(make_user("coordinator"))
    with caplog.at_level(logging.ERROR, logger=app.logger.name):
        response = app.test_client().get("/api/v1/users", headers=bearer(token))
    assert response.status_code == 500
    assert "unhandled error on GET /api/v1/users: IntegrityError" in caplog.text
    assert "duplicate" in caplog.text  # where it happened is still there
    # Neither the statement's values nor the database's message (PostgreSQL quotes the key).
    assert "taken@example.org" not in caplog.text
    assert "秘密" not in caplog.text

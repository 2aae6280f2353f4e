"""The app factory, configuration order, database settings and the health check."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from tests.conftest import BASE_CONFIG
from tutoring import create_app
from tutoring.crypto import new_key
from tutoring.extensions import db


@pytest.fixture
def clean_env(monkeypatch):
    for name in ("TUTORING_SECRET_KEY", "TUTORING_ENV", "TUTORING_TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    # Production also needs the data keys (tests/test_crypto.py checks the refusal).
    monkeypatch.setenv("TUTORING_DATA_KEYS__k1", new_key())
    monkeypatch.setenv("TUTORING_DATA_KEY_CURRENT", "k1")


def test_refuses_to_start_without_secret_in_production(clean_env, tmp_path):
    with pytest.raises(RuntimeError, match="TUTORING_SECRET_KEY"):
        create_app(instance_path=str(tmp_path))


def test_secret_key_from_environment(clean_env, monkeypatch, tmp_path):
    monkeypatch.setenv("TUTORING_SECRET_KEY", "from-the-environment")
    app = create_app(instance_path=str(tmp_path))
    assert app.secret_key == "from-the-environment"


def test_development_keeps_a_generated_secret_in_instance(clean_env, monkeypatch, tmp_path):
    monkeypatch.setenv("TUTORING_ENV", "development")
    first = create_app(instance_path=str(tmp_path)).secret_key
    second = create_app(instance_path=str(tmp_path)).secret_key
    assert first == second
    assert len(first) >= 32
    assert (tmp_path / "dev-secret-key").stat().st_mode & 0o077 == 0


def test_configuration_order_instance_then_environment_then_mapping(
    clean_env, monkeypatch, tmp_path
):
    (tmp_path / "config.py").write_text(
        'SECRET_KEY = "from-instance"\nTIMEZONE = "Europe/Berlin"\n'
    )
    assert create_app(instance_path=str(tmp_path)).config["TIMEZONE"] == "Europe/Berlin"
    monkeypatch.setenv("TUTORING_TIMEZONE", "America/New_York")
    app = create_app(instance_path=str(tmp_path))
    assert app.secret_key == "from-instance"
    assert app.config["TIMEZONE"] == "America/New_York"
    assert create_app({"TIMEZONE": "UTC"}, instance_path=str(tmp_path)).config["TIMEZONE"] == "UTC"


def test_default_database_is_sqlite_in_instance(clean_env, monkeypatch, tmp_path):
    monkeypatch.setenv("TUTORING_ENV", "development")
    monkeypatch.delenv("TUTORING_DATABASE_URL", raising=False)
    app = create_app(instance_path=str(tmp_path))
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/manabi.sqlite3"


def test_sqlite_runs_with_wal_and_foreign_keys(app):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("SQLite settings")
    with app.app_context():
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_datetimes_are_stored_in_utc_and_read_back_aware(app, make_user):
    from tutoring.people.models import User

    account = make_user("tutor")
    tokyo = timezone(timedelta(hours=9))
    with app.app_context():
        user = db.session.get(User, account.id)
        user.created_at = datetime(2026, 4, 1, 0, 30, tzinfo=tokyo)
        db.session.commit()
        db.session.expire_all()
        stored = db.session.get(User, account.id).created_at
        assert stored == datetime(2026, 3, 31, 15, 30, tzinfo=UTC)
        assert stored.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused(app, make_user):
    from sqlalchemy.exc import StatementError

    from tutoring.people.models import User

    account = make_user("tutor")
    with app.app_context():
        db.session.get(User, account.id).created_at = datetime(2026, 1, 1)  # noqa: DTZ001
        with pytest.raises(StatementError, match="naive"):
            db.session.commit()


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_healthz_answers_503_when_the_database_is_down(tmp_path):
    app = create_app(
        {**BASE_CONFIG, "DATABASE_URL": f"sqlite:///{tmp_path}/missing/dir/db.sqlite3"},
        instance_path=str(tmp_path),
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["status"] == "error"
    assert response.json["database"] != "ok"


def test_pages_carry_security_headers(client):
    response = client.get("/login")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    # Another site never learns a page's address (tokens in URLs); this site gets the Referer
    # its CSRF check needs over HTTPS (tests/security/test_csrf.py).
    assert response.headers["Referrer-Policy"] == "same-origin"
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy


def test_unknown_page_is_a_friendly_404(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "このページは存在しないか" in response.get_data(as_text=True)


def test_static_bundle_is_served(client):
    # `make assets` builds static/dist; the layout links these files.
    page = client.get("/login").get_data(as_text=True)
    assert "/static/dist/app.css" in page
    assert "/static/dist/app.js" in page
    for path in ("/static/dist/app.css", "/static/dist/realtime.js"):
        with client.get(path) as response:
            assert response.status_code == 200


def test_requests_while_the_database_is_down_answer_503(tmp_path):
    from tests.conftest import free_port

    down = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/manabi"  # nothing listens there
    app = create_app({**BASE_CONFIG, "DATABASE_URL": down}, instance_path=str(tmp_path))
    client = app.test_client()
    assert client.get("/healthz").status_code == 503
    api = client.get("/api/v1/me", headers={"Authorization": "Bearer mnb_anything"})
    assert api.status_code == 503
    assert api.json["error"]["code"] == "unavailable"
    page = client.get("/login")
    assert page.status_code == 200  # the sign-in form itself needs no database
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True)).group(
        1
    )
    attempt = client.post(
        "/login", data={"email": "a@example.org", "password": "x" * 12, "csrf_token": token}
    )
    assert attempt.status_code == 503
    assert "一時的にサービスを利用できません" in attempt.get_data(as_text=True)


def test_a_database_gone_at_the_end_of_a_request_keeps_its_answer(client, monkeypatch, caplog):
    """The session's closing rollback fails when the database died meanwhile (seen on
    PostgreSQL stopped mid-request): the answer already chosen stands, not a bare 500."""
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import Session

    closes = []
    real_close = Session.close

    def dying_close(self):
        closes.append(self)
        real_close(self)
        if len(closes) == 1:
            raise OperationalError("ROLLBACK", {}, Exception("server closed the connection"))

    monkeypatch.setattr(Session, "close", dying_close)
    response = client.get("/healthz")
    assert (response.status_code, response.json["database"]) == (200, "ok")
    assert "database gone while closing a session: OperationalError" in caplog.text
    assert client.get("/healthz").status_code == 200  # a fresh session next time

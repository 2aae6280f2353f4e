"""API authentication with personal tokens, and the JSON error format of CONTRACT.md."""

from __future__ import annotations

import pytest

from tests.conftest import bearer, csrf_token
from tutoring.auth import service
from tutoring.extensions import db
from tutoring.people.models import User


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response.mimetype == "application/json"
    error = response.json["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str)
    assert error["message"]
    return error


def test_no_token_is_401(client):
    assert_error(client.get("/api/v1/me"), 401, "unauthorized")


@pytest.mark.parametrize(
    "header",
    [
        "Bearer mnb_not-a-real-token",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "mnb_abc",
        "Bearer " + "x" * 5000,
    ],
)
def test_bad_token_is_401(client, header):
    assert_error(client.get("/api/v1/me", headers={"Authorization": header}), 401, "unauthorized")


def test_revoked_token_is_401(app, client, make_user, make_token):
    tutor = make_user("tutor")
    raw = make_token(tutor)
    assert client.get("/api/v1/me", headers=bearer(raw)).status_code == 200
    with app.app_context():
        user = db.session.get(User, tutor.id)
        assert service.revoke_token(user, service.list_tokens(user)[0].id)
        db.session.commit()
    assert_error(client.get("/api/v1/me", headers=bearer(raw)), 401, "unauthorized")


def test_token_of_disabled_account_is_401(client, make_user, make_token):
    learner = make_user("learner", active=False)
    raw = make_token(learner)
    assert_error(client.get("/api/v1/me", headers=bearer(raw)), 401, "unauthorized")


def test_bad_token_wins_over_a_session_cookie(client, make_user, login_as):
    login_as(make_user("coordinator"))
    assert client.get("/api/v1/me").status_code == 200
    assert_error(client.get("/api/v1/me", headers=bearer("mnb_wrong")), 401, "unauthorized")


@pytest.mark.parametrize("role", ["learner", "tutor", "coordinator", "admin"])
def test_me_per_role(client, make_user, make_token, role):
    account = make_user(role, name=f"名前 {role}")
    response = client.get("/api/v1/me", headers=bearer(make_token(account)))
    assert response.status_code == 200
    assert response.json == {"id": account.id, "name": f"名前 {role}", "role": role, "locale": "ja"}


def test_me_follows_the_users_language(app, client, make_user, make_token):
    account = make_user("tutor")
    with app.app_context():
        db.session.get(User, account.id).locale = "en"
        db.session.commit()
    assert client.get("/api/v1/me", headers=bearer(make_token(account))).json["locale"] == "en"


def test_token_request_sets_no_cookie_and_records_use(app, client, make_user, make_token):
    account = make_user("tutor")
    raw = make_token(account)
    response = client.get("/api/v1/me", headers=bearer(raw))
    assert "Set-Cookie" not in response.headers
    with app.app_context():
        token = service.list_tokens(db.session.get(User, account.id))[0]
        assert token.last_used_at is not None


def test_tokens_are_stored_hashed(app, make_user, make_token):
    account = make_user("tutor")
    raw = make_token(account)
    with app.app_context():
        token = service.list_tokens(db.session.get(User, account.id))[0]
        assert raw not in (token.token_hash, token.prefix)
        assert raw.startswith(token.prefix)


def test_unknown_path_is_json_404(client, make_user, make_token):
    raw = make_token(make_user("tutor"))
    assert_error(client.get("/api/v1/no-such-thing", headers=bearer(raw)), 404, "not_found")
    assert_error(client.get("/api/v1/no-such-thing"), 404, "not_found")


def test_wrong_method_is_json_405(client, make_user, make_token):
    raw = make_token(make_user("tutor"))
    response = client.delete("/api/v1/me", headers=bearer(raw))
    assert_error(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]


@pytest.mark.server_errors_expected
def test_unexpected_error_is_json_500(app, client, make_user, make_token, monkeypatch):
    raw = make_token(make_user("coordinator"))

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("tutoring.people.service.list_users", broken)
    error = assert_error(client.get("/api/v1/users", headers=bearer(raw)), 500, "server_error")
    assert "boom" not in error["message"]


def test_session_writes_need_the_csrf_header(client, make_user, login_as):
    login_as(make_user("coordinator"))
    body = {"email": "new@example.org", "name": "新しい 人", "role": "tutor"}
    assert_error(client.post("/api/v1/users", json=body), 400, "csrf")
    token = csrf_token(client, "/settings")
    response = client.post("/api/v1/users", json=body, headers={"X-CSRFToken": token})
    assert response.status_code == 201


def test_token_writes_need_no_csrf(client, make_user, make_token):
    raw = make_token(make_user("coordinator"))
    response = client.post(
        "/api/v1/users",
        json={"email": "t@example.org", "name": "T", "role": "tutor"},
        headers=bearer(raw),
    )
    assert response.status_code == 201


def test_token_allows_300_requests_a_minute(client, make_user, make_token):
    raw = make_token(make_user("tutor"))
    for _ in range(300):
        assert client.get("/api/v1/me", headers=bearer(raw)).status_code == 200


def test_api_rate_limit_answers_429_json(client, app, make_user, make_token):
    app.config["API_TOKEN_LIMIT"] = "5 per minute"
    raw = make_token(make_user("tutor"))
    for _ in range(5):
        client.get("/api/v1/me", headers=bearer(raw))
    response = client.get("/api/v1/me", headers=bearer(raw))
    assert_error(response, 429, "rate_limited")
    assert "Retry-After" in response.headers


def test_api_limits_are_per_caller(client, app, make_user, make_token):
    app.config["API_TOKEN_LIMIT"] = "3 per minute"
    first, second = make_token(make_user("tutor")), make_token(make_user("tutor"))
    for _ in range(3):
        assert client.get("/api/v1/me", headers=bearer(first)).status_code == 200
    assert client.get("/api/v1/me", headers=bearer(first)).status_code == 429
    assert client.get("/api/v1/me", headers=bearer(second)).status_code == 200

"""Signing in and out through the form: credentials, limits, CSRF, sessions."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD, csrf_token
from tutoring.extensions import db

WRONG = "メールアドレス（ログイン名）またはパスワードが正しくありません。"


def sign_in(client, identifier, password, next_url=""):
    return client.post(
        "/login",
        data={
            "email": identifier,
            "password": password,
            "next": next_url,
            "csrf_token": csrf_token(client),
        },
    )


def test_sign_in_success_goes_to_dashboard(client, make_user):
    coordinator = make_user("coordinator", name="佐藤 恵美")
    response = sign_in(client, coordinator.email, PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "こんにちは、佐藤 恵美 さん" in page


def test_sign_in_is_case_insensitive_for_email(client, make_user):
    tutor = make_user("tutor", email="Kenji.Suzuki@Example.org")
    assert sign_in(client, "  KENJI.SUZUKI@example.org ", PASSWORD).status_code == 302
    assert tutor.email == "kenji.suzuki@example.org"


def test_learner_signs_in_with_login_name(client, make_user):
    make_user("learner", login_name="hinata-07")
    assert sign_in(client, "Hinata-07", PASSWORD).status_code == 302


def test_wrong_password_and_unknown_user_get_the_same_answer(client, make_user):
    learner = make_user("learner")
    wrong = sign_in(client, learner.email, "not the password")
    unknown = sign_in(client, "nobody@example.org", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    for response in (wrong, unknown):
        assert WRONG in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # still signed out


def test_disabled_account_cannot_sign_in(client, make_user):
    learner = make_user("learner", active=False)
    response = sign_in(client, learner.email, PASSWORD)
    assert response.status_code == 401
    assert WRONG in response.get_data(as_text=True)


def test_next_parameter_only_redirects_within_the_site(client, make_user):
    tutor = make_user("tutor")
    assert sign_in(client, tutor.email, PASSWORD, "/settings").headers["Location"] == "/settings"
    client.post("/logout", data={"csrf_token": csrf_token(client, "/settings")})
    for target in ("https://evil.example.net/", "//evil.example.net/x", "/\\evil.example.net"):
        assert sign_in(client, tutor.email, PASSWORD, target).headers["Location"] == "/"
        client.post("/logout", data={"csrf_token": csrf_token(client, "/settings")})


def test_pages_need_sign_in(client):
    response = client.get("/settings")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


@pytest.fixture
def app_config():
    return {
        "LOGIN_LIMIT_PER_ACCOUNT": "3 per 15 minutes",
        "LOGIN_LIMIT_PER_ADDRESS": "5 per 15 minutes",
    }


def test_repeated_failures_are_limited_per_account(client, make_user):
    learner = make_user("learner")
    for _ in range(3):
        assert sign_in(client, learner.email, "wrong").status_code == 401
    limited = sign_in(client, learner.email, PASSWORD)  # even the right password waits now
    assert limited.status_code == 429
    assert "サインインの試行回数が多すぎます。15分後にもう一度お試しください。" in limited.get_data(
        as_text=True
    )
    assert client.get("/").status_code == 302


def test_failures_are_limited_per_address_across_accounts(client, make_user):
    for n in range(5):
        assert sign_in(client, f"guess{n}@example.org", "wrong").status_code == 401
    other = make_user("tutor")
    assert sign_in(client, other.email, PASSWORD).status_code == 429


def test_successful_sign_ins_do_not_count_toward_the_limit(client, make_user):
    tutor = make_user("tutor")
    for _ in range(4):
        assert sign_in(client, tutor.email, PASSWORD).status_code == 302
        client.post("/logout", data={"csrf_token": csrf_token(client, "/settings")})


def test_sign_in_without_csrf_token_is_refused(client, make_user):
    tutor = make_user("tutor")
    response = client.post("/login", data={"email": tutor.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "フォームの有効期限が切れたか" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_sign_out_is_post_only(client, make_user, login_as):
    login_as(make_user("tutor"))
    assert client.get("/logout").status_code == 405
    assert client.get("/").status_code == 200
    assert (
        client.post("/logout").status_code == 400
    )  # no CSRF token: a foreign page cannot sign out
    assert client.get("/").status_code == 200
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/settings")})
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_sign_in_starts_a_fresh_session(client, make_user):
    tutor = make_user("tutor")
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    sign_in(client, tutor.email, PASSWORD)
    with client.session_transaction() as session:
        assert "planted" not in session


def test_password_change_signs_out_other_devices(app, client, make_user, login_as):
    tutor = make_user("tutor")
    other_device = app.test_client()
    login_as(tutor, other_device)
    login_as(tutor)
    response = client.post(
        "/settings/password",
        data={
            "current_password": PASSWORD,
            "new_password": "a new long password",
            "confirm": "a new long password",
            "csrf_token": csrf_token(client, "/settings/password"),
        },
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert other_device.get("/").status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client, "/settings")})
    assert sign_in(client, tutor.email, "a new long password").status_code == 302


def test_password_change_checks_current_password_and_length(client, make_user, login_as):
    login_as(make_user("tutor"))
    token = csrf_token(client, "/settings/password")
    wrong = client.post(
        "/settings/password",
        data={
            "current_password": "nope",
            "new_password": "x" * 12,
            "confirm": "x" * 12,
            "csrf_token": token,
        },
    )
    assert "現在のパスワードが正しくありません。" in wrong.get_data(as_text=True)
    short = client.post(
        "/settings/password",
        data={
            "current_password": PASSWORD,
            "new_password": "short",
            "confirm": "short",
            "csrf_token": token,
        },
    )
    assert "10文字以上にしてください。" in short.get_data(as_text=True)


def test_sign_out_everywhere_ends_every_session(app, client, make_user, login_as):
    tutor = make_user("tutor")
    other_device = login_as(tutor, app.test_client())
    login_as(tutor)
    client.post("/logout/everywhere", data={"csrf_token": csrf_token(client, "/settings")})
    assert client.get("/").status_code == 302
    assert other_device.get("/").status_code == 302


def test_old_password_hash_is_upgraded_at_sign_in(app, client, make_user):
    from argon2 import PasswordHasher, profiles

    from tutoring.people.models import User

    tutor = make_user("tutor")
    with app.app_context():
        user = db.session.get(User, tutor.id)
        user.password_hash = PasswordHasher.from_parameters(profiles.PRE_21_2).hash(PASSWORD)
        db.session.commit()
    assert sign_in(client, tutor.email, PASSWORD).status_code == 302
    with app.app_context():
        assert "m=8," in db.session.get(User, tutor.id).password_hash  # CHEAPEST in tests


@pytest.mark.parametrize("weak", ["password123456", "qwertyuiop12", "1234567890ab", "kenjisuzuki1"])
def test_easy_passwords_are_refused(app, client, make_user, login_as, weak):
    tutor = make_user("tutor", name="Kenji Suzuki", email="kenji.suzuki@example.org")
    login_as(tutor)
    response = client.post(
        "/settings/password",
        data={
            "current_password": PASSWORD,
            "new_password": weak,
            "confirm": weak,
            "csrf_token": csrf_token(client, "/settings/password"),
        },
    )
    assert "このパスワードは推測されやすいです" in response.get_data(as_text=True)
    with app.app_context():
        from tutoring.auth.service import authenticate

        assert authenticate(tutor.email, PASSWORD) is not None  # unchanged


def test_idle_and_old_sessions_end(app, client, make_user, monkeypatch):
    import time as clock

    tutor = make_user("tutor")
    sign_in(client, tutor.email, PASSWORD)
    assert client.get("/").status_code == 200
    start = clock.time()
    monkeypatch.setattr("tutoring.auth.views.time.time", lambda: start + 121 * 60)
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    monkeypatch.undo()
    sign_in(client, tutor.email, PASSWORD)
    # Active every hour, but 12 hours after signing in the session still ends.
    for hour in range(1, 13):
        monkeypatch.setattr(
            "tutoring.auth.views.time.time", lambda hour=hour: start + hour * 3600 + 60
        )
        status = client.get("/").status_code
        assert status == (200 if hour < 12 else 302)


def test_https_deployments_get_host_cookies_and_hsts(client, app, make_user):
    app.config.update(HTTPS=True)
    response = client.get("/login", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_https_config_sets_secure_host_cookie(tmp_path):
    from tests.conftest import BASE_CONFIG
    from tutoring import create_app

    app = create_app({**BASE_CONFIG, "HTTPS": True}, instance_path=str(tmp_path))
    response = app.test_client().get("/login", base_url="https://localhost")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-session=")
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


@pytest.mark.parametrize(
    "app_config", [{"TRUSTED_PROXIES": 1, "LOGIN_LIMIT_PER_ADDRESS": "2 per minute"}]
)
def test_trusted_proxy_gives_the_client_address(client, app_config):
    def attempt(address: str) -> int:
        data = {"email": "nobody@example.org", "password": "nope", "csrf_token": csrf_token(client)}
        return client.post("/login", data=data, headers={"X-Forwarded-For": address}).status_code

    assert [attempt("203.0.113.9") for _ in range(3)] == [401, 401, 429]
    assert attempt("198.51.100.7") == 401  # another client behind the same proxy is not blocked

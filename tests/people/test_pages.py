"""Account pages for coordinators, one's own settings, language choice and API token pages."""

from __future__ import annotations

import re

import pytest

from tests.conftest import bearer, csrf_token
from tutoring.extensions import db
from tutoring.people.models import User

MANAGER_PAGES = [("get", "/people"), ("get", "/people/new"), ("post", "/people/new")]


@pytest.mark.parametrize("role", ["learner", "tutor"])
@pytest.mark.parametrize(("method", "path"), MANAGER_PAGES)
def test_people_pages_are_403_for_learners_and_tutors(
    client, make_user, login_as, role, method, path
):
    login_as(make_user(role))
    data = {"csrf_token": csrf_token(client, "/settings")} if method == "post" else None
    assert getattr(client, method)(path, data=data).status_code == 403


@pytest.mark.parametrize(
    ("method", "path"),
    [*MANAGER_PAGES, ("get", "/settings"), ("get", "/settings/tokens"), ("get", "/")],
)
def test_pages_send_anonymous_visitors_to_sign_in(client, method, path):
    response = getattr(client, method)(path)
    # An anonymous POST fails CSRF first (400) or is sent to sign in; it never gets through.
    assert response.status_code in (302, 400)
    if response.status_code == 302:
        assert response.headers["Location"].startswith("/login")


def test_coordinator_sees_people_and_filters_by_role(client, make_user, login_as):
    login_as(make_user("coordinator", name="佐藤 恵美"))
    make_user("tutor", name="鈴木 健一")
    make_user("learner", name="田中 陽向")
    page = client.get("/people").get_data(as_text=True)
    assert "鈴木 健一" in page
    assert "田中 陽向" in page
    tutors = client.get("/people?role=tutor").get_data(as_text=True)
    assert "鈴木 健一" in tutors
    assert "田中 陽向" not in tutors


def test_create_user_form_shows_field_errors(client, make_user, login_as):
    login_as(make_user("coordinator"))
    existing = make_user("tutor")
    response = client.post(
        "/people/new",
        data={
            "name": "X",
            "role": "tutor",
            "email": existing.email,
            "csrf_token": csrf_token(client, "/people/new"),
        },
    )
    page = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in page
    assert "ほかのアカウントですでに使われています。" in page
    staff_without_email = client.post(
        "/people/new",
        data={
            "name": "X",
            "role": "tutor",
            "email": "",
            "csrf_token": csrf_token(client, "/people/new"),
        },
    )
    assert "スタッフのアカウントにはメールアドレスが必要です。" in staff_without_email.get_data(
        as_text=True
    )


def test_coordinator_is_not_offered_the_admin_role(client, make_user, login_as):
    login_as(make_user("coordinator"))
    page = client.get("/people/new").get_data(as_text=True)
    assert 'value="tutor"' in page
    assert 'value="admin"' not in page
    response = client.post(
        "/people/new",
        data={
            "name": "X",
            "role": "admin",
            "email": "x@example.org",
            "csrf_token": csrf_token(client, "/people/new"),
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="role-error"' in page
    with client.application.app_context():
        assert db.session.query(User).filter_by(email="x@example.org").count() == 0


def test_coordinator_disables_and_enables_an_account(app, client, make_user, login_as, make_token):
    login_as(make_user("coordinator"))
    learner = make_user("learner")
    learner_client = login_as(learner, app.test_client())
    raw = make_token(learner)
    token = csrf_token(client, "/people")
    client.post(f"/people/{learner.id}/active", data={"active": "0", "csrf_token": token})
    assert learner_client.get("/").status_code == 302  # signed out at once
    assert client.get("/api/v1/me", headers=bearer(raw)).status_code == 401
    client.post(f"/people/{learner.id}/active", data={"active": "1", "csrf_token": token})
    with app.app_context():
        assert db.session.get(User, learner.id).active


def test_nobody_disables_themselves(app, client, make_user, login_as):
    coordinator = make_user("coordinator")
    login_as(coordinator)
    client.post(
        f"/people/{coordinator.id}/active",
        data={"active": "0", "csrf_token": csrf_token(client, "/people")},
    )
    with app.app_context():
        assert db.session.get(User, coordinator.id).active


@pytest.mark.parametrize("role", ["learner", "tutor"])
def test_learners_and_tutors_cannot_disable_accounts(app, client, make_user, login_as, role):
    login_as(make_user(role))
    other = make_user("learner")
    response = client.post(
        f"/people/{other.id}/active",
        data={"active": "0", "csrf_token": csrf_token(client, "/settings")},
    )
    assert response.status_code == 403
    with app.app_context():
        assert db.session.get(User, other.id).active


def test_settings_change_name_and_language(app, client, make_user, login_as):
    tutor = make_user("tutor")
    login_as(tutor)
    response = client.post(
        "/settings",
        data={"name": "鈴木 健", "locale": "en", "csrf_token": csrf_token(client, "/settings")},
    )
    assert response.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Hello, 鈴木 健" in page
    with app.app_context():
        assert db.session.get(User, tutor.id).locale == "en"


def test_settings_refuse_an_empty_name(client, make_user, login_as):
    login_as(make_user("tutor"))
    response = client.post(
        "/settings", data={"name": "", "locale": "", "csrf_token": csrf_token(client, "/settings")}
    )
    assert 'aria-invalid="true"' in response.get_data(as_text=True)


def test_language_follows_the_browser_until_chosen(client):
    assert '<html lang="ja">' in client.get("/login").get_data(as_text=True)
    english = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(
        as_text=True
    )
    assert '<html lang="en">' in english
    assert "Sign in" in english
    token = csrf_token(client, "/login")
    response = client.post(
        "/language", data={"locale": "en", "next": "/login", "csrf_token": token}
    )
    assert response.headers["Location"] == "/login"
    assert '<html lang="en">' in client.get("/login").get_data(as_text=True)


def test_language_switch_rejects_unknown_languages_and_foreign_redirects(client):
    token = csrf_token(client, "/login")
    assert client.post("/language", data={"locale": "fr", "csrf_token": token}).status_code == 400
    response = client.post(
        "/language", data={"locale": "en", "next": "https://evil.example.net", "csrf_token": token}
    )
    assert response.headers["Location"] == "/"


def test_signed_in_language_switch_is_saved_on_the_account(app, client, make_user, login_as):
    tutor = make_user("tutor")
    login_as(tutor)
    client.post(
        "/language",
        data={"locale": "en", "next": "/", "csrf_token": csrf_token(client, "/settings")},
    )
    with app.app_context():
        assert db.session.get(User, tutor.id).locale == "en"


def test_token_page_shows_a_new_token_once_and_revokes(app, client, make_user, login_as):
    tutor = make_user("tutor")
    login_as(tutor)
    response = client.post(
        "/settings/tokens",
        data={"name": "集計スクリプト", "csrf_token": csrf_token(client, "/settings/tokens")},
    )
    page = response.get_data(as_text=True)
    import re

    raw = re.search(r'id="new-token" class="input mono" readonly value="(mnb_[^"]+)"', page).group(
        1
    )
    assert client.get("/api/v1/me", headers=bearer(raw)).json["id"] == tutor.id
    listing = client.get("/settings/tokens").get_data(as_text=True)
    assert "集計スクリプト" in listing
    assert raw not in listing
    from tutoring.auth.service import list_tokens

    with app.app_context():
        token_id = list_tokens(db.session.get(User, tutor.id))[0].id
    client.post(
        f"/settings/tokens/{token_id}/revoke",
        data={"csrf_token": csrf_token(client, "/settings/tokens")},
    )
    assert client.get("/api/v1/me", headers=bearer(raw)).status_code == 401


def test_nobody_revokes_another_users_token(app, client, make_user, login_as, make_token):
    owner = make_user("tutor")
    raw = make_token(owner)
    login_as(make_user("tutor"))
    from tutoring.auth.service import list_tokens

    with app.app_context():
        token_id = list_tokens(db.session.get(User, owner.id))[0].id
    response = client.post(
        f"/settings/tokens/{token_id}/revoke", data={"csrf_token": csrf_token(client, "/settings")}
    )
    assert response.status_code == 404
    assert client.get("/api/v1/me", headers=bearer(raw)).status_code == 200


@pytest.mark.parametrize("role", ["learner", "tutor", "coordinator", "admin"])
def test_dashboard_per_role(client, make_user, login_as, role):
    login_as(make_user(role, name="名前"))
    page = client.get("/").get_data(as_text=True)
    assert "こんにちは、名前 さん" in page
    assert ('href="/people"' in page) == (role in ("coordinator", "admin"))


def test_every_role_is_named_on_the_dashboard_and_the_people_page(client, make_user, login_as):
    login_as(make_user("coordinator", name="佐藤 恵美"))
    make_user("liaison", name="高橋 先生")
    make_user("admin", name="管理 太郎")
    dashboard = client.get("/").get_data(as_text=True)
    labels = re.findall(r'<span class="stat-label">([^<]+)</span>', dashboard)
    assert sorted(labels) == sorted(
        ["学習者", "連携機関の連絡担当者", "学習支援員", "コーディネーター", "管理者"]
    )
    people = client.get("/people").get_data(as_text=True)
    assert "連携機関の連絡担当者" in people

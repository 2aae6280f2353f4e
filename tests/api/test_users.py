"""GET and POST /api/v1/users: who may list and create accounts, and input errors."""

from __future__ import annotations

import pytest

from tests.api.test_auth_and_errors import assert_error
from tests.conftest import bearer
from tutoring.extensions import db
from tutoring.people.models import User


@pytest.fixture
def coordinator_token(make_user, make_token):
    return make_token(make_user("coordinator"))


@pytest.mark.parametrize("role", ["learner", "tutor"])
def test_learners_and_tutors_cannot_list_or_create(client, make_user, make_token, role):
    raw = make_token(make_user(role))
    assert_error(client.get("/api/v1/users", headers=bearer(raw)), 403, "forbidden")
    response = client.post(
        "/api/v1/users",
        json={"email": "x@example.org", "name": "X", "role": "learner"},
        headers=bearer(raw),
    )
    assert_error(response, 403, "forbidden")


def test_coordinator_lists_users_filtered_by_role(client, make_user, coordinator_token):
    make_user("tutor", name="鈴木 健一")
    make_user("learner", name="田中 陽向")
    everyone = client.get("/api/v1/users", headers=bearer(coordinator_token)).json["users"]
    assert {u["role"] for u in everyone} == {"coordinator", "tutor", "learner"}
    tutors = client.get("/api/v1/users?role=tutor", headers=bearer(coordinator_token)).json["users"]
    assert [u["name"] for u in tutors] == ["鈴木 健一"]
    assert "password_hash" not in tutors[0]


def test_unknown_role_filter_is_400(client, coordinator_token):
    error = assert_error(
        client.get("/api/v1/users?role=wizard", headers=bearer(coordinator_token)), 400, "invalid"
    )
    assert error["field"] == "role"


def test_coordinator_creates_a_tutor_who_can_sign_in(app, client, coordinator_token):
    response = client.post(
        "/api/v1/users",
        json={
            "email": "Misaki@Example.org",
            "name": "高橋 美咲",
            "role": "tutor",
            "password": "a long password",
        },
        headers=bearer(coordinator_token),
    )
    assert response.status_code == 201
    created = response.json
    assert created["email"] == "misaki@example.org"
    assert created["role"] == "tutor"
    with app.app_context():
        from tutoring.auth.service import authenticate

        assert authenticate("misaki@example.org", "a long password").id == created["id"]


def test_learner_may_be_created_without_email(client, coordinator_token):
    response = client.post(
        "/api/v1/users",
        json={"name": "山本 湊", "role": "learner"},
        headers=bearer(coordinator_token),
    )
    assert response.status_code == 201
    assert response.json["email"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "X", "role": "tutor"}, "email"),
        ({"email": "not-an-email", "name": "X", "role": "tutor"}, "email"),
        ({"email": "x@example.org", "role": "tutor"}, "name"),
        ({"email": "x@example.org", "name": "  ", "role": "tutor"}, "name"),
        ({"email": "x@example.org", "name": "X" * 101, "role": "tutor"}, "name"),
        ({"email": "x@example.org", "name": 42, "role": "tutor"}, "name"),
        ({"email": "x@example.org", "name": "X", "role": "wizard"}, "role"),
        ({"email": "x@example.org", "name": "X"}, "role"),
        ({"email": "x@example.org", "name": "X", "role": "tutor", "password": "short"}, "password"),
        (
            {"email": "x@example.org", "name": "X", "role": "tutor", "password": 12345678901},
            "password",
        ),
        ({"email": ["x@example.org"], "name": "X", "role": "tutor"}, "email"),
        ({"name": "X", "role": "learner", "login_name": "-bad-"}, "login_name"),
    ],
)
def test_invalid_input_is_400_naming_the_field_and_stores_nothing(
    app, client, coordinator_token, body, field
):
    error = assert_error(
        client.post("/api/v1/users", json=body, headers=bearer(coordinator_token)), 400, "invalid"
    )
    assert error["field"] == field
    with app.app_context():
        assert db.session.query(User).count() == 1  # only the coordinator


def test_body_must_be_a_json_object(client, coordinator_token):
    for kwargs in (
        {"data": "name=x"},
        {"json": ["a list"]},
        {"data": "{not json", "content_type": "application/json"},
    ):
        error = assert_error(
            client.post("/api/v1/users", headers=bearer(coordinator_token), **kwargs),
            400,
            "invalid",
        )
        assert error["field"] == "body"


def test_duplicate_email_is_409(client, make_user, coordinator_token):
    existing = make_user("tutor")
    response = client.post(
        "/api/v1/users",
        json={"email": existing.email.upper(), "name": "X", "role": "tutor"},
        headers=bearer(coordinator_token),
    )
    assert assert_error(response, 409, "conflict")["field"] == "email"


def test_coordinator_cannot_create_admin_but_admin_can(
    client, make_user, make_token, coordinator_token
):
    body = {"email": "root@example.org", "name": "Root", "role": "admin"}
    assert (
        assert_error(
            client.post("/api/v1/users", json=body, headers=bearer(coordinator_token)),
            400,
            "invalid",
        )["field"]
        == "role"
    )
    admin_token = make_token(make_user("admin"))
    assert client.post("/api/v1/users", json=body, headers=bearer(admin_token)).status_code == 201

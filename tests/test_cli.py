"""The flask commands of CONTRACT.md: users create, tokens create, demo."""

from __future__ import annotations

from tests.conftest import bearer
from tutoring.demo import DEMO_PASSWORD, DEMO_PEOPLE
from tutoring.extensions import db
from tutoring.people.models import Role, User


def test_users_create_prints_the_id_last(app, runner):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "kenji@example.org",
            "--name",
            "鈴木 健一",
            "--role",
            "tutor",
            "--password",
            "a long password",
        ]
    )
    assert result.exit_code == 0, result.output
    user_id = int(result.output.strip().splitlines()[-1])
    with app.app_context():
        user = db.session.get(User, user_id)
        assert (user.email, user.name, user.role) == ("kenji@example.org", "鈴木 健一", Role.TUTOR)


def test_users_create_refuses_bad_input(app, runner, make_user):
    existing = make_user("tutor")
    duplicate = runner.invoke(
        args=["users", "create", "--email", existing.email, "--name", "X", "--role", "tutor"]
    )
    assert duplicate.exit_code != 0
    assert "email" in duplicate.output
    wizard = runner.invoke(
        args=["users", "create", "--email", "w@example.org", "--name", "X", "--role", "wizard"]
    )
    assert wizard.exit_code != 0


def test_tokens_create_prints_a_working_token_last(client, runner, make_user):
    tutor = make_user("tutor")
    result = runner.invoke(args=["tokens", "create", "--email", tutor.email])
    assert result.exit_code == 0, result.output
    raw = result.output.strip().splitlines()[-1]
    assert client.get("/api/v1/me", headers=bearer(raw)).json["id"] == tutor.id


def test_tokens_create_for_unknown_account_fails(runner):
    result = runner.invoke(args=["tokens", "create", "--email", "nobody@example.org"])
    assert result.exit_code != 0


def test_demo_is_idempotent_and_prints_the_accounts(app, runner):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    for email, name, _role in DEMO_PEOPLE:
        assert email in first.output
        assert name in first.output
    assert DEMO_PASSWORD in first.output
    assert runner.invoke(args=["demo"]).exit_code == 0
    with app.app_context():
        assert db.session.query(User).count() == len(DEMO_PEOPLE)
        roles = [u.role for u in db.session.query(User)]
        assert roles.count(Role.COORDINATOR) == 1
        assert roles.count(Role.TUTOR) == 2
        assert roles.count(Role.LEARNER) == 4


def test_demo_if_empty_leaves_a_real_database_alone(app, runner, make_user):
    make_user("coordinator")
    result = runner.invoke(args=["demo", "--if-empty"])
    assert result.exit_code == 0
    with app.app_context():
        assert db.session.query(User).count() == 1


def test_demo_accounts_sign_in(app, client, runner):
    runner.invoke(args=["demo"])
    with app.app_context():
        from tutoring.auth.service import authenticate

        assert authenticate("coordinator@example.org", DEMO_PASSWORD).role == Role.COORDINATOR

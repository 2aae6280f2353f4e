"""Invitation links: single use, expiring, for learners with or without e-mail."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.conftest import csrf_token
from tutoring.auth import service
from tutoring.database import utcnow
from tutoring.extensions import db
from tutoring.people.models import User


@pytest.fixture
def invite(app):
    """Return a helper making an invitation for an account, as a coordinator would."""

    def make(invitee, by, now=None) -> str:
        with app.app_context():
            _invitation, raw = service.create_invitation(
                db.session.get(User, by.id), db.session.get(User, invitee.id), now=now
            )
            db.session.commit()
            return raw

    return make


def accept(client, raw, **fields):
    data = {"password": "my own long password", "confirm": "my own long password", **fields}
    data["csrf_token"] = csrf_token(client, f"/invite/{raw}")
    return client.post(f"/invite/{raw}", data=data)


def test_learner_without_email_chooses_login_name_and_password(client, make_user, invite):
    coordinator = make_user("coordinator")
    learner = make_user("learner", name="田中 陽向", password=None, with_email=False)
    learner_id = learner.id
    raw = invite(learner, coordinator)
    page = client.get(f"/invite/{raw}").get_data(as_text=True)
    assert "ようこそ、田中 陽向 さん" in page
    assert 'name="login_name"' in page
    response = accept(client, raw, login_name="Hinata.T")
    assert response.status_code == 302
    assert client.get("/").status_code == 200  # signed in straight away
    with client.application.app_context():
        user = db.session.get(User, learner_id)
        assert user.login_name == "hinata.t"
        assert service.authenticate("hinata.t", "my own long password").id == learner_id


def test_invitation_cannot_be_used_twice(app, client, make_user, invite):
    coordinator = make_user("coordinator")
    tutor = make_user("tutor", password=None)
    raw = invite(tutor, coordinator)
    assert accept(client, raw).status_code == 302
    other = app.test_client()
    second = other.get(f"/invite/{raw}")
    assert second.status_code == 410
    assert "この招待リンクはすでに使われています" in second.get_data(as_text=True)


def test_expired_invitation_is_refused(client, make_user, invite):
    coordinator = make_user("coordinator")
    tutor = make_user("tutor", password=None)
    raw = invite(tutor, coordinator, now=utcnow() - timedelta(days=8))
    response = client.get(f"/invite/{raw}")
    assert response.status_code == 410
    assert "期限が切れています" in response.get_data(as_text=True)


def test_unknown_invitation_is_404(client):
    assert client.get("/invite/not-a-real-token").status_code == 404


def test_newer_link_used_spends_older_ones(app, client, make_user, invite):
    coordinator = make_user("coordinator")
    tutor = make_user("tutor", password=None)
    older = invite(tutor, coordinator)
    newer = invite(tutor, coordinator)
    assert accept(client, newer).status_code == 302
    assert app.test_client().get(f"/invite/{older}").status_code == 410


def test_invitation_checks_password_and_login_name(app, client, make_user, invite):
    coordinator = make_user("coordinator")
    make_user("learner", login_name="taken")
    learner = make_user("learner", name="伊藤 蓮", password=None, with_email=False)
    learner_id = learner.id
    raw = invite(learner, coordinator)
    short = accept(client, raw, login_name="ren", password="short", confirm="short")
    assert "10文字以上にしてください。" in short.get_data(as_text=True)
    taken = accept(client, raw, login_name="TAKEN")
    assert "ほかのアカウントですでに使われています。" in taken.get_data(as_text=True)
    bad = accept(client, raw, login_name="-x")
    assert "3〜32文字" in bad.get_data(as_text=True)
    differ = accept(client, raw, login_name="ren", confirm="something else entirely")
    assert "パスワードが一致しません。" in differ.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, learner_id).password_hash is None  # nothing stored


def test_coordinator_creates_learner_and_gets_link(app, client, make_user, login_as):
    login_as(make_user("coordinator"))
    response = client.post(
        "/people/new",
        data={
            "name": "渡辺 結衣",
            "role": "learner",
            "email": "",
            "password": "",
            "csrf_token": csrf_token(client, "/people/new"),
        },
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    link = re.search(r'value="(http://localhost/invite/[^"]+)"', page).group(1)
    stranger = app.test_client()
    assert "ようこそ、渡辺 結衣 さん" in stranger.get(link).get_data(as_text=True)


def test_coordinator_can_reissue_a_link(app, client, make_user, login_as):
    login_as(make_user("coordinator"))
    learner = make_user("learner", password=None)
    response = client.post(
        f"/people/{learner.id}/invitation", data={"csrf_token": csrf_token(client, "/people")}
    )
    assert response.status_code == 200
    assert "/invite/" in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["learner", "tutor"])
def test_non_managers_cannot_issue_links(client, make_user, login_as, role):
    login_as(make_user(role))
    target = make_user("learner", password=None)
    response = client.post(
        f"/people/{target.id}/invitation", data={"csrf_token": csrf_token(client, "/settings")}
    )
    assert response.status_code == 403


def test_coordinator_cannot_issue_links_for_admins(client, make_user, login_as):
    login_as(make_user("coordinator"))
    admin = make_user("admin")
    response = client.post(
        f"/people/{admin.id}/invitation", data={"csrf_token": csrf_token(client, "/people")}
    )
    assert response.status_code == 404

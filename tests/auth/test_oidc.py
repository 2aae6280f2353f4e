"""OpenID Connect sign-in against a local stand-in provider, through Authlib's real client."""

from __future__ import annotations

import time

import pytest

from tests.auth.oidc_standin import StandInProvider
from tests.conftest import csrf_token
from tutoring.auth import service
from tutoring.auth.models import ExternalIdentity
from tutoring.extensions import db
from tutoring.people.models import User

REFUSED = "プロバイダーでのサインインに失敗しました"
NOT_LINKED = "このサインインに紐づくアカウントがありません"


@pytest.fixture
def provider():
    standin = StandInProvider().start()
    yield standin
    standin.stop()


@pytest.fixture
def second_provider():
    standin = StandInProvider(client_id="manabi-2").start()
    yield standin
    standin.stop()


def provider_config(standin: StandInProvider, label: str) -> dict:
    return {
        "client_id": standin.client_id,
        "client_secret": standin.client_secret,
        "discovery_url": f"{standin.base}/.well-known/openid-configuration",
        "label": label,
    }


@pytest.fixture
def app_config(provider, second_provider):
    return {
        "OIDC_PROVIDERS": {
            "standin": provider_config(provider, "Stand-in"),
            "other": provider_config(second_provider, "Other"),
        }
    }


def sign_in(client, standin, name="standin", **claims):
    """Go through the redirect dance; return the callback response."""
    start = client.get(f"/login/{name}")
    assert start.status_code == 302
    callback = standin.authorize(start.headers["Location"], **claims)
    return client.get(f"/login/{name}/callback", query_string=callback)


def signed_in_as(client) -> int | None:
    response = client.get("/api/v1/me")
    return response.json["id"] if response.status_code == 200 else None


def test_providers_appear_on_the_sign_in_page_only_when_configured(client, app):
    page = client.get("/login").get_data(as_text=True)
    assert "Stand-inでサインイン" in page
    app.extensions["oidc_providers"] = {}
    assert "でサインイン" not in client.get("/login").get_data(as_text=True)
    assert client.get("/login/standin").status_code == 404


def test_verified_email_of_an_account_links_and_signs_in(app, client, provider, make_user):
    tutor = make_user("tutor", email="kenji@example.org")
    response = sign_in(
        client, provider, sub="google-123", email="Kenji@Example.org", email_verified=True
    )
    assert response.status_code == 302
    assert signed_in_as(client) == tutor.id
    with app.app_context():
        identity = db.session.query(ExternalIdentity).one()
        assert (identity.user_id, identity.issuer, identity.subject) == (
            tutor.id,
            provider.issuer,
            "google-123",
        )
    # Next time the identity alone signs in, even with another e-mail at the provider.
    other = app.test_client()
    assert (
        sign_in(
            other, provider, sub="google-123", email="new@example.org", email_verified=False
        ).status_code
        == 302
    )
    assert signed_in_as(other) == tutor.id


def test_unverified_or_unknown_identity_is_refused(client, provider, make_user):
    make_user("tutor", email="kenji@example.org")
    unverified = sign_in(
        client, provider, sub="x1", email="kenji@example.org", email_verified=False
    )
    assert unverified.status_code == 403
    assert NOT_LINKED in unverified.get_data(as_text=True)
    stranger = sign_in(
        client, provider, sub="x2", email="stranger@example.org", email_verified=True
    )
    assert stranger.status_code == 403
    assert signed_in_as(client) is None


def test_linking_through_an_invitation(app, client, provider, make_user):
    coordinator = make_user("coordinator")
    learner = make_user("learner", name="田中 陽向", password=None, with_email=False)
    with app.app_context():
        _, raw = service.create_invitation(
            db.session.get(User, coordinator.id), db.session.get(User, learner.id)
        )
        db.session.commit()
    page = client.get(f"/invite/{raw}").get_data(as_text=True)
    assert "Stand-inでサインイン" in page
    start = client.post(
        f"/invite/{raw}",
        data={"provider": "standin", "csrf_token": csrf_token(client, f"/invite/{raw}")},
    )
    assert start.headers["Location"] == "/login/standin"
    response = sign_in(client, provider, sub="line-u1")  # no e-mail at all, as LINE often
    assert response.status_code == 302
    assert signed_in_as(client) == learner.id
    assert app.test_client().get(f"/invite/{raw}").status_code == 410  # the link is spent


@pytest.mark.parametrize(
    "claims",
    [
        {"nonce": "not-the-nonce"},
        {"aud": "someone-else"},
        {"iss": "http://evil.example.net"},
        {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200},
    ],
    ids=["wrong nonce", "wrong audience", "wrong issuer", "expired"],
)
def test_bad_id_tokens_are_refused(client, provider, make_user, claims):
    make_user("tutor", email="kenji@example.org")
    response = sign_in(
        client, provider, sub="g1", email="kenji@example.org", email_verified=True, **claims
    )
    assert response.status_code == 400
    assert REFUSED in response.get_data(as_text=True)
    assert signed_in_as(client) is None


def test_wrong_state_is_refused(client, provider, make_user):
    make_user("tutor", email="kenji@example.org")
    start = client.get("/login/standin")
    callback = provider.authorize(
        start.headers["Location"], sub="g1", email="kenji@example.org", email_verified=True
    )
    callback["state"] = "forged-state"
    response = client.get("/login/standin/callback", query_string=callback)
    assert response.status_code == 400
    assert signed_in_as(client) is None


def test_a_replayed_code_is_refused(app, client, provider, make_user):
    make_user("tutor", email="kenji@example.org")
    start = client.get("/login/standin")
    callback = provider.authorize(
        start.headers["Location"], sub="g1", email="kenji@example.org", email_verified=True
    )
    assert client.get("/login/standin/callback", query_string=callback).status_code == 302
    attacker = app.test_client()
    assert attacker.get("/login/standin/callback", query_string=callback).status_code == 400
    assert signed_in_as(attacker) is None


def test_two_providers_with_the_same_email_stay_two_identities(
    app, client, provider, second_provider, make_user
):
    tutor = make_user("tutor", email="kenji@example.org")
    assert (
        sign_in(
            client, provider, sub="same-sub", email="kenji@example.org", email_verified=True
        ).status_code
        == 302
    )
    # The same subject at another issuer is another person until it proves the e-mail.
    other = app.test_client()
    refused = sign_in(
        other,
        second_provider,
        name="other",
        sub="same-sub",
        email="kenji@example.org",
        email_verified=False,
    )
    assert refused.status_code == 403
    assert (
        sign_in(
            other,
            second_provider,
            name="other",
            sub="same-sub",
            email="kenji@example.org",
            email_verified=True,
        ).status_code
        == 302
    )
    with app.app_context():
        issuers = sorted(
            i.issuer for i in db.session.query(ExternalIdentity).filter_by(user_id=tutor.id)
        )
    assert issuers == sorted([provider.issuer, second_provider.issuer])


def test_disabled_account_cannot_sign_in_with_its_identity(app, client, provider, make_user):
    tutor = make_user("tutor", email="kenji@example.org")
    sign_in(client, provider, sub="g1", email="kenji@example.org", email_verified=True)
    with app.app_context():
        db.session.get(User, tutor.id).active = False
        db.session.commit()
    assert sign_in(app.test_client(), provider, sub="g1").status_code == 403


def test_admin_unlinks_an_identity(app, client, provider, make_user, login_as):
    tutor = make_user("tutor", email="kenji@example.org")
    sign_in(app.test_client(), provider, sub="g1", email="kenji@example.org", email_verified=True)
    with app.app_context():
        identity_id = db.session.query(ExternalIdentity).one().id
    coordinator = make_user("coordinator")
    login_as(coordinator)
    assert client.get(f"/people/{tutor.id}/identities").status_code == 403
    login_as(make_user("admin"))
    assert "standin" in client.get(f"/people/{tutor.id}/identities").get_data(as_text=True)
    client.post(
        f"/people/{tutor.id}/identities",
        data={"identity_id": str(identity_id), "csrf_token": csrf_token(client, "/settings")},
    )
    with app.app_context():
        assert db.session.query(ExternalIdentity).count() == 0
    assert sign_in(app.test_client(), provider, sub="g1").status_code == 403


def test_linking_line_makes_the_learner_reachable_on_line(app, provider, make_user):
    from tutoring.notify.models import NotificationPreference

    app.extensions["oidc_providers"]["standin"]["preset"] = "line"
    coordinator = make_user("coordinator")
    learner = make_user("learner", password=None, with_email=False)
    with app.app_context():
        _, raw = service.create_invitation(
            db.session.get(User, coordinator.id), db.session.get(User, learner.id)
        )
        db.session.commit()
    client = app.test_client()
    client.post(
        f"/invite/{raw}",
        data={"provider": "standin", "csrf_token": csrf_token(client, f"/invite/{raw}")},
    )
    line_id = "U" + "0123456789abcdef" * 2
    assert sign_in(client, provider, sub=line_id).status_code == 302
    with app.app_context():
        assert db.session.get(NotificationPreference, learner.id).line_user_id == line_id

"""Two-step sign-in: enrolment with a TOTP app, codes used once, recovery codes, the staff rule."""

from __future__ import annotations

import re
import time
from dataclasses import replace

import pyotp
import pytest

from tests.auth.test_login import sign_in
from tests.conftest import PASSWORD, csrf_token
from tutoring.auth import two_factor
from tutoring.extensions import db
from tutoring.people.models import User


@pytest.fixture
def app_config():
    return {"TWO_FACTOR_REQUIRED_ROLES": ["coordinator", "admin"]}


def enrol(app, account) -> tuple[str, list[str]]:
    """Enrol an account through the service; return its secret and recovery codes."""
    with app.app_context():
        user = db.session.get(User, account.id)
        secret = two_factor.new_secret()
        codes = two_factor.enrol(user, secret, pyotp.TOTP(secret).now())
        user.totp_last_step = None  # let the test use the current code again
        db.session.commit()
        return secret, codes


def verify(client, code):
    return client.post(
        "/login/verify", data={"code": code, "csrf_token": csrf_token(client, "/login/verify")}
    )


def test_coordinator_without_second_factor_must_enrol_before_anything_else(client, make_user):
    coordinator = make_user("coordinator")
    assert sign_in(client, coordinator.email, PASSWORD).status_code == 302
    for page in ("/", "/people", "/schedule", "/settings"):
        response = client.get(page)
        assert response.status_code == 302
        assert response.headers["Location"] == "/settings/two-factor"


def test_enrolment_through_the_page(app, client, make_user):
    coordinator = make_user("coordinator")
    sign_in(client, coordinator.email, PASSWORD)
    page = client.get("/settings/two-factor").get_data(as_text=True)
    assert "<svg" in page
    secret = re.search(r'<code class="mono">([A-Z2-7]{32})</code>', page).group(1)
    wrong = client.post(
        "/settings/two-factor",
        data={"code": "000000", "csrf_token": csrf_token(client, "/settings/two-factor")},
    )
    assert "コードが正しくありません" in wrong.get_data(as_text=True)
    done = client.post(
        "/settings/two-factor",
        data={
            "code": pyotp.TOTP(secret).now(),
            "csrf_token": csrf_token(client, "/settings/two-factor"),
        },
    )
    codes = re.findall(r"<li>([0-9a-f]{5}-[0-9a-f]{5})</li>", done.get_data(as_text=True))
    assert len(codes) == 10
    assert client.get("/").status_code == 200  # this device stays signed in
    with app.app_context():
        assert db.session.get(User, coordinator.id).totp_secret == secret


def test_sign_in_asks_for_the_code_and_accepts_it_once(app, client, make_user):
    coordinator = make_user("coordinator")
    secret, _ = enrol(app, coordinator)
    first = sign_in(client, coordinator.email, PASSWORD)
    assert first.headers["Location"] == "/login/verify"
    assert client.get("/").status_code == 302  # not signed in yet
    code = pyotp.TOTP(secret).now()
    assert verify(client, "123456" if code != "123456" else "654321").status_code == 401
    assert verify(client, code).status_code == 302
    assert client.get("/").status_code == 200
    # The same code again, on another device, is refused.
    other = app.test_client()
    sign_in(other, coordinator.email, PASSWORD)
    assert verify(other, code).status_code == 401


def test_recovery_codes_work_once(app, client, make_user):
    tutor = make_user("tutor")
    _secret, codes = enrol(app, tutor)
    sign_in(client, tutor.email, PASSWORD)
    assert verify(client, codes[0].upper()).status_code == 302
    other = app.test_client()
    sign_in(other, tutor.email, PASSWORD)
    assert verify(other, codes[0]).status_code == 401
    assert verify(other, codes[1]).status_code == 302


def test_a_pending_sign_in_expires(app, client, make_user, monkeypatch):
    tutor = make_user("tutor")
    secret, _ = enrol(app, tutor)
    sign_in(client, tutor.email, PASSWORD)
    token = csrf_token(client, "/login/verify")
    real = time.time
    monkeypatch.setattr("tutoring.auth.views.time.time", lambda: real() + 301)
    response = client.post(
        "/login/verify", data={"code": pyotp.TOTP(secret).now(), "csrf_token": token}
    )
    assert response.headers["Location"] == "/login"
    assert client.get("/").status_code == 302


def test_codes_from_other_times_are_refused(app, make_user):
    tutor = make_user("tutor")
    secret, _ = enrol(app, tutor)
    totp = pyotp.TOTP(secret)
    now = time.time()
    with app.app_context():
        user = db.session.get(User, tutor.id)
        assert not two_factor.verify(user, totp.at(now - 120), now)
        assert two_factor.verify(user, totp.at(now - 30), now)  # one step of clock drift
        assert not two_factor.verify(user, totp.at(now - 30), now)  # not twice
        assert not two_factor.verify(user, "12345", now)


def test_tutors_may_turn_it_off_coordinators_may_not(app, client, make_user, login_as):
    tutor = make_user("tutor")
    enrol(app, tutor)
    login_as(
        replace(tutor, session_version=tutor.session_version + 1)
    )  # enrolment ends old sessions
    assert (
        client.post(
            "/settings/two-factor/disable", data={"csrf_token": csrf_token(client, "/settings")}
        ).status_code
        == 302
    )
    with app.app_context():
        assert not db.session.get(User, tutor.id).has_second_factor
    coordinator = make_user("coordinator")
    enrol(app, coordinator)
    login_as(replace(coordinator, session_version=coordinator.session_version + 1))
    assert (
        client.post(
            "/settings/two-factor/disable", data={"csrf_token": csrf_token(client, "/settings")}
        ).status_code
        == 403
    )

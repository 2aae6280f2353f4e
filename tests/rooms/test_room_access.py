"""Room rules through the API and the page: window, cancellation, participants, JWT per role."""

from __future__ import annotations

from datetime import timedelta

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey

from tests.api.test_auth_and_errors import assert_error
from tests.conftest import Program, bearer, csrf_token
from tutoring.attendance.models import PresenceEvent
from tutoring.database import utcnow
from tutoring.extensions import db
from tutoring.people.models import User
from tutoring.scheduling import service
from tutoring.scheduling.models import TutoringSession

SECRET = "a-test-secret-that-is-long-enough-0123456789"


@pytest.fixture
def app_config():
    return {
        "JITSI_DOMAIN": "meet.example.org",
        "JITSI_APP_ID": "manabi",
        "JITSI_APP_SECRET": SECRET,
    }


@pytest.fixture
def tokens(program, make_token):
    return {
        n: make_token(getattr(program, n))
        for n in ("coordinator", "tutor", "other_tutor", "learner", "other_learner")
    }


@pytest.fixture
def open_session(book):
    """A session that started five minutes ago: its room is open."""
    return book(utcnow().replace(microsecond=0) - timedelta(minutes=5))[0]


def room(client, token, session_id):
    return client.get(f"/api/v1/sessions/{session_id}/room", headers=bearer(token))


def decode(token: str) -> dict:
    return jwt.decode(token, OctKey.import_key(SECRET)).claims


def test_participants_get_room_details_with_their_token(
    app, client, program: Program, tokens, open_session
):
    with app.app_context():
        session = db.session.get(TutoringSession, open_session)
        room_name = session.room_name
        opens, closes = service.join_window(session)
    for who, moderator in (("tutor", True), ("learner", False), ("coordinator", False)):
        response = room(client, tokens[who], open_session)
        assert response.status_code == 200
        body = response.json
        assert body["jitsi"]["domain"] == "meet.example.org"
        assert body["jitsi"]["room"] == room_name
        assert body["whiteboard"] == {"namespace": "/whiteboard", "board_id": open_session}
        claims = decode(body["jitsi"]["jwt"])
        assert claims["room"] == room_name
        assert claims["sub"] == "meet.example.org"
        assert (claims["nbf"], claims["exp"]) == (int(opens.timestamp()), int(closes.timestamp()))
        user = claims["context"]["user"]
        assert ("moderator" in user) is moderator
        assert str(getattr(program, who).id) != user["id"]
        assert getattr(program, who).email not in str(claims)
    assert "no-store" in response.headers["Cache-Control"]


def test_room_names_are_unguessable_and_distinct(app, book):
    ids = book(utcnow() + timedelta(days=1), weekly_until=(utcnow() + timedelta(days=30)).date())
    with app.app_context():
        names = [db.session.get(TutoringSession, i).room_name for i in ids]
    assert len(set(names)) == len(names)
    assert all(len(n) >= 26 and n.isalnum() and n.islower() for n in names)


def test_display_name_is_the_one_chosen_for_rooms(app, client, program, tokens, open_session):
    with app.app_context():
        db.session.get(User, program.learner.id).room_display_name = "ひなた"
        db.session.commit()
    claims = decode(room(client, tokens["learner"], open_session).json["jitsi"]["jwt"])
    assert claims["context"]["user"]["name"] == "ひなた"


@pytest.mark.parametrize(
    ("start", "open_"),
    [
        (timedelta(minutes=16), False),  # 16 minutes before start
        (timedelta(minutes=14), True),
        (-timedelta(minutes=149), True),  # 120 min session ended 29 min ago
        (-timedelta(minutes=151), False),
    ],
)
def test_join_window_through_the_api(client, tokens, book, start, open_):
    [session_id] = book(utcnow() + start)
    response = room(client, tokens["learner"], session_id)
    if open_:
        assert response.status_code == 200
    else:
        assert_error(response, 403, "room_closed")


def test_cancelled_session_is_never_open(app, client, program, tokens, open_session):
    with app.app_context():
        service.cancel(
            db.session.get(User, program.coordinator.id),
            db.session.get(TutoringSession, open_session),
            reason="中止",
        )
        db.session.commit()
    assert_error(room(client, tokens["tutor"], open_session), 403, "room_closed")


@pytest.mark.parametrize("who", ["other_learner", "other_tutor"])
def test_strangers_get_404_and_no_token(client, tokens, open_session, who):
    assert_error(room(client, tokens[who], open_session), 404, "not_found")


def test_no_jwt_without_keys(app, client, tokens, open_session):
    app.extensions["jitsi_keys"] = None
    assert room(client, tokens["learner"], open_session).json["jitsi"]["jwt"] is None


def test_room_page_inside_the_window(client, login_as, program, open_session):
    login_as(program.learner)
    response = client.get(f"/sessions/{open_session}/room")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-domain="meet.example.org"' in page
    assert 'data-moderator="false"' in page
    assert 'data-lang="ja"' in page
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self' https://meet.example.org" in policy
    assert "frame-src https://meet.example.org" in policy
    # Other pages do not allow the video domain.
    assert "meet.example.org" not in client.get("/").headers["Content-Security-Policy"]


def test_room_page_for_the_tutor_is_moderated(client, login_as, program, open_session):
    login_as(program.tutor)
    assert 'data-moderator="true"' in client.get(f"/sessions/{open_session}/room").get_data(
        as_text=True
    )


def test_room_page_outside_the_window_holds_no_token(client, login_as, program, book):
    [later] = book(utcnow() + timedelta(days=2))
    login_as(program.learner)
    page = client.get(f"/sessions/{later}/room").get_data(as_text=True)
    assert "data-jwt" not in page
    assert "ルームは" in page
    assert "に開きます。" in page


def test_presence_reports_are_stored_inside_the_window(
    app, client, program, login_as, open_session, book
):
    login_as(program.learner)
    token = csrf_token(client, "/")
    response = client.post(
        f"/api/v1/sessions/{open_session}/presence",
        json={"source": "video", "kind": "joined", "client_id": "tab-1"},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 201
    with app.app_context():
        event = db.session.query(PresenceEvent).one()
        assert (event.user_id, event.source.value, event.kind.value, event.client_id) == (
            program.learner.id,
            "video",
            "joined",
            "tab-1",
        )
    [later] = book(utcnow() + timedelta(days=2))
    closed = client.post(
        f"/api/v1/sessions/{later}/presence",
        json={"source": "video", "kind": "joined"},
        headers={"X-CSRFToken": token},
    )
    assert_error(closed, 403, "room_closed")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"source": "radio", "kind": "joined"}, "source"),
        ({"source": "whiteboard", "kind": "joined"}, "source"),
        ({"source": "video", "kind": "dancing"}, "kind"),
        ({"source": "video", "kind": "left", "client_id": "x" * 65}, "client_id"),
        ({"source": "video", "kind": "left", "client_id": 5}, "client_id"),
    ],
)
def test_bad_presence_reports_are_400(app, client, tokens, open_session, body, field):
    response = client.post(
        f"/api/v1/sessions/{open_session}/presence", json=body, headers=bearer(tokens["learner"])
    )
    assert assert_error(response, 400, "invalid")["field"] == field
    with app.app_context():
        assert db.session.query(PresenceEvent).count() == 0


def test_strangers_cannot_report_presence(client, tokens, open_session):
    response = client.post(
        f"/api/v1/sessions/{open_session}/presence",
        json={"source": "video", "kind": "joined"},
        headers=bearer(tokens["other_learner"]),
    )
    assert_error(response, 404, "not_found")


def test_misconfigured_jitsi_stops_the_start(tmp_path):
    from tests.conftest import BASE_CONFIG
    from tutoring import create_app

    with pytest.raises(ValueError, match="TUTORING_JITSI_KID"):
        create_app(
            {**BASE_CONFIG, "JITSI_APP_ID": "x", "JITSI_PRIVATE_KEY_PATH": str(tmp_path / "k.pem")},
            instance_path=str(tmp_path),
        )

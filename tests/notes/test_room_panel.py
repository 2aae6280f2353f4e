"""The tutor's note panel in the room: goals, last homework, and the session's note."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import csrf_token
from tests.records.conftest import user
from tutoring.database import utcnow
from tutoring.extensions import db
from tutoring.notes.models import NoteRevision, StudyNote, Visibility
from tutoring.records import service as records
from tutoring.records.models import AuditEntry


@pytest.fixture
def open_session(book, world):
    return book(utcnow().replace(microsecond=0) - timedelta(minutes=5))[0]


@pytest.fixture
def with_goal_and_homework(app, world, api):
    with app.app_context():
        records.save_goal(
            user(world.coordinator),
            user(world.learner),
            None,
            text="数学の基礎を固める",
            target_on=None,
        )
        db.session.commit()
    api(
        world.tutor,
        "POST",
        f"/api/v1/learners/{world.learner.id}/notes",
        {"subject": "数学", "body": "前回", "homework": "計算ドリル p.8", "visibility": "learner"},
    )


def room(client, session_id):
    return client.get(f"/sessions/{session_id}/room").get_data(as_text=True)


def test_the_tutor_gets_the_panel_with_goals_and_last_homework(
    app, client, login_as, world, open_session, with_goal_and_homework
):
    login_as(world.tutor)
    page = room(client, open_session)
    assert 'id="note-panel"' in page
    assert "note-panel-floating" in page
    assert "数学の基礎を固める" in page
    assert "計算ドリル p.8" in page
    assert f'action="/sessions/{open_session}/note"' in page
    assert f'data-api-url="/api/v1/learners/{world.learner.id}/notes"' in page
    assert 'name="note-body"' in page
    assert 'src="/static/dist/room_panel.js"' in page
    with app.app_context():
        read = db.session.query(AuditEntry).filter_by(target="room_panel").one()
        assert (read.actor_id, read.learner_id) == (world.tutor.id, world.learner.id)


@pytest.mark.parametrize("who", ["learner", "coordinator"])
def test_nobody_else_gets_the_panel(
    app, client, login_as, world, open_session, with_goal_and_homework, who
):
    login_as(getattr(world, who))
    page = room(client, open_session)
    assert "data-jitsi-container" in page  # the room itself is there
    assert 'id="note-panel"' not in page
    assert "計算ドリル p.8" not in page
    with app.app_context():
        assert db.session.query(AuditEntry).filter_by(target="room_panel").count() == 0


def test_after_the_session_the_panel_is_an_open_card(client, login_as, world, book):
    ended = book(utcnow().replace(microsecond=0) - timedelta(hours=5))[0]
    login_as(world.tutor)
    page = room(client, ended)
    assert "This session has ended" in page
    assert 'class="note-panel card" id="note-panel" open' in page


def test_without_scripts_the_form_saves_and_returns_to_the_room(
    app, client, login_as, world, open_session
):
    login_as(world.tutor)
    token = csrf_token(client, f"/sessions/{open_session}/room")
    fields = {
        "note-csrf_token": token,
        "note-subject": "英語",
        "note-material": "中学英語",
        "note-pages": "p.20",
        "note-body": "三人称単数の **s**",
        "note-homework": "例文を5つ",
        "note-next_steps": "",
        "note-visibility": "learner",
    }
    response = client.post(f"/sessions/{open_session}/note", data=fields)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/sessions/{open_session}/room#note-panel"
    again = client.post(
        f"/sessions/{open_session}/note", data={**fields, "note-homework": "例文を10こ"}
    )
    assert again.status_code == 302
    with app.app_context():
        note = db.session.query(StudyNote).one()
        assert note.session_id == open_session
        assert note.homework == "例文を10こ"
        assert note.visibility is Visibility.LEARNER
        assert db.session.query(NoteRevision).one().before["homework"] == "例文を5つ"
    page = room(client, open_session)
    assert "例文を10こ" in page  # prefilled: the panel edits the session's note
    refused = client.post(
        f"/sessions/{open_session}/note", data={**fields, "note-visibility": "", "note-body": "x"}
    )
    assert refused.status_code == 302
    assert "The note was not saved" in room(client, open_session)
    with app.app_context():
        assert db.session.query(StudyNote).one().body == "三人称単数の **s**"


def test_only_the_sessions_tutor_posts_from_the_room(client, login_as, world, open_session):
    for account, status in (
        (world.other_tutor, 404),
        (world.coordinator, 404),
        (world.learner, 403),
    ):
        login_as(account)
        token = csrf_token(client, "/settings")
        response = client.post(
            f"/sessions/{open_session}/note",
            data={
                "note-csrf_token": token,
                "note-subject": "x",
                "note-body": "x",
                "note-visibility": "staff",
            },
        )
        assert response.status_code == status

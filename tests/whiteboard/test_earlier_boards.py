"""Earlier boards stay readable, and a tutor copies a page of last week's board into today's."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.api.test_auth_and_errors import assert_error
from tests.conftest import bearer
from tests.whiteboard.conftest import stroke_payload
from tutoring.database import utcnow
from tutoring.extensions import db
from tutoring.people.models import User
from tutoring.scheduling.models import TutoringSession
from tutoring.whiteboard import service
from tutoring.whiteboard.models import BoardItem
from tutoring.whiteboard.schema import parse_stroke


@pytest.fixture
def last_week(app, program, book):
    """Last week's session with three strokes on page 0 (one undone) and one on page 1."""
    [session_id] = book(utcnow().replace(microsecond=0) - timedelta(days=7))
    with app.app_context():
        session = db.session.get(TutoringSession, session_id)
        tutor = db.session.get(User, program.tutor.id)
        for stroke_id, page in (("a", 0), ("b", 0), ("gone", 0), ("other-page", 1)):
            service.add_stroke(
                session.id, tutor.id, parse_stroke(stroke_payload(stroke_id, page=page))
            )
        service.toggle_stroke(session, tutor, "gone", show=False)
        db.session.commit()
    return session_id


@pytest.fixture
def today(book):
    return book(utcnow().replace(microsecond=0) - timedelta(minutes=5))[0]


@pytest.fixture
def tokens(program, make_token):
    return {
        n: make_token(getattr(program, n))
        for n in ("tutor", "learner", "other_learner", "other_tutor", "coordinator")
    }


def test_an_earlier_board_is_readable_by_those_who_see_the_session(client, tokens, last_week):
    for who in ("learner", "tutor", "coordinator"):
        body = client.get(f"/api/v1/sessions/{last_week}/board", headers=bearer(tokens[who])).json
        assert body["last_seq"] == 5
        assert [i["type"] for i in body["items"]] == [
            "stroke",
            "stroke",
            "stroke",
            "stroke",
            "erase",
        ]
    for who in ("other_learner", "other_tutor"):
        assert_error(
            client.get(f"/api/v1/sessions/{last_week}/board", headers=bearer(tokens[who])),
            404,
            "not_found",
        )


def test_board_page_is_read_only_and_lists_the_learners_boards(
    client, login_as, program, last_week, today
):
    login_as(program.learner)
    page = client.get(f"/sessions/{last_week}/board").get_data(as_text=True)
    assert 'data-read-only="true"' in page
    assert f'data-items-url="/api/v1/sessions/{last_week}/board"' in page
    assert "今日のボードにコピー" not in page  # learners do not copy
    login_as(program.other_learner)
    assert client.get(f"/sessions/{last_week}/board").status_code == 404


def test_the_room_links_last_weeks_board(client, login_as, program, last_week, today):
    login_as(program.learner)
    page = client.get(f"/sessions/{today}/room").get_data(as_text=True)
    assert f'href="/sessions/{last_week}/board"' in page


def test_tutor_copies_what_a_page_shows_into_todays_board_once(
    app, client, tokens, program, last_week, today, login_as
):
    login_as(program.tutor)
    assert "今日のボードにコピー" in client.get(f"/sessions/{last_week}/board").get_data(
        as_text=True
    )
    url = f"/api/v1/sessions/{today}/board/copy"
    first = client.post(
        url,
        json={"from_session_id": last_week, "page": 0, "to_page": 2},
        headers=bearer(tokens["tutor"]),
    )
    assert first.status_code == 201
    copied = first.json["items"]
    assert [(i["type"], i["page"], i["points"]) for i in copied] == [
        ("stroke", 2, [[10, 20], [30, 40.5]])
    ] * 2
    again = client.post(
        url,
        json={"from_session_id": last_week, "page": 0, "to_page": 2},
        headers=bearer(tokens["tutor"]),
    )
    assert again.json["items"] == []
    with app.app_context():
        assert db.session.query(BoardItem).filter_by(session_id=today).count() == 2


def test_copy_is_for_the_tutor_and_the_same_learner(
    client, tokens, program, last_week, today, book
):
    url = f"/api/v1/sessions/{today}/board/copy"
    body = {"from_session_id": last_week, "page": 0}
    assert_error(client.post(url, json=body, headers=bearer(tokens["learner"])), 403, "forbidden")
    assert_error(
        client.post(url, json=body, headers=bearer(tokens["other_tutor"])), 404, "not_found"
    )
    [stranger] = book(
        utcnow() - timedelta(days=3), learner=program.other_learner, tutor=program.other_tutor
    )
    error = assert_error(
        client.post(
            url, json={"from_session_id": stranger, "page": 0}, headers=bearer(tokens["tutor"])
        ),
        400,
        "invalid",
    )
    assert error["field"] == "from_session_id"
    error = assert_error(
        client.post(
            url, json={"from_session_id": last_week, "page": -1}, headers=bearer(tokens["tutor"])
        ),
        400,
        "invalid",
    )
    assert error["field"] == "page"


def test_copied_strokes_reach_the_room(board_client, client, tokens, last_week, today):
    learner = board_client(token=tokens["learner"])
    learner.call("join", {"session_id": today})
    client.post(
        f"/api/v1/sessions/{today}/board/copy",
        json={"from_session_id": last_week, "page": 1},
        headers=bearer(tokens["tutor"]),
    )
    [stroke] = learner.wait_for("stroke")
    assert stroke["page"] == 1

"""The attendance API of CONTRACT.md: shapes, permissions, validation, history."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.attendance.conftest import START, at, bearer
from tests.conftest import csrf_token
from tutoring.attendance.tasks import sweep_all
from tutoring.database import utcnow
from tutoring.extensions import db
from tutoring.scheduling.models import Mode, Status, TutoringSession


def error_of(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()["error"]


@pytest.fixture
def swept_session(app, program, past_session, presence):
    """The past session: tutor there throughout, learner from 16:05 with a reconnect."""
    presence(past_session, program.tutor, "video", "joined", -2, "t")
    presence(past_session, program.tutor, "video", "left", 121, "t")
    presence(past_session, program.learner, "whiteboard", "joined", 5, "s1")
    presence(past_session, program.learner, "whiteboard", "left", 50, "s1")
    presence(past_session, program.learner, "whiteboard", "joined", 50.25, "s2")
    presence(past_session, program.learner, "whiteboard", "left", 118, "s2")
    with app.app_context():
        sweep_all(at(200))
    return past_session


# GET /api/v1/sessions/<id>/attendance


def test_participants_see_statuses_minutes_and_merged_intervals(client, tokens, swept_session):
    body = client.get(
        f"/api/v1/sessions/{swept_session}/attendance", headers=bearer(tokens["learner"])
    ).get_json()
    learner, tutor = body["attendance"]
    assert learner["role"] == "learner"
    assert tutor["role"] == "tutor"
    assert learner["status"] == "present"
    assert learner["minutes_present"] == 113
    assert learner["first_joined_at"] == "2026-11-10T16:05:00+09:00"
    assert learner["last_left_at"] == "2026-11-10T17:58:00+09:00"
    assert learner["intervals"] == [
        {"joined_at": "2026-11-10T16:05:00+09:00", "left_at": "2026-11-10T17:58:00+09:00"}
    ]
    assert "note" not in learner  # notes are for staff
    assert tutor["status"] == "present"
    assert tutor["minutes_present"] == 120


@pytest.mark.parametrize(("who", "status"), [("tutor", 200), ("coordinator", 200)])
def test_staff_of_the_session_see_notes(client, tokens, swept_session, who, status):
    response = client.get(
        f"/api/v1/sessions/{swept_session}/attendance", headers=bearer(tokens[who])
    )
    assert response.status_code == status
    assert "note" in response.get_json()["attendance"][0]


@pytest.mark.parametrize("who", ["other_learner", "other_tutor"])
def test_others_get_404(client, tokens, swept_session, who):
    response = client.get(
        f"/api/v1/sessions/{swept_session}/attendance", headers=bearer(tokens[who])
    )
    assert error_of(response, 404)["code"] == "not_found"


def test_without_credentials_401(client, swept_session):
    assert client.get(f"/api/v1/sessions/{swept_session}/attendance").status_code == 401


def test_a_live_session_shows_who_is_in_the_room(app, client, program, tokens, book):
    session_id = book(utcnow().replace(microsecond=0) - timedelta(minutes=5))[0]
    token = tokens["learner"]
    for kind in ("joined", "heartbeat"):
        client.post(
            f"/api/v1/sessions/{session_id}/presence",
            json={"source": "page", "kind": kind, "client_id": "phone"},
            headers=bearer(token),
        )
    learner = client.get(
        f"/api/v1/sessions/{session_id}/attendance", headers=bearer(token)
    ).get_json()["attendance"][0]
    assert learner["status"] is None  # not ended: no status yet
    assert learner["last_left_at"] is None
    assert learner["intervals"][0]["left_at"] is None


# PUT /api/v1/sessions/<id>/attendance/<user_id>


def put(client, session_id, user_id, token, body):
    return client.put(
        f"/api/v1/sessions/{session_id}/attendance/{user_id}", json=body, headers=bearer(token)
    )


def test_override_keeps_every_change(app, client, program, tokens, swept_session):
    first = put(
        client,
        swept_session,
        program.learner.id,
        tokens["tutor"],
        {"status": "late", "note": "電車の遅延"},
    )
    assert first.status_code == 200
    assert (first.get_json()["status"], first.get_json()["derived_status"]) == ("late", "present")
    assert first.get_json()["overridden"] is True
    assert first.get_json()["note"] == "電車の遅延"
    second = put(
        client,
        swept_session,
        program.learner.id,
        tokens["coordinator"],
        {"status": "excused"},
    )
    assert second.get_json()["status"] == "excused"
    changes = client.get(
        f"/api/v1/sessions/{swept_session}/attendance/changes",
        headers=bearer(tokens["coordinator"]),
    ).get_json()["changes"]
    learner_changes = [c for c in changes if c["user_id"] == program.learner.id]
    assert [(c["actor_id"], c["before"], c["after"], c["note"]) for c in learner_changes] == [
        (None, None, "present", None),  # derived by the sweep
        (program.tutor.id, "present", "late", "電車の遅延"),
        (program.coordinator.id, "late", "excused", None),
    ]
    assert learner_changes[1]["actor_name"] == "鈴木 健一"
    assert learner_changes[1]["at"].endswith("+09:00")
    # An override stands when the sweep derives again; the session follows it.
    with app.app_context():
        sweep_all(at(300))
        assert db.session.get(TutoringSession, swept_session).status is Status.NO_SHOW
    again = client.get(
        f"/api/v1/sessions/{swept_session}/attendance", headers=bearer(tokens["coordinator"])
    ).get_json()["attendance"][0]
    assert (again["status"], again["derived_status"]) == ("excused", "present")


def test_the_tutor_marks_in_person_and_the_session_is_held_at_once(
    app, client, program, tokens, book
):
    session_id = book(
        utcnow().replace(microsecond=0) - timedelta(minutes=3),
        mode=Mode.IN_PERSON,
        venue_id=program.venue_id,
    )[0]
    response = put(client, session_id, program.learner.id, tokens["tutor"], {"status": "present"})
    assert response.status_code == 200
    with app.app_context():
        assert db.session.get(TutoringSession, session_id).status is Status.HELD


def test_browser_session_needs_the_csrf_header(client, login_as, program, swept_session):
    login_as(program.coordinator)
    url = f"/api/v1/sessions/{swept_session}/attendance/{program.learner.id}"
    assert error_of(client.put(url, json={"status": "late"}), 400)["code"] == "csrf"
    token = csrf_token(client, "/settings")
    ok = client.put(url, json={"status": "late"}, headers={"X-CSRFToken": token})
    assert ok.status_code == 200


@pytest.mark.parametrize(
    ("who", "target", "status"),
    [
        ("tutor", "tutor", 403),  # a tutor does not set their own attendance
        ("learner", "learner", 403),
        ("learner", "tutor", 403),
        ("other_tutor", "learner", 404),
        ("other_learner", "learner", 404),
        ("coordinator", "tutor", 200),
        ("coordinator", "other_learner", 404),  # not a participant of this session
    ],
)
def test_who_may_set_a_status(client, program, tokens, swept_session, who, target, status):
    response = put(
        client, swept_session, getattr(program, target).id, tokens[who], {"status": "absent"}
    )
    assert response.status_code == status


def test_an_assigned_tutor_who_does_not_teach_the_session_may_read_but_not_set(
    app, client, program, tokens, swept_session
):
    with app.app_context():
        from tutoring.people.models import User
        from tutoring.scheduling import service as scheduling

        learner = db.session.get(User, program.learner.id)
        scheduling.set_assigned_tutors(
            db.session.get(User, program.coordinator.id),
            learner,
            [db.session.get(User, program.tutor.id), db.session.get(User, program.other_tutor.id)],
        )
        db.session.commit()
    url = f"/api/v1/sessions/{swept_session}/attendance"
    assert client.get(url, headers=bearer(tokens["other_tutor"])).status_code == 200
    response = put(
        client, swept_session, program.learner.id, tokens["other_tutor"], {"status": "absent"}
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (None, "body"),
        ({}, "status"),
        ({"status": "asleep"}, "status"),
        ({"status": 3}, "status"),
        ({"status": "late", "note": 5}, "note"),
        ({"status": "late", "note": "x" * 501}, "note"),
    ],
)
def test_bad_input_is_400_naming_the_field(client, program, tokens, swept_session, body, field):
    response = client.put(
        f"/api/v1/sessions/{swept_session}/attendance/{program.learner.id}",
        headers=bearer(tokens["coordinator"]),
        **({"json": body} if body is not None else {"data": "status=late"}),
    )
    error = error_of(response, 400)
    assert (error["code"], error["field"]) == ("invalid", field)


def test_no_status_before_the_room_opens_or_for_a_cancelled_session(
    app, client, program, tokens, book
):
    later = book(utcnow() + timedelta(days=1))[0]
    error = error_of(
        put(client, later, program.learner.id, tokens["tutor"], {"status": "present"}), 409
    )
    assert error["field"] == "status"
    cancel = client.post(
        f"/api/v1/sessions/{later}/cancel", json={"reason": "祝日"}, headers=bearer(tokens["tutor"])
    )
    assert cancel.status_code == 200
    error = error_of(
        put(client, later, program.learner.id, tokens["tutor"], {"status": "present"}), 409
    )
    assert error["field"] == "status"


def test_changes_are_for_staff(client, tokens, swept_session):
    url = f"/api/v1/sessions/{swept_session}/attendance/changes"
    assert client.get(url, headers=bearer(tokens["learner"])).status_code == 403
    assert client.get(url, headers=bearer(tokens["other_tutor"])).status_code == 404


# GET /api/v1/attendance


def log(client, token, **query):
    return client.get("/api/v1/attendance", query_string=query, headers=bearer(token))


def test_the_log_pages_newest_first_with_totals(client, tokens, history):
    body = log(client, tokens["coordinator"], per_page=4).get_json()
    assert body["total"] == 9
    assert body["per_page"] == 4
    assert body["page"] == 1
    assert len(body["attendance"]) == 4
    starts = [row["starts_at"] for row in body["attendance"]]
    assert starts == sorted(starts, reverse=True)
    last = log(client, tokens["coordinator"], per_page=4, page=3).get_json()
    assert len(last["attendance"]) == 1
    row = next(
        r
        for r in log(client, tokens["coordinator"], per_page=50).get_json()["attendance"]
        if r["session_id"] == history.learner_sessions[1]
    )
    learner, tutor = row["participants"]
    assert (learner["role"], learner["status"], learner["minutes_present"]) == (
        "learner",
        "late",
        105,
    )
    assert (tutor["role"], tutor["status"]) == ("tutor", "present")
    assert row["outcome"] == "held"
    assert row["session_status"] == "held"


def test_the_log_filters(client, program, tokens, history):
    token = tokens["coordinator"]

    def ids(**query):
        rows = log(client, token, per_page=100, **query).get_json()["attendance"]
        return {row["session_id"] for row in rows}

    assert ids(learner_id=program.other_learner.id) == set(history.other_sessions)
    assert ids(tutor_id=program.tutor.id) == set(history.learner_sessions)
    assert ids(venue_id=program.venue_id) == set(history.other_sessions)
    assert ids(mode="online") == set(history.learner_sessions)
    assert ids(status="absent") == set(history.learner_sessions[-2:])
    assert ids(status="late") == {history.learner_sessions[1]}
    assert ids(status="tutor_absent") == set()
    newest = log(client, token, per_page=1).get_json()["attendance"][0]["starts_at"][:10]
    assert ids(**{"from": newest, "to": newest}) == {history.learner_sessions[-1]}


def test_a_tutor_sees_only_their_own_learners(client, program, tokens, history):
    rows = log(client, tokens["tutor"], per_page=100).get_json()["attendance"]
    assert {r["session_id"] for r in rows} == set(history.learner_sessions)
    # Filtering for someone else's learner shows nothing rather than their sessions.
    other = log(client, tokens["tutor"], learner_id=program.other_learner.id).get_json()
    assert other["attendance"] == []
    assert other["total"] == 0


def test_learners_may_not_read_the_log(client, tokens, history):
    assert error_of(log(client, tokens["learner"]), 403)["code"] == "forbidden"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2026-13-01"}, "from"),
        ({"from": "2026-12-10", "to": "2026-12-01"}, "to"),
        ({"learner_id": "abc"}, "learner_id"),
        ({"tutor_id": "-1"}, "tutor_id"),
        ({"venue_id": "1.5"}, "venue_id"),
        ({"mode": "radio"}, "mode"),
        ({"status": "sleeping"}, "status"),
        ({"format": "pdf"}, "format"),
        ({"per_page": "0"}, "per_page"),
        ({"per_page": "501"}, "per_page"),
        ({"page": "0"}, "page"),
    ],
)
def test_bad_queries_are_400_naming_the_field(client, tokens, query, field):
    error = error_of(log(client, tokens["coordinator"], **query), 400)
    assert (error["code"], error["field"]) == ("invalid", field)


def test_warnings_list_learners_at_risk(client, program, tokens, history):
    body = client.get(
        "/api/v1/attendance/warnings",
        headers={**bearer(tokens["coordinator"]), "Accept-Language": "en"},
    ).get_json()
    flagged = {w["learner_id"]: w for w in body["warnings"]}
    assert set(flagged) == {program.learner.id, program.other_learner.id}
    learner, other = flagged[program.learner.id], flagged[program.other_learner.id]
    # Missed the last two; the last session attended was three weeks ago.
    assert (learner["reasons"], learner["absences_in_a_row"]) == (["missed_in_a_row", "idle"], 2)
    assert learner["messages"] == [
        "Missed the last 2 planned sessions",
        "No session attended for 21 days",
    ]
    # The other learner came to every session, but the last one was four weeks ago.
    assert (other["reasons"], other["absences_in_a_row"]) == (["idle"], 0)
    assert body["settings"] == {"missed_in_a_row": 2, "idle_days": 14}
    own = client.get("/api/v1/attendance/warnings", headers=bearer(tokens["other_tutor"]))
    assert [w["learner_id"] for w in own.get_json()["warnings"]] == [program.other_learner.id]
    learner_call = client.get("/api/v1/attendance/warnings", headers=bearer(tokens["learner"]))
    assert learner_call.status_code == 403


def test_times_of_the_log_are_in_the_program_zone(client, tokens, swept_session):
    row = log(client, tokens["coordinator"]).get_json()["attendance"][0]
    assert row["starts_at"] == START.isoformat()


def test_excusing_the_missed_sessions_clears_the_warning(client, program, tokens, history):
    def flagged():
        body = client.get(
            "/api/v1/attendance/warnings", headers=bearer(tokens["coordinator"])
        ).get_json()
        return {w["learner_id"]: w["reasons"] for w in body["warnings"]}

    assert "missed_in_a_row" in flagged()[program.learner.id]
    for session_id in history.learner_sessions[-2:]:
        response = put(
            client,
            session_id,
            program.learner.id,
            tokens["tutor"],
            {"status": "excused", "note": "入院のため"},
        )
        assert response.status_code == 200
    # Excused absences do not count; the learner is still flagged as idle for three weeks.
    assert flagged()[program.learner.id] == ["idle"]
    put(
        client,
        history.learner_sessions[-1],
        program.learner.id,
        tokens["tutor"],
        {"status": "present"},
    )
    assert program.learner.id not in flagged()

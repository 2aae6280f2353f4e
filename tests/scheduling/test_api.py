"""The sessions API of CONTRACT.md: shapes, filters, permissions, and 400 naming the field."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.api.test_auth_and_errors import assert_error
from tests.conftest import bearer, csrf_token
from tests.scheduling.conftest import session_count, tokyo
from tutoring.extensions import db
from tutoring.scheduling.models import SessionChange


@pytest.fixture
def tokens(program, make_token):
    return {
        name: make_token(getattr(program, name))
        for name in ("coordinator", "tutor", "other_tutor", "learner", "other_learner")
    }


def create(client, token, **body):
    return client.post("/api/v1/sessions", json=body, headers=bearer(token))


def valid_body(program, **overrides):
    body = {
        "learner_id": program.learner.id,
        "tutor_id": program.tutor.id,
        "starts_at": "2026-12-01T16:00:00+09:00",
    }
    body.update(overrides)
    return body


def test_coordinator_creates_a_weekly_series(client, program, tokens):
    response = create(
        client,
        tokens["coordinator"],
        **valid_body(program, weekly_until="2026-12-22", kind="consultation"),
    )
    assert response.status_code == 201
    sessions = response.json["sessions"]
    assert [s["starts_at"] for s in sessions] == [
        "2026-12-01T16:00:00+09:00",
        "2026-12-08T16:00:00+09:00",
        "2026-12-15T16:00:00+09:00",
        "2026-12-22T16:00:00+09:00",
    ]
    first = sessions[0]
    assert first["ends_at"] == "2026-12-01T18:00:00+09:00"
    assert first["duration_minutes"] == 120
    assert (first["kind"], first["mode"], first["status"], first["venue_id"]) == (
        "consultation",
        "online",
        "scheduled",
        None,
    )
    assert len({s["series_id"] for s in sessions}) == 1
    assert set(first) >= {
        "id",
        "learner_id",
        "tutor_id",
        "kind",
        "mode",
        "venue_id",
        "starts_at",
        "ends_at",
        "duration_minutes",
        "status",
        "cancel_reason",
        "series_id",
    }


def test_times_without_offset_are_program_local(client, program, tokens):
    response = create(
        client, tokens["coordinator"], **valid_body(program, starts_at="2026-12-01T16:00:00")
    )
    assert response.json["sessions"][0]["starts_at"] == "2026-12-01T16:00:00+09:00"
    utc = create(
        client,
        tokens["coordinator"],
        **valid_body(
            program,
            learner_id=program.other_learner.id,
            tutor_id=program.other_tutor.id,
            starts_at="2026-12-01T07:00:00Z",
        ),
    )
    assert utc.json["sessions"][0]["starts_at"] == "2026-12-01T16:00:00+09:00"


def test_conflict_is_409_listing_the_clashes(client, program, tokens):
    first = create(client, tokens["coordinator"], **valid_body(program)).json["sessions"][0]
    response = create(
        client,
        tokens["coordinator"],
        **valid_body(
            program, learner_id=program.other_learner.id, starts_at="2026-12-01T17:00:00+09:00"
        ),
    )
    error = assert_error(response, 409, "conflict")
    assert error["conflicts"] == [
        {
            "session_id": first["id"],
            "who": "tutor",
            "starts_at": "2026-12-01T16:00:00+09:00",
            "ends_at": "2026-12-01T18:00:00+09:00",
            "requested_starts_at": "2026-12-01T17:00:00+09:00",
        }
    ]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"learner_id": None}, "learner_id"),
        ({"learner_id": "1"}, "learner_id"),
        ({"learner_id": 99999}, "learner_id"),
        ({"tutor_id": True}, "tutor_id"),
        ({"starts_at": None}, "starts_at"),
        ({"starts_at": "next tuesday"}, "starts_at"),
        ({"starts_at": "2026-02-30T10:00:00"}, "starts_at"),
        ({"starts_at": 1767254400}, "starts_at"),
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"duration_minutes": 10**12}, "duration_minutes"),
        ({"duration_minutes": "120"}, "duration_minutes"),
        ({"kind": "party"}, "kind"),
        ({"mode": "carrier pigeon"}, "mode"),
        ({"mode": "in_person"}, "venue_id"),
        ({"venue_id": 99999}, "venue_id"),
        ({"venue_id": -1}, "venue_id"),
        ({"weekly_until": "someday"}, "weekly_until"),
        ({"weekly_until": "2026-11-30"}, "weekly_until"),
        ({"weekly_until": "2099-01-01"}, "weekly_until"),
    ],
)
def test_invalid_input_is_400_naming_the_field(app, client, program, tokens, overrides, field):
    error = assert_error(
        create(client, tokens["coordinator"], **valid_body(program, **overrides)), 400, "invalid"
    )
    assert error["field"] == field
    assert session_count(app) == 0


def test_learner_id_of_a_tutor_is_refused(client, program, tokens):
    error = assert_error(
        create(client, tokens["coordinator"], **valid_body(program, learner_id=program.tutor.id)),
        400,
        "invalid",
    )
    assert error["field"] == "learner_id"


@pytest.mark.parametrize("who", ["tutor", "learner"])
def test_tutors_and_learners_cannot_create(app, client, program, tokens, who):
    assert_error(create(client, tokens[who], **valid_body(program)), 403, "forbidden")
    assert session_count(app) == 0


@pytest.fixture
def sessions(book, program):
    mine = book(tokyo(2026, 12, 1, 16, 0))[0]
    other = book(
        tokyo(2026, 12, 1, 16, 0), learner=program.other_learner, tutor=program.other_tutor
    )[0]
    return {"mine": mine, "other": other}


def ids(client, token, query=""):
    response = client.get(f"/api/v1/sessions{query}", headers=bearer(token))
    assert response.status_code == 200
    return sorted(s["id"] for s in response.json["sessions"])


def test_each_role_lists_only_what_it_may_see(client, program, tokens, sessions):
    assert ids(client, tokens["coordinator"]) == sorted(sessions.values())
    assert ids(client, tokens["learner"]) == [sessions["mine"]]
    assert ids(client, tokens["tutor"]) == [sessions["mine"]]
    assert ids(client, tokens["other_tutor"]) == [sessions["other"]]
    # A filter never widens what one sees.
    assert ids(client, tokens["learner"], f"?learner_id={program.other_learner.id}") == []


def test_learner_gets_404_for_another_learners_session(client, tokens, sessions):
    assert (
        client.get(
            f"/api/v1/sessions/{sessions['mine']}", headers=bearer(tokens["learner"])
        ).status_code
        == 200
    )
    assert_error(
        client.get(f"/api/v1/sessions/{sessions['other']}", headers=bearer(tokens["learner"])),
        404,
        "not_found",
    )
    assert_error(
        client.get(f"/api/v1/sessions/{sessions['other']}", headers=bearer(tokens["tutor"])),
        404,
        "not_found",
    )
    assert_error(
        client.get("/api/v1/sessions/999999", headers=bearer(tokens["coordinator"])),
        404,
        "not_found",
    )


def test_tutor_sees_sessions_of_learners_assigned_to_them(
    app, client, program, tokens, book, sessions
):
    other = book(tokyo(2026, 12, 2, 16, 0), tutor=program.other_tutor)[
        0
    ]  # the tutor's learner, another tutor
    assert other in ids(client, tokens["tutor"])
    response = client.patch(
        f"/api/v1/sessions/{other}", json={"duration_minutes": 60}, headers=bearer(tokens["tutor"])
    )
    assert_error(response, 403, "forbidden")  # sees it, but it is not theirs to change


def test_filters_by_time_and_people(client, program, tokens, book, sessions):
    later = book(tokyo(2026, 12, 8, 16, 0))[0]
    token = tokens["coordinator"]
    assert ids(client, token, "?from=2026-12-02&to=2026-12-31") == [later]
    assert ids(client, token, "?to=2026-12-01") == sorted(
        sessions.values()
    )  # `to` date is inclusive
    assert ids(
        client, token, "?from=2026-12-01T17:59:00%2B09:00&to=2026-12-01T18:00:00%2B09:00"
    ) == sorted(sessions.values())
    assert ids(client, token, f"?learner_id={program.learner.id}") == sorted(
        [sessions["mine"], later]
    )
    assert ids(client, token, f"?tutor_id={program.other_tutor.id}") == [sessions["other"]]


@pytest.mark.parametrize(
    "query",
    ["?from=yesterday", "?to=2026-13-01", "?tutor_id=abc", "?from=2026-12-05&to=2026-12-01"],
)
def test_bad_filters_are_400(client, tokens, query):
    assert_error(
        client.get(f"/api/v1/sessions{query}", headers=bearer(tokens["coordinator"])),
        400,
        "invalid",
    )


def test_tutor_reschedules_own_session_and_history_is_kept(client, program, tokens, sessions):
    response = client.patch(
        f"/api/v1/sessions/{sessions['mine']}",
        json={"starts_at": "2026-12-01T17:00:00+09:00", "duration_minutes": 90},
        headers=bearer(tokens["tutor"]),
    )
    assert response.status_code == 200
    assert (response.json["starts_at"], response.json["ends_at"]) == (
        "2026-12-01T17:00:00+09:00",
        "2026-12-01T18:30:00+09:00",
    )
    changes = client.get(
        f"/api/v1/sessions/{sessions['mine']}/changes", headers=bearer(tokens["coordinator"])
    ).json["changes"]
    assert [c["action"] for c in changes] == ["created", "rescheduled"]
    assert changes[1]["actor_id"] == program.tutor.id


def test_reschedule_into_a_clash_is_409_and_changes_nothing(
    client, program, tokens, sessions, book
):
    book(tokyo(2026, 12, 1, 19, 0))
    response = client.patch(
        f"/api/v1/sessions/{sessions['mine']}",
        json={"starts_at": "2026-12-01T18:00:00+09:00"},
        headers=bearer(tokens["coordinator"]),
    )
    assert_error(response, 409, "conflict")
    assert (
        client.get(
            f"/api/v1/sessions/{sessions['mine']}", headers=bearer(tokens["coordinator"])
        ).json["starts_at"]
        == "2026-12-01T16:00:00+09:00"
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"starts_at": "soon"}, "starts_at"),
        ({"duration_minutes": -5}, "duration_minutes"),
        ({"venue_id": "x"}, "venue_id"),
        ({"status": "held"}, "status"),
        ({"scope": "everything"}, "scope"),
        ({"tutor_id": 424242}, "tutor_id"),
    ],
)
def test_bad_reschedule_is_400(client, tokens, sessions, body, field):
    response = client.patch(
        f"/api/v1/sessions/{sessions['mine']}", json=body, headers=bearer(tokens["coordinator"])
    )
    assert assert_error(response, 400, "invalid")["field"] == field


def test_learner_cannot_reschedule_or_cancel(app, client, tokens, sessions):
    mine = sessions["mine"]
    assert_error(
        client.patch(
            f"/api/v1/sessions/{mine}",
            json={"duration_minutes": 60},
            headers=bearer(tokens["learner"]),
        ),
        403,
        "forbidden",
    )
    assert_error(
        client.post(
            f"/api/v1/sessions/{mine}/cancel",
            json={"reason": "x"},
            headers=bearer(tokens["learner"]),
        ),
        403,
        "forbidden",
    )
    assert_error(
        client.post(
            f"/api/v1/sessions/{sessions['other']}/cancel",
            json={"reason": "x"},
            headers=bearer(tokens["learner"]),
        ),
        404,
        "not_found",
    )
    with app.app_context():
        assert (
            db.session.query(SessionChange).filter(SessionChange.action != "created").count() == 0
        )


def test_cancel_with_reason(client, program, tokens, sessions):
    response = client.post(
        f"/api/v1/sessions/{sessions['mine']}/cancel",
        json={"reason": "体調不良のため"},
        headers=bearer(tokens["tutor"]),
    )
    assert response.status_code == 200
    assert (response.json["status"], response.json["cancel_reason"]) == (
        "cancelled",
        "体調不良のため",
    )
    assert_error(
        client.post(
            f"/api/v1/sessions/{sessions['mine']}/cancel",
            json={},
            headers=bearer(tokens["coordinator"]),
        ),
        400,
        "invalid",
    )


def test_cancel_without_reason_is_400(client, tokens, sessions):
    error = assert_error(
        client.post(
            f"/api/v1/sessions/{sessions['mine']}/cancel",
            json={"reason": ""},
            headers=bearer(tokens["tutor"]),
        ),
        400,
        "invalid",
    )
    assert error["field"] == "reason"


def test_session_api_writes_need_csrf_with_a_cookie(client, program, login_as, sessions):
    login_as(program.coordinator)
    assert_error(
        client.post(f"/api/v1/sessions/{sessions['mine']}/cancel", json={"reason": "x"}),
        400,
        "csrf",
    )
    token = csrf_token(client, "/settings")
    response = client.post(
        f"/api/v1/sessions/{sessions['mine']}/cancel",
        json={"reason": "x"},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 200


def test_set_assigned_tutors(client, program, tokens):
    url = f"/api/v1/learners/{program.learner.id}/tutors"
    response = client.put(
        url,
        json={"tutor_ids": [program.tutor.id, program.other_tutor.id]},
        headers=bearer(tokens["coordinator"]),
    )
    assert sorted(response.json["tutor_ids"]) == sorted([program.tutor.id, program.other_tutor.id])
    assert client.put(
        url, json={"tutor_ids": [program.other_tutor.id]}, headers=bearer(tokens["coordinator"])
    ).json["tutor_ids"] == [program.other_tutor.id]
    assert_error(
        client.put(
            url, json={"tutor_ids": [program.learner.id]}, headers=bearer(tokens["coordinator"])
        ),
        400,
        "invalid",
    )
    assert_error(
        client.put(url, json={"tutor_ids": "all"}, headers=bearer(tokens["coordinator"])),
        400,
        "invalid",
    )
    assert_error(
        client.put(url, json={"tutor_ids": []}, headers=bearer(tokens["tutor"])), 403, "forbidden"
    )
    assert_error(
        client.put(
            f"/api/v1/learners/{program.tutor.id}/tutors",
            json={"tutor_ids": []},
            headers=bearer(tokens["coordinator"]),
        ),
        404,
        "not_found",
    )


def test_venues_are_listed(client, program, tokens):
    venues = client.get("/api/v1/venues", headers=bearer(tokens["learner"])).json["venues"]
    assert [v["name"] for v in venues] == ["中央公民館"]


def test_api_times_are_iso_with_offset(client, tokens, sessions):
    session = client.get(
        f"/api/v1/sessions/{sessions['mine']}", headers=bearer(tokens["learner"])
    ).json
    assert datetime.fromisoformat(session["starts_at"]).utcoffset() is not None

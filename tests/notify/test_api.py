"""JSON API: preferences, push subscriptions and the delivery log."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import bearer
from tests.notify.conftest import LINE_ID, run, tokyo

START = tokyo(2026, 12, 2, 16, 0)


@pytest.fixture
def app_config(line_config):
    return {
        **line_config,
        "WEBPUSH_ALLOWED_HOSTS": ("push.example.net",),
    }


SUBSCRIPTION = {
    "endpoint": "https://push.example.net/send/abc123",
    "keys": {"p256dh": "B" + "A" * 86, "auth": "c2VjcmV0c2VjcmV0"},
}


def test_a_learner_reads_and_changes_their_own_settings(client, make_token, program):
    headers = bearer(make_token(program.learner))
    got = client.get("/api/v1/me/notifications", headers=headers).get_json()
    assert got["channels"] == {"email": True, "line": True, "webpush": True}
    assert got["quiet_hours"] == {"start": "21:00", "end": "08:00"}
    assert "line_user_id" not in got  # staff only
    changed = client.put(
        "/api/v1/me/notifications",
        json={"channels": {"email": False}, "quiet_hours": None, "locale": "en"},
        headers=headers,
    )
    assert changed.status_code == 200
    body = changed.get_json()
    assert body["channels"]["email"] is False
    assert body["channels"]["line"] is True
    assert body["quiet_hours"] is None
    assert body["locale"] == "en"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"channels": {"email": "yes"}}, "channels.email"),
        ({"channels": []}, "channels"),
        ({"quiet_hours": {"start": "25:00", "end": "08:00"}}, "quiet_hours.start"),
        ({"quiet_hours": {"start": "21:00"}}, "quiet_hours.end"),
        ({"locale": "fr"}, "locale"),
        ({"line_user_id": LINE_ID}, "line_user_id"),  # only coordinators link LINE
    ],
)
def test_bad_settings_answer_400_naming_the_field(client, make_token, program, body, field):
    response = client.put(
        "/api/v1/me/notifications", json=body, headers=bearer(make_token(program.learner))
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == field


def test_a_coordinator_links_line_and_others_cannot(client, make_token, program):
    url = f"/api/v1/users/{program.learner.id}/notifications"
    coordinator = bearer(make_token(program.coordinator))
    response = client.put(url, json={"line_user_id": LINE_ID}, headers=coordinator)
    assert response.status_code == 200
    assert response.get_json()["line_user_id"] == LINE_ID
    assert response.get_json()["line_linked"] is True
    bad = client.put(url, json={"line_user_id": "U123"}, headers=coordinator)
    assert bad.status_code == 400
    assert bad.get_json()["error"]["field"] == "line_user_id"
    tutor = bearer(make_token(program.tutor))
    assert client.get(url, headers=tutor).status_code == 403
    assert client.put(url, json={}, headers=tutor).status_code == 403
    assert client.get("/api/v1/users/99999/notifications", headers=coordinator).status_code == 404


def test_push_subscriptions_are_stored_moved_and_removed(client, make_token, program):
    learner = bearer(make_token(program.learner))
    created = client.post("/api/v1/me/push-subscriptions", json=SUBSCRIPTION, headers=learner)
    assert created.status_code == 201
    assert client.get("/api/v1/me/notifications", headers=learner).get_json()["push_devices"] == 1
    # The same phone signed in as someone else now belongs to them only.
    other = bearer(make_token(program.other_learner))
    client.post("/api/v1/me/push-subscriptions", json=SUBSCRIPTION, headers=other)
    assert client.get("/api/v1/me/notifications", headers=learner).get_json()["push_devices"] == 0
    gone = client.delete(
        "/api/v1/me/push-subscriptions", json={"endpoint": SUBSCRIPTION["endpoint"]}, headers=other
    )
    assert gone.status_code == 204
    again = client.delete(
        "/api/v1/me/push-subscriptions", json={"endpoint": SUBSCRIPTION["endpoint"]}, headers=other
    )
    assert again.status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**SUBSCRIPTION, "endpoint": "http://push.example.net/x"}, "endpoint"),
        ({**SUBSCRIPTION, "endpoint": "https://intranet.example.org/admin"}, "endpoint"),
        ({"endpoint": SUBSCRIPTION["endpoint"]}, "keys"),
        ({**SUBSCRIPTION, "keys": {"p256dh": "!!", "auth": "c2VjcmV0c2VjcmV0"}}, "keys.p256dh"),
    ],
)
def test_bad_subscriptions_answer_400_naming_the_field(client, make_token, program, body, field):
    response = client.post(
        "/api/v1/me/push-subscriptions", json=body, headers=bearer(make_token(program.learner))
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == field


def test_the_delivery_log_api_for_coordinators_only(
    app, client, make_token, program, book, link_line, line_api
):
    link_line(program.learner)
    [session_id] = book(START)
    run(app, START - timedelta(hours=24))
    coordinator = bearer(make_token(program.coordinator))
    listed = client.get("/api/v1/notifications?status=sent", headers=coordinator).get_json()
    [entry] = listed["notifications"]
    assert entry["kind"] == "reminder_day"
    assert entry["channel"] == "line"
    assert entry["recipient_id"] == program.learner.id
    assert entry["session_id"] == session_id
    assert entry["sent_at"].endswith("+09:00")
    empty = client.get("/api/v1/notifications?status=failed", headers=coordinator).get_json()
    assert empty == {"notifications": []}
    bad = client.get("/api/v1/notifications?channel=fax", headers=coordinator)
    assert bad.status_code == 400
    assert bad.get_json()["error"]["field"] == "channel"
    assert (
        client.get("/api/v1/notifications?limit=0", headers=coordinator).get_json()["error"][
            "field"
        ]
        == "limit"
    )
    for role in ("learner", "tutor"):
        headers = bearer(make_token(getattr(program, role)))
        assert client.get("/api/v1/notifications", headers=headers).status_code == 403
    assert client.get("/api/v1/notifications").status_code == 401

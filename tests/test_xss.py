"""Markup typed into any free-text field is shown as text on every page that shows it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import bearer, csrf_token
from tutoring.database import utcnow
from tutoring.extensions import db
from tutoring.people.models import User
from tutoring.scheduling import service as scheduling
from tutoring.scheduling.models import TutoringSession, Venue

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "</script><svg onload=alert(1)>",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_names_reasons_and_places_are_escaped_everywhere(
    app, client, program, book, login_as, make_token, payload
):
    [open_id] = book(utcnow().replace(microsecond=0) - timedelta(minutes=5))
    [later_id] = book(utcnow() + timedelta(days=2))
    with app.app_context():
        for account in (program.learner, program.tutor):
            user = db.session.get(User, account.id)
            user.name = f"名前{payload}"
            user.room_display_name = f"表示{payload}"
        venue = db.session.get(Venue, program.venue_id)
        venue.name, venue.address = f"会場{payload}", f"住所{payload}"
        db.session.get(TutoringSession, open_id).venue_id = venue.id
        scheduling.cancel(
            db.session.get(User, program.coordinator.id),
            db.session.get(TutoringSession, later_id),
            reason=f"理由{payload}",
        )
        db.session.commit()
    token = make_token(program.tutor, name=f"用途{payload}")
    pages = {
        program.coordinator: [
            "/",
            "/people",
            "/schedule",
            f"/sessions/{open_id}",
            f"/sessions/{later_id}",
            "/venues",
            f"/venues/{program.venue_id}/edit",
            f"/sessions/{open_id}/room",
            f"/sessions/{open_id}/board",
        ],
        program.learner: ["/", "/schedule", f"/sessions/{open_id}/room", "/settings"],
        program.tutor: ["/", f"/sessions/{open_id}", "/settings/tokens"],
    }
    for account, paths in pages.items():
        login_as(account)
        for path in paths:
            html = client.get(path).get_data(as_text=True)
            assert payload not in html, f"{path} shows raw markup"
    assert "用途" in client.get("/settings/tokens").get_data(as_text=True)
    # The API returns data, not markup: JSON carries the text as it was typed.
    session = client.get(f"/api/v1/sessions/{later_id}", headers=bearer(token)).json
    assert session["cancel_reason"] == f"理由{payload}"


def test_account_form_echoes_input_escaped(client, program, login_as):
    login_as(program.coordinator)
    payload = PAYLOADS[1]
    response = client.post(
        "/people/new",
        data={
            "name": payload,
            "role": "tutor",
            "email": "not an email",
            "csrf_token": csrf_token(client, "/people/new"),
        },
    )
    html = response.get_data(as_text=True)
    assert payload not in html
    assert "&#34;&gt;&lt;img" in html or "&quot;&gt;&lt;img" in html

"""The iCalendar feed, parsed back with icalendar: instants, states, secrecy and revocation."""

from __future__ import annotations

import re

from icalendar import Calendar

from tests.conftest import csrf_token
from tests.scheduling.conftest import tokyo
from tutoring.extensions import db
from tutoring.people.models import User
from tutoring.scheduling import service
from tutoring.scheduling.models import Mode, TutoringSession

FEED = re.compile(
    r'id="feed-url" class="input mono" readonly value="http://localhost(/calendar/[^"]+\.ics)"'
)


def feed_path(client, login_as, account) -> str:
    login_as(account)
    return FEED.search(client.get("/settings/calendar").get_data(as_text=True)).group(1)


def events(app, path):
    response = app.test_client().get(path)  # a calendar app: no cookie
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    return {str(e["uid"]): e for e in Calendar.from_ical(response.data).walk("VEVENT")}


def test_feed_has_every_visible_session_with_exact_instants(app, client, login_as, program, book):
    online = book(tokyo(2026, 12, 1, 16, 0))[0]
    venue = book(
        tokyo(2026, 12, 3, 10, 0), minutes=90, mode=Mode.IN_PERSON, venue_id=program.venue_id
    )[0]
    book(
        tokyo(2026, 12, 1, 16, 0), learner=program.other_learner, tutor=program.other_tutor
    )  # not the learner's
    found = events(app, feed_path(client, login_as, program.learner))
    assert set(found) == {f"session-{online}@localhost", f"session-{venue}@localhost"}
    first = found[f"session-{online}@localhost"]
    assert first.decoded("dtstart") == tokyo(2026, 12, 1, 16, 0)
    assert first.decoded("dtend") == tokyo(2026, 12, 1, 18, 0)
    assert str(first["status"]) == "CONFIRMED"
    assert "鈴木 健一" in str(first["summary"])  # the learner's calendar names the tutor
    assert f"/sessions/{online}/room" in str(first["location"])
    second = found[f"session-{venue}@localhost"]
    assert str(second["location"]) == "中央公民館, 多摩市中央1-2-3"
    assert second.decoded("dtend") - second.decoded("dtstart") == tokyo(2026, 1, 1, 1, 30) - tokyo(
        2026, 1, 1, 0, 0
    )


def test_cancelled_sessions_are_cancelled_events_with_a_new_sequence(
    app, client, login_as, program, book
):
    [session_id] = book(tokyo(2026, 12, 1, 16, 0))
    with app.app_context():
        service.cancel(
            db.session.get(User, program.coordinator.id),
            db.session.get(TutoringSession, session_id),
            reason="家庭の事情",
        )
        db.session.commit()
    event = events(app, feed_path(client, login_as, program.tutor))[
        f"session-{session_id}@localhost"
    ]
    assert str(event["status"]) == "CANCELLED"
    assert int(event["sequence"]) == 1
    assert "家庭の事情" not in event.to_ical().decode()  # reasons stay out of outside calendars


def test_staff_calendar_names_the_learner(app, client, login_as, program, book):
    [session_id] = book(tokyo(2026, 12, 1, 16, 0))
    event = events(app, feed_path(client, login_as, program.tutor))[
        f"session-{session_id}@localhost"
    ]
    assert "田中 陽向" in str(event["summary"])


def test_feed_speaks_the_owners_language(app, client, login_as, program, book):
    book(tokyo(2026, 12, 1, 16, 0))
    path = feed_path(client, login_as, program.learner)
    assert "学習支援" in app.test_client().get(path).get_data(as_text=True)
    with app.app_context():
        db.session.get(User, program.learner.id).locale = "en"
        db.session.commit()
    assert "Study session" in app.test_client().get(path).get_data(as_text=True)


def test_address_is_stable_until_renewed_then_the_old_one_is_404(app, client, login_as, program):
    path = feed_path(client, login_as, program.learner)
    assert FEED.search(client.get("/settings/calendar").get_data(as_text=True)).group(1) == path
    client.post(
        "/settings/calendar/renew", data={"csrf_token": csrf_token(client, "/settings/calendar")}
    )
    new_path = FEED.search(client.get("/settings/calendar").get_data(as_text=True)).group(1)
    assert new_path != path
    assert app.test_client().get(path).status_code == 404
    assert app.test_client().get(new_path).status_code == 200


def test_unknown_or_disabled_feed_is_404(app, client, login_as, program):
    assert app.test_client().get("/calendar/not-a-token.ics").status_code == 404
    path = feed_path(client, login_as, program.learner)
    with app.app_context():
        db.session.get(User, program.learner.id).active = False
        db.session.commit()
    assert app.test_client().get(path).status_code == 404

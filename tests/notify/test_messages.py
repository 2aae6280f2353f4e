"""What the messages say: the missed-session follow-up, moves and cancellations, nothing personal."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask_babel import force_locale
from flask_babel import gettext as _

from tests.notify.conftest import OTHER_LINE_ID, run, set_preferences, tokyo
from tutoring.database import utcnow
from tutoring.extensions import db
from tutoring.notify.messages import first_name, follow_up_suggestion
from tutoring.people.models import Role, User
from tutoring.scheduling import service as scheduling
from tutoring.scheduling.models import Status, TutoringSession

START = tokyo(2026, 12, 2, 16, 0)


def translated(app, locale: str, text: str, **values) -> str:
    with app.test_request_context(), force_locale(locale):
        return _(text, **values)


@pytest.mark.parametrize(
    ("name", "room_name", "expected"),
    [
        ("田中 陽向", None, "陽向"),
        ("田中\u3000陽向", None, "陽向"),
        ("Hinata Tanaka", None, "Hinata"),
        ("ひなた", None, "ひなた"),
        ("田中 陽向", "ひなっち", "ひなっち"),
    ],
)
def test_messages_address_a_learner_by_given_name_or_chosen_nickname(name, room_name, expected):
    user = User(name=name, role=Role.LEARNER, room_display_name=room_name)
    assert first_name(user) == expected


def test_a_missed_session_sends_the_tutor_a_gentle_suggestion_in_the_learners_language(
    app, program, book, link_line, line_api
):
    link_line(program.tutor, OTHER_LINE_ID, quiet_start=None, quiet_end=None, locale="en")
    set_preferences(app, program.coordinator, quiet_start=None, quiet_end=None)
    [session_id] = book(START)
    with app.app_context():
        db.session.get(TutoringSession, session_id).status = Status.NO_SHOW
        db.session.commit()
    assert run(app, START + timedelta(hours=3)).outcomes == {"sent": 1}
    text = line_api.requests[0].json()["messages"][0]["text"]
    # The tutor reads English; the suggestion is for the learner, in Japanese by default.
    assert "陽向 did not join the session on Wed, Dec 2 at 16:00." in text
    with app.test_request_context(), force_locale("ja"):
        assert follow_up_suggestion("陽向") in text
    assert f"https://manabi.example.org/sessions/{session_id}" in text
    assert "田中" not in text


def test_a_suggestion_follows_a_learner_who_reads_english(app, program, book, link_line, line_api):
    link_line(program.tutor, OTHER_LINE_ID, quiet_start=None, quiet_end=None)
    set_preferences(app, program.learner, locale="en")
    [session_id] = book(START)
    with app.app_context():
        db.session.get(TutoringSession, session_id).status = Status.NO_SHOW
        db.session.commit()
    run(app, START + timedelta(hours=3))
    text = line_api.requests[0].json()["messages"][0]["text"]
    assert "陽向, we missed you today." in text


def test_a_follow_up_is_dropped_when_attendance_says_the_learner_came(
    app, program, book, link_line, line_api
):
    link_line(program.tutor, OTHER_LINE_ID, quiet_start=None, quiet_end=None)
    [session_id] = book(START)
    with app.app_context():
        session = db.session.get(TutoringSession, session_id)
        session.status = Status.NO_SHOW
        from tutoring.notify.planner import notify_missed_session

        notify_missed_session(session, START + timedelta(hours=2, minutes=10))
        session.status = Status.HELD  # the tutor corrected the record
        db.session.commit()
    assert run(app, START + timedelta(hours=3)).outcomes == {"skipped": 1}
    assert line_api.requests == []


def test_move_and_cancel_notices_give_the_times_and_no_reason(
    app, program, book, link_line, line_api
):
    link_line(program.learner, quiet_start=None, quiet_end=None)
    start = (utcnow() + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    [session_id] = book(start)
    with app.app_context():
        coordinator = db.session.get(User, program.coordinator.id)
        session = db.session.get(TutoringSession, session_id)
        scheduling.reschedule(coordinator, session, starts_at=start + timedelta(hours=1))
        db.session.commit()
        scheduling.cancel(coordinator, session, reason="ご家庭の事情により")
        db.session.commit()
    run(app, utcnow())
    texts = [r.json()["messages"][0]["text"] for r in line_api.requests]
    assert len(texts) == 1  # the move notice was still waiting: the cancellation replaces it
    assert "ご家庭" not in texts[0]
    with app.app_context():
        from tutoring.notify.messages import When

        moved = When(start + timedelta(hours=1), "ja")
    line = translated(
        app,
        "ja",
        "The session on %(date)s at %(time)s has been cancelled.",
        date=moved.date,
        time=moved.time,
    )
    assert line in texts[0]

"""Which messages are due: reminders at their boundaries, quiet hours, time zones, changes, misses."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from tests.notify.conftest import OTHER_LINE_ID, TOKYO, messages, set_preferences, tokyo
from tutoring.attendance.models import PresenceKind, PresenceSource
from tutoring.attendance.service import record_presence
from tutoring.database import utcnow
from tutoring.extensions import db
from tutoring.notify import planner
from tutoring.people.models import User
from tutoring.scheduling import service as scheduling
from tutoring.scheduling.models import Status, TutoringSession

START = tokyo(2026, 12, 2, 16, 0)  # Wednesday 16:00 in Tokyo, 07:00 UTC


def plan(app, now) -> int:
    with app.app_context():
        count = planner.plan_reminders(now) + planner.plan_missed(now)
        db.session.commit()
        return count


@pytest.fixture
def learner_on_line(program, link_line):
    link_line(program.learner)
    return program.learner


def test_day_before_reminder_is_due_exactly_24_hours_before(app, program, book, learner_on_line):
    [session_id] = book(START)
    day_before = START - timedelta(hours=24)
    assert plan(app, day_before - timedelta(seconds=1)) == 0
    assert messages(app) == []
    assert plan(app, day_before) == 1
    [queued] = messages(app)
    assert queued["kind"] == "reminder_day"
    assert queued["channel"] == "line"
    assert queued["recipient_id"] == program.learner.id
    assert queued["session_id"] == session_id
    assert queued["status"] == "pending"
    assert queued["due_at"] == day_before
    # Planning again, by this worker or another, queues nothing more.
    assert plan(app, day_before + timedelta(minutes=1)) == 0
    assert len(messages(app)) == 1


def test_hour_before_reminder_and_the_window_that_closes_at_the_start(app, book, learner_on_line):
    book(START)
    assert plan(app, START - timedelta(hours=3, seconds=1)) == 1  # the day-before, late but in time
    assert plan(app, START - timedelta(hours=1, seconds=1)) == 0
    assert plan(app, START - timedelta(hours=1)) == 1
    assert [m["kind"] for m in messages(app)] == ["reminder_day", "reminder_hour"]
    # 16:00 Tokyo is 07:00 UTC: the hour-before reminder at 15:00 is not mistaken for quiet.
    assert messages(app)[1]["due_at"] == START - timedelta(hours=1)


def test_a_session_booked_at_short_notice_gets_only_the_hour_reminder(app, book, learner_on_line):
    book(START)
    assert plan(app, START - timedelta(hours=2)) == 0  # day-before window closed 3 h before
    assert plan(app, START) == 0  # started: too late for anything
    assert plan(app, START - timedelta(minutes=59)) == 1
    assert [m["kind"] for m in messages(app)] == ["reminder_hour"]


def test_cancelled_sessions_get_no_reminders_and_queued_ones_are_dropped(
    app, program, book, learner_on_line
):
    [session_id] = book(START)
    assert plan(app, START - timedelta(hours=24)) == 1
    with app.app_context():
        scheduling.cancel(
            db.session.get(User, program.coordinator.id),
            db.session.get(TutoringSession, session_id),
            reason="体調不良のため",
        )
        db.session.commit()
    assert plan(app, START - timedelta(hours=1)) == 0
    reminder = messages(app, kind="reminder_day")[0]
    assert reminder["status"] == "skipped"
    assert reminder["error"] == "session_cancelled"


def test_quiet_hours_move_a_reminder_to_the_morning(app, book, learner_on_line):
    late = tokyo(2026, 12, 2, 22, 30)
    book(late, minutes=60)
    assert plan(app, late - timedelta(hours=24)) == 0  # 22:30 the day before: quiet
    assert plan(app, tokyo(2026, 12, 2, 7, 59)) == 0
    assert plan(app, tokyo(2026, 12, 2, 8, 0)) == 1
    assert messages(app)[0]["due_at"] == tokyo(2026, 12, 2, 8, 0)


def test_a_reminder_quiet_hours_leave_no_room_for_is_recorded_as_not_sent(
    app, book, learner_on_line
):
    early = tokyo(2026, 12, 2, 7, 30)
    book(early, minutes=60)
    assert plan(app, early - timedelta(hours=1)) == 1
    [skipped] = messages(app, kind="reminder_hour")
    assert skipped["status"] == "skipped"
    assert skipped["error"] == "quiet_hours"


def test_chosen_quiet_hours_and_turned_off_reminders_count(app, program, book, learner_on_line):
    set_preferences(
        app,
        program.learner,
        quiet_start=time(14, 0),
        quiet_end=time(15, 30),
        remind_day_before=False,
    )
    book(START)
    assert plan(app, START - timedelta(hours=24)) == 0  # the day-before reminder is off
    assert plan(app, START - timedelta(hours=1)) == 0  # 15:00 is quiet until 15:30
    assert plan(app, tokyo(2026, 12, 2, 15, 30)) == 1
    assert messages(app)[0]["kind"] == "reminder_hour"


def test_quiet_hours_follow_the_programs_time_zone(app, program, book, learner_on_line):
    app.config["TIMEZONE"] = "America/New_York"
    # 09:00 in New York on the day daylight saving time ends; the hour before is 08:00 EST.
    start = datetime(2026, 11, 1, 14, 0, tzinfo=UTC)
    book(start)
    assert plan(app, start - timedelta(hours=24)) == 1  # Saturday 10:00 EDT
    assert plan(app, start - timedelta(hours=1)) == 1  # 08:00 EST: the quiet hours just ended
    set_preferences(app, program.learner, quiet_start=time(21, 0), quiet_end=time(8, 30))
    other = datetime(2026, 11, 8, 14, 0, tzinfo=UTC)  # a week later, 09:00 EST
    book(other)
    assert plan(app, other - timedelta(hours=1)) == 0  # 08:00 EST is quiet until 08:30
    assert plan(app, other - timedelta(minutes=30)) == 1
    assert messages(app)[-1]["due_at"] == other - timedelta(minutes=30)


def test_a_learner_without_any_channel_still_works(app, program, book):
    [session_id] = book(START)
    assert plan(app, START - timedelta(hours=1)) == 0
    assert messages(app) == []
    with app.app_context():
        scheduling.cancel(
            db.session.get(User, program.coordinator.id),
            db.session.get(TutoringSession, session_id),
            reason="会場の都合",
        )
        db.session.commit()
    assert messages(app) == []


def test_the_tutor_is_reminded_too_through_their_own_channels(
    app, program, book, learner_on_line, link_line
):
    link_line(program.tutor, OTHER_LINE_ID, remind_day_before=False)
    book(START)
    plan(app, START - timedelta(hours=24))
    plan(app, START - timedelta(hours=1))
    sent = [(m["kind"], m["recipient_id"]) for m in messages(app)]
    assert sent == [
        ("reminder_day", program.learner.id),
        ("reminder_hour", program.learner.id),
        ("reminder_hour", program.tutor.id),
    ]


# Change notices, queued by the scheduling signals


def soon(days: int = 3) -> datetime:
    """Return a start in the future on the hour, so change notices concern a coming session."""
    return (utcnow() + timedelta(days=days)).replace(minute=0, second=0, microsecond=0)


@pytest.fixture
def awake(app, program, link_line):
    """Learner and tutor on LINE without quiet hours, so notices go out at once."""
    link_line(program.learner, quiet_start=None, quiet_end=None)
    link_line(program.tutor, OTHER_LINE_ID, quiet_start=None, quiet_end=None)


def test_rescheduling_tells_the_learner_and_the_tutor_but_not_who_moved_it(
    app, program, book, awake
):
    start = soon()
    [session_id] = book(start)
    with app.app_context():
        scheduling.reschedule(
            db.session.get(User, program.tutor.id),
            db.session.get(TutoringSession, session_id),
            starts_at=start + timedelta(days=1),
        )
        db.session.commit()
    [notice] = messages(app, kind="rescheduled")
    assert notice["recipient_id"] == program.learner.id  # the tutor moved it: they know
    assert notice["payload"]["old_starts_at"] == start.isoformat()
    assert notice["due_at"] <= utcnow()


def test_a_move_drops_reminders_for_the_old_time_and_the_planner_queues_new_ones(
    app, program, book, awake
):
    start = soon(days=1)
    [session_id] = book(start)
    plan(app, start - timedelta(hours=24))
    assert {m["recipient_id"] for m in messages(app, kind="reminder_day")} == {
        program.learner.id,
        program.tutor.id,
    }
    moved = start + timedelta(hours=2)
    with app.app_context():
        scheduling.reschedule(
            db.session.get(User, program.coordinator.id),
            db.session.get(TutoringSession, session_id),
            starts_at=moved,
        )
        db.session.commit()
    assert {m["status"] for m in messages(app, kind="reminder_day")} == {"skipped"}
    assert len(messages(app, kind="rescheduled")) == 2  # the coordinator moved it
    plan(app, moved - timedelta(hours=24))
    fresh = [m for m in messages(app, kind="reminder_day") if m["status"] == "pending"]
    assert len(fresh) == 2
    assert all(m["payload"]["starts_at"] == moved.isoformat() for m in fresh)


def test_cancelling_a_series_sends_one_notice_per_person(app, program, book, awake):
    start = soon()
    ids = book(start, weekly_until=(start + timedelta(weeks=3)).astimezone(TOKYO).date())
    assert len(ids) == 4
    with app.app_context():
        scheduling.cancel(
            db.session.get(User, program.coordinator.id),
            db.session.get(TutoringSession, ids[1]),
            reason="転居のため",
            scope="following",
        )
        db.session.commit()
    notices = messages(app, kind="cancelled")
    assert [(m["recipient_id"], m["session_id"]) for m in notices] == [
        (program.learner.id, ids[1]),
        (program.tutor.id, ids[1]),
    ]
    assert notices[0]["payload"]["count"] == 3
    # The reason stays out of the message: it may be personal.
    assert "転居" not in str(notices[0]["payload"])


def test_cancelling_a_past_session_tells_nobody(app, program, book, awake):
    [session_id] = book(utcnow() - timedelta(days=2))
    with app.app_context():
        scheduling.cancel(
            db.session.get(User, program.coordinator.id),
            db.session.get(TutoringSession, session_id),
            reason="記録の訂正",
        )
        db.session.commit()
    assert messages(app) == []


# Missed sessions


@pytest.fixture
def staff_on_line(app, program, link_line):
    link_line(program.tutor, OTHER_LINE_ID, quiet_start=None, quiet_end=None)
    link_line(program.coordinator, "U" + "1" * 32, quiet_start=None, quiet_end=None)
    link_line(program.learner)


def plan_missed(app, now) -> int:
    with app.app_context():
        count = planner.plan_missed(now)
        db.session.commit()
        return count


def _mark(app, session_id: int, status: Status) -> None:
    with app.app_context():
        db.session.get(TutoringSession, session_id).status = status
        db.session.commit()


def test_a_no_show_alerts_the_tutor_and_the_coordinator_once(app, program, book, staff_on_line):
    [session_id] = book(START)
    after = START + timedelta(hours=3)
    assert plan_missed(app, after) == 0
    _mark(app, session_id, Status.NO_SHOW)
    assert plan_missed(app, after) == 2
    alerts = messages(app, kind="missed")
    assert {m["recipient_id"] for m in alerts} == {program.tutor.id, program.coordinator.id}
    assert program.learner.id not in {m["recipient_id"] for m in alerts}
    assert plan_missed(app, after + timedelta(minutes=5)) == 0
    with app.app_context():
        # The attendance sweep may call it directly as it marks the session; nothing doubles.
        assert planner.notify_missed_session(db.session.get(TutoringSession, session_id)) == 0


def test_old_no_shows_do_not_send_follow_ups(app, book, staff_on_line):
    [session_id] = book(START)
    _mark(app, session_id, Status.NO_SHOW)
    assert plan_missed(app, START + timedelta(days=4)) == 0


def test_an_online_session_the_tutor_attended_and_the_learner_never_joined(
    app, program, book, staff_on_line
):
    [missed, joined, nobody] = [book(START + timedelta(days=n))[0] for n in (0, 1, 2)]
    with app.app_context():
        tutor = db.session.get(User, program.tutor.id)
        learner = db.session.get(User, program.learner.id)
        for session_id in (missed, joined):
            session = db.session.get(TutoringSession, session_id)
            record_presence(
                tutor,
                session,
                source=PresenceSource.PAGE,
                kind=PresenceKind.JOINED,
                now=session.starts_at,
            )
        record_presence(
            learner,
            db.session.get(TutoringSession, joined),
            source=PresenceSource.VIDEO,
            kind=PresenceKind.JOINED,
            now=START + timedelta(days=1, minutes=5),
        )
        db.session.commit()
    # The room closes 30 minutes after the end (18:00): not before that.
    assert plan_missed(app, START + timedelta(hours=2, minutes=29)) == 0
    assert plan_missed(app, START + timedelta(hours=2, minutes=30)) == 2
    # The learner joined the next one; nobody came to the third: neither is an alert.
    assert plan_missed(app, START + timedelta(days=2, hours=3)) == 0
    assert {m["session_id"] for m in messages(app, kind="missed")} == {missed}
    assert nobody != missed

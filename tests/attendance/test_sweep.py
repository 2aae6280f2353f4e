"""The sweep: closing what no leave closed, persisting it, deriving statuses and outcomes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.attendance.conftest import END, START, at
from tutoring.attendance import service
from tutoring.attendance.models import (
    Attendance,
    AttendanceChange,
    AttendanceStatus,
    ClosedBy,
    PresenceInterval,
)
from tutoring.extensions import db
from tutoring.people.models import User
from tutoring.scheduling.models import Mode, Status, TutoringSession


def beat(presence, session_id, account, start, end, client="tab"):
    """The room page of `account` open from start to end (minutes), beating every 30 s."""
    presence(session_id, account, "page", "joined", start, client)
    minute = start + 0.5
    while minute <= end:
        presence(session_id, account, "page", "heartbeat", minute, client)
        minute += 0.5


def stored(app, session_id):
    with app.app_context():
        return [
            (i.user_id, i.source.value, i.joined_at, i.left_at, i.closed_by)
            for i in db.session.scalars(
                select(PresenceInterval)
                .where(PresenceInterval.session_id == session_id)
                .order_by(PresenceInterval.user_id, PresenceInterval.joined_at)
            )
        ]


def record(app, session_id, account):
    with app.app_context():
        return db.session.scalar(
            select(Attendance).where(
                Attendance.session_id == session_id, Attendance.user_id == account.id
            )
        )


def session_status(app, session_id) -> Status:
    with app.app_context():
        return db.session.get(TutoringSession, session_id).status


def attendance_of(app, session_id, now_minutes):
    with app.app_context():
        session = db.session.get(TutoringSession, session_id)
        return {
            p.role.value: (p.status, p.minutes_present, p.spans)
            for p in service.session_attendance(session, at(now_minutes))
        }


def test_a_quiet_participant_is_settled_once_and_the_decision_kept(
    app, program, past_session, presence, sweep
):
    beat(presence, past_session, program.learner, 0, 40)  # browser killed after 40:00
    presence(past_session, program.learner, "whiteboard", "joined", 1, "sid-1")

    early = sweep(41)  # 1 minute of silence: not yet
    assert early.settled == 0
    assert stored(app, past_session) == []

    result = sweep(43)  # 3 minutes: longer than ATTENDANCE_STALE_SECONDS (150 s)
    assert (result.settled, result.intervals, result.closed_by_sweep) == (1, 2, 2)
    learner = program.learner.id
    assert stored(app, past_session) == [
        (learner, "page", at(0), at(40), ClosedBy.SWEEP),
        (learner, "whiteboard", at(1), at(40), ClosedBy.SWEEP),
    ]
    again = sweep(44)
    assert (again.settled, again.intervals) == (0, 0)

    # A later change of the setting does not rewrite what the sweep decided.
    app.config["ATTENDANCE_STALE_SECONDS"] = 3600
    sweep(50)
    assert stored(app, past_session)[0][3] == at(40)
    assert attendance_of(app, past_session, 50)["learner"][1] == 40


def test_someone_still_beating_is_not_settled(app, program, past_session, presence, sweep):
    beat(presence, past_session, program.tutor, -2, 30)
    assert sweep(31).settled == 0
    assert attendance_of(app, past_session, 31)["tutor"][2][0].left_at is None


def test_returning_after_a_sweep_starts_a_new_interval(app, program, past_session, presence, sweep):
    beat(presence, past_session, program.learner, 0, 20)
    sweep(25)
    beat(presence, past_session, program.learner, 30, 119, client="tab-2")
    presence(past_session, program.learner, "page", "left", 119.5, "tab-2")
    sweep(121)  # ended: derived from what is known, but 90 s of quiet is not settled yet
    assert len(stored(app, past_session)) == 1
    sweep(123)
    learner = program.learner.id
    assert stored(app, past_session) == [
        (learner, "page", at(0), at(20), ClosedBy.SWEEP),
        (learner, "page", at(30), at(119.5), ClosedBy.LEFT),
    ]
    status, minutes, _spans = attendance_of(app, past_session, 130)["learner"]
    assert minutes == 20 + 89
    assert status is AttendanceStatus.PRESENT


def test_a_leave_arriving_after_the_sweep_changes_nothing(
    app, program, past_session, presence, sweep
):
    beat(presence, past_session, program.learner, 0, 30)
    presence(past_session, program.learner, "whiteboard", "joined", 0, "sid")
    sweep(35)
    presence(past_session, program.learner, "whiteboard", "left", 100, "sid")  # a late disconnect
    sweep(200)
    assert [row[3] for row in stored(app, past_session)] == [at(30), at(30)]


def test_a_whiteboard_only_client_waits_for_the_room_to_close(
    app, program, past_session, presence, sweep
):
    presence(past_session, program.tutor, "whiteboard", "joined", 0, "sid")
    assert sweep(60).settled == 0  # no heartbeats: silence proves nothing while the room is open
    assert attendance_of(app, past_session, 60)["tutor"][1] == 60
    presence(past_session, program.tutor, "whiteboard", "left", 118, "sid")
    sweep(151)  # the room closed at 18:30
    assert stored(app, past_session) == [
        (program.tutor.id, "whiteboard", at(0), at(118), ClosedBy.LEFT)
    ]


def test_after_the_end_statuses_and_the_session_outcome_are_derived(
    app, program, past_session, presence, sweep
):
    beat(presence, past_session, program.tutor, -3, 121)
    beat(presence, past_session, program.learner, 12, 120)
    result = sweep(125)
    assert result.derived == 1
    learner, tutor = (
        record(app, past_session, program.learner),
        record(app, past_session, program.tutor),
    )
    assert (learner.status, learner.minutes_present) == (AttendanceStatus.LATE, 108)
    assert (tutor.status, tutor.minutes_present) == (AttendanceStatus.PRESENT, 120)
    assert learner.first_joined_at == at(12)
    assert session_status(app, past_session) is Status.HELD
    with app.app_context():
        changes = db.session.scalars(select(AttendanceChange)).all()
        assert {(c.user_id, c.actor_id, c.before, c.after) for c in changes} == {
            (program.learner.id, None, None, AttendanceStatus.LATE),
            (program.tutor.id, None, None, AttendanceStatus.PRESENT),
        }
    assert sweep(200).derived == 0  # nothing new: nothing done


@pytest.mark.parametrize(
    ("learner_comes", "tutor_comes", "learner_status", "tutor_status", "expected"),
    [
        (False, True, AttendanceStatus.ABSENT, AttendanceStatus.PRESENT, Status.NO_SHOW),
        (True, False, AttendanceStatus.PRESENT, AttendanceStatus.ABSENT, Status.NO_SHOW),
        (False, False, AttendanceStatus.ABSENT, AttendanceStatus.ABSENT, Status.NO_SHOW),
        (True, True, AttendanceStatus.PRESENT, AttendanceStatus.PRESENT, Status.HELD),
    ],
)
def test_no_shows_of_either_side(
    app,
    program,
    past_session,
    presence,
    sweep,
    learner_comes,
    tutor_comes,
    learner_status,
    tutor_status,
    expected,
):
    if learner_comes:
        beat(presence, past_session, program.learner, 0, 120)
    if tutor_comes:
        beat(presence, past_session, program.tutor, 0, 120)
    sweep(130)
    assert record(app, past_session, program.learner).status is learner_status
    assert record(app, past_session, program.tutor).status is tutor_status
    assert session_status(app, past_session) is expected
    with app.app_context():
        session = db.session.get(TutoringSession, past_session)
        outcome = service.outcome(session.status, learner_status, tutor_status)
    assert (
        outcome.value
        == {
            (False, True): "learner_no_show",
            (True, False): "tutor_no_show",
            (False, False): "no_show",
            (True, True): "held",
        }[(learner_comes, tutor_comes)]
    )


def test_cancelled_sessions_are_left_alone(app, program, book, presence, sweep):
    session_id = book(START)[0]
    with app.app_context():
        from tutoring.scheduling import service as scheduling

        scheduling.cancel(
            db.session.get(User, program.coordinator.id),
            db.session.get(TutoringSession, session_id),
            reason="台風のため",
        )
        db.session.commit()
    assert sweep(200).derived == 0
    assert session_status(app, session_id) is Status.CANCELLED
    assert record(app, session_id, program.learner) is None


def test_in_person_without_marks_is_not_made_absent(app, program, book, sweep):
    session_id = book(START, mode=Mode.IN_PERSON, venue_id=program.venue_id)[0]
    assert sweep(200).derived == 1
    learner = record(app, session_id, program.learner)
    assert learner.status is None
    assert learner.derived_at is not None
    assert session_status(app, session_id) is Status.SCHEDULED
    assert sweep(300).derived == 0  # derived once, not every minute


def test_a_sweep_before_the_end_derives_nothing(app, program, past_session, presence, sweep):
    beat(presence, past_session, program.learner, 0, 50)
    result = sweep(60)
    assert result.derived == 0
    assert record(app, past_session, program.learner).status is None
    assert session_status(app, past_session) is Status.SCHEDULED


def test_sweep_command_reports_and_is_idempotent(app, program, past_session, presence):
    beat(presence, past_session, program.learner, 0, 10)
    runner = app.test_cli_runner()
    now = (END + timedelta(hours=1)).isoformat()
    first = runner.invoke(args=["attendance", "sweep", "--now", now])
    assert first.exit_code == 0, first.output
    assert "settled 1 participant(s), stored 1 interval(s) (1 closed by the sweep)" in first.output
    assert "derived 1 session(s)" in first.output
    second = runner.invoke(args=["attendance", "sweep", "--now", now])
    assert "settled 0 participant(s), stored 0 interval(s)" in second.output
    assert "derived 0 session(s)" in second.output
    bad = runner.invoke(args=["attendance", "sweep", "--now", "2026-12-01T10:00"])
    assert bad.exit_code == 2
    assert "offset" in bad.output


def test_old_sessions_are_derived_only_by_a_backfill_in_batches(app, program, book, sweep):
    ids = book(START - timedelta(weeks=10), weekly_until=(START - timedelta(weeks=1)).date())
    # All ended more than 7 days before: an upgrade must not make them no-shows by itself.
    assert sweep(200).derived == 0
    assert {session_status(app, i) for i in ids} == {Status.SCHEDULED}
    with app.app_context():
        first = service.sweep(at(200), batch=4, backfill=True)
        db.session.commit()
        assert (first.derived, first.more) == (4, True)
    result = app.test_cli_runner().invoke(
        args=["attendance", "sweep", "--backfill", "--now", at(200).isoformat()]
    )
    assert f"derived {len(ids) - 4} session(s)" in result.output
    assert {session_status(app, i) for i in ids} == {Status.NO_SHOW}


def presence_event_users(app, session_id) -> list[int]:
    from tutoring.attendance.models import PresenceEvent

    with app.app_context():
        return sorted(
            db.session.scalars(
                select(PresenceEvent.user_id).where(PresenceEvent.session_id == session_id)
            )
        )


def test_raw_reports_are_pruned_after_retention_keeping_the_record(
    app, program, past_session, presence, sweep
):
    from tutoring.attendance.tasks import prune_all

    beat(presence, past_session, program.tutor, -3, 121)
    beat(presence, past_session, program.learner, 0, 120)
    presence(past_session, program.coordinator, "page", "joined", 30)
    sweep(125)
    # A report that arrives after the sweep settled the learner has not been folded yet.
    presence(past_session, program.learner, "video", "left", 130)
    intervals_before = stored(app, past_session)
    minutes_before = record(app, past_session, program.learner).minutes_present
    with app.app_context():
        assert prune_all(END + timedelta(days=89)) == 0
    assert len(presence_event_users(app, past_session)) > 400
    with app.app_context():
        assert prune_all(END + timedelta(days=91)) > 400
    assert presence_event_users(app, past_session) == [program.learner.id]
    assert stored(app, past_session) == intervals_before
    assert record(app, past_session, program.learner).minutes_present == minutes_before
    assert session_status(app, past_session) is Status.HELD


def test_prune_command_and_retention_zero_keeps_everything(app, program, past_session, presence):
    beat(presence, past_session, program.learner, 0, 10)
    runner = app.test_cli_runner()
    runner.invoke(args=["attendance", "sweep", "--now", (END + timedelta(hours=1)).isoformat()])
    app.config["ATTENDANCE_EVENT_RETENTION_DAYS"] = 0
    kept = runner.invoke(args=["attendance", "prune"])
    assert "deleted 0 presence report(s)" in kept.output
    app.config["ATTENDANCE_EVENT_RETENTION_DAYS"] = 1  # the session ended weeks ago
    pruned = runner.invoke(args=["attendance", "prune"])
    assert pruned.exit_code == 0, pruned.output
    assert "deleted 21 presence report(s)" in pruned.output  # joined + 20 heartbeats
    assert presence_event_users(app, past_session) == []

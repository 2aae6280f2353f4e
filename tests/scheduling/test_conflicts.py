"""Double-booking is refused for tutor and learner; reschedule and cancel keep the same rules."""

from __future__ import annotations

from datetime import date

import pytest

from tests.scheduling.conftest import session_count, tokyo
from tutoring.extensions import db
from tutoring.people.models import User
from tutoring.scheduling import service
from tutoring.scheduling.models import Mode, SessionChange, Status, TutoringSession, Venue
from tutoring.validation import ValidationError


def test_touching_sessions_do_not_clash(app, book):
    book(tokyo(2026, 6, 1, 14, 0), minutes=120)
    book(tokyo(2026, 6, 1, 16, 0), minutes=60)  # starts when the first ends
    book(tokyo(2026, 6, 1, 13, 0), minutes=60)  # ends when the first starts
    assert session_count(app) == 3


@pytest.mark.parametrize("who", ["tutor", "learner"])
def test_overlap_for_the_same_tutor_or_learner_clashes(app, book, program, who):
    [first] = book(tokyo(2026, 6, 1, 14, 0), minutes=120)
    other = {"learner": program.other_learner} if who == "tutor" else {"tutor": program.other_tutor}
    with pytest.raises(service.ConflictError) as error:
        book(tokyo(2026, 6, 1, 15, 59), minutes=30, **other)
    assert [(c.session.id, c.who) for c in error.value.clashes] == [(first, who)]
    assert error.value.details["conflicts"][0]["session_id"] == first
    assert session_count(app) == 1


def test_different_people_at_the_same_time_do_not_clash(app, book, program):
    book(tokyo(2026, 6, 1, 14, 0))
    book(tokyo(2026, 6, 1, 14, 0), learner=program.other_learner, tutor=program.other_tutor)
    assert session_count(app) == 2


def test_a_cancelled_session_frees_its_slot(app, book, program):
    [first] = book(tokyo(2026, 6, 1, 14, 0))
    with app.app_context():
        service.cancel(
            db.session.get(User, program.coordinator.id),
            db.session.get(TutoringSession, first),
            reason="体調不良",
        )
        db.session.commit()
    book(tokyo(2026, 6, 1, 14, 0))
    assert session_count(app) == 2


def test_a_series_with_one_clash_creates_nothing_and_lists_the_clash(app, book, program):
    [busy] = book(tokyo(2026, 6, 16, 16, 30), minutes=60, learner=program.other_learner)
    with pytest.raises(service.ConflictError) as error:
        book(tokyo(2026, 6, 2, 16, 0), weekly_until=date(2026, 6, 30))
    assert [c.session.id for c in error.value.clashes] == [busy]
    assert error.value.clashes[0].requested_start == tokyo(2026, 6, 16, 16, 0)
    assert session_count(app) == 1


def test_in_person_needs_an_active_venue(app, book, program):
    with pytest.raises(ValidationError) as error:
        book(tokyo(2026, 6, 1, 14, 0), mode=Mode.IN_PERSON)
    assert error.value.field == "venue_id"
    with app.app_context():
        db.session.get(Venue, program.venue_id).active = False
        db.session.commit()
    with pytest.raises(ValidationError) as error:
        book(tokyo(2026, 6, 1, 14, 0), mode=Mode.IN_PERSON, venue_id=program.venue_id)
    assert error.value.field == "venue_id"
    assert session_count(app) == 0


def test_only_active_learners_and_tutors_can_be_booked(app, book, program, make_user):
    with pytest.raises(ValidationError) as error:
        book(tokyo(2026, 6, 1, 14, 0), learner=program.tutor)
    assert error.value.field == "learner_id"
    with pytest.raises(ValidationError) as error:
        book(tokyo(2026, 6, 1, 14, 0), tutor=make_user("tutor", active=False))
    assert error.value.field == "tutor_id"


def test_booking_assigns_the_tutor_to_the_learner(app, book, program):
    book(tokyo(2026, 6, 1, 14, 0))
    with app.app_context():
        tutors = service.assigned_tutors(db.session.get(User, program.learner.id))
        assert [t.id for t in tutors] == [program.tutor.id]


def reschedule(app, program, session_id, **changes):
    with app.app_context():
        actor = db.session.get(User, changes.pop("actor", program.coordinator).id)
        if "tutor" in changes:
            changes["tutor"] = db.session.get(User, changes["tutor"].id)
        result = service.reschedule(actor, db.session.get(TutoringSession, session_id), **changes)
        db.session.commit()
        return [s.id for s in result]


def test_reschedule_checks_clashes_but_not_against_itself(app, book, program):
    [first] = book(tokyo(2026, 6, 1, 14, 0))
    [second] = book(tokyo(2026, 6, 1, 18, 0))
    reschedule(
        app, program, first, starts_at=tokyo(2026, 6, 1, 15, 0)
    )  # overlaps its old time only
    with pytest.raises(service.ConflictError) as error:
        reschedule(app, program, first, starts_at=tokyo(2026, 6, 1, 17, 0))
    assert error.value.clashes[0].session.id == second
    with app.app_context():
        assert db.session.get(TutoringSession, first).starts_at == tokyo(2026, 6, 1, 15, 0)


def test_reschedule_this_and_following_moves_the_rest_of_the_series(app, book, program):
    ids = book(tokyo(2026, 6, 2, 16, 0), weekly_until=date(2026, 6, 23))  # Tuesdays
    moved = reschedule(app, program, ids[1], starts_at=tokyo(2026, 6, 10, 17, 0), scope="following")
    assert moved == ids[1:]
    with app.app_context():
        times = [
            db.session.get(TutoringSession, i).starts_at.astimezone(tokyo(2026, 1, 1).tzinfo)
            for i in ids
        ]
    assert times == [
        tokyo(2026, 6, 2, 16, 0),
        tokyo(2026, 6, 10, 17, 0),
        tokyo(2026, 6, 17, 17, 0),
        tokyo(2026, 6, 24, 17, 0),
    ]


def test_series_move_with_one_clash_changes_nothing(app, book, program):
    ids = book(tokyo(2026, 6, 2, 16, 0), weekly_until=date(2026, 6, 23))
    book(tokyo(2026, 6, 23, 10, 0), learner=program.other_learner)
    with pytest.raises(service.ConflictError):
        reschedule(app, program, ids[0], starts_at=tokyo(2026, 6, 2, 10, 0), scope="following")
    with app.app_context():
        assert all(
            db.session.get(TutoringSession, i).starts_at.astimezone(tokyo(2026, 1, 1).tzinfo).hour
            == 16
            for i in ids
        )


def test_only_coordinators_change_the_tutor(app, book, program):
    [session_id] = book(tokyo(2026, 6, 1, 14, 0))
    with pytest.raises(ValidationError) as error:
        reschedule(app, program, session_id, actor=program.tutor, tutor=program.other_tutor)
    assert error.value.field == "tutor_id"
    reschedule(app, program, session_id, tutor=program.other_tutor)
    with app.app_context():
        assert db.session.get(TutoringSession, session_id).tutor_id == program.other_tutor.id


def test_every_change_is_kept_with_who_and_when(app, book, program):
    [session_id] = book(tokyo(2026, 6, 1, 14, 0))
    reschedule(app, program, session_id, actor=program.tutor, starts_at=tokyo(2026, 6, 1, 15, 0))
    with app.app_context():
        session = db.session.get(TutoringSession, session_id)
        service.cancel(db.session.get(User, program.tutor.id), session, reason="学校行事")
        db.session.commit()
        changes = service.history(session)
        assert [c.action for c in changes] == ["created", "rescheduled", "cancelled"]
        assert [c.actor_id for c in changes] == [
            program.coordinator.id,
            program.tutor.id,
            program.tutor.id,
        ]
        assert changes[1].before["starts_at"].startswith("2026-06-01T05:00")
        assert changes[1].after["starts_at"].startswith("2026-06-01T06:00")
        assert changes[2].reason == "学校行事"
        assert session.status is Status.CANCELLED
        assert session.cancelled_by_id == program.tutor.id
        assert session.revision == 2


def test_cancel_this_and_following(app, book, program):
    ids = book(tokyo(2026, 6, 2, 16, 0), weekly_until=date(2026, 6, 23))
    with app.app_context():
        cancelled = service.cancel(
            db.session.get(User, program.coordinator.id),
            db.session.get(TutoringSession, ids[2]),
            reason="支援終了",
            scope="following",
        )
        db.session.commit()
        assert [s.id for s in cancelled] == ids[2:]
        statuses = [db.session.get(TutoringSession, i).status for i in ids]
    assert statuses == [Status.SCHEDULED, Status.SCHEDULED, Status.CANCELLED, Status.CANCELLED]


def test_cancel_needs_a_reason_and_a_scheduled_session(app, book, program):
    [session_id] = book(tokyo(2026, 6, 1, 14, 0))
    with app.app_context():
        actor = db.session.get(User, program.coordinator.id)
        session = db.session.get(TutoringSession, session_id)
        with pytest.raises(ValidationError) as error:
            service.cancel(actor, session, reason="  ")
        assert error.value.field == "reason"
        service.cancel(actor, session, reason="理由")
        with pytest.raises(ValidationError):
            service.cancel(actor, session, reason="again")
        assert db.session.query(SessionChange).filter_by(action="cancelled").count() == 1

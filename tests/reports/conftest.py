"""Report tests: a published program year built through the service functions.

The case (a municipal program's published yearly report): in one fiscal year 45 learners took
part, 20 of them continuing from the year before; 219 study sessions were held across 7
venues; 25 learners sat the exam and 13 obtained the certificate; of those, 3 found regular
work, 3 welfare employment, 3 went on to further education and 4 were job seeking.

The fixture adds what a real year also holds and the report must leave out: cancelled,
no-show and unmarked sessions, sessions of the years before and after, a consultation record
tied to its session, learners who paused, one who joined after the year, one who left the
year before, and a learner erased at their request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pytest

from tests.conftest import Account, Program, tokyo  # noqa: F401
from tutoring.attendance import service as attendance
from tutoring.attendance.models import AttendanceStatus
from tutoring.extensions import db
from tutoring.people.models import LearnerStatus, User
from tutoring.records import privacy
from tutoring.records import service as records
from tutoring.records.models import ExamRound, OutcomeKind, SubjectResult
from tutoring.scheduling import service as scheduling
from tutoring.scheduling.models import Kind, Mode, TutoringSession, Venue

YEAR = 2025
VENUES = (
    "中央公民館",
    "北部市民センター",
    "南部図書館",
    "東部ユースプラザ",
    "西部公民館",
    "駅前学習室",
    "子ども若者センター",
)
ONLINE_LEARNERS = (0, 9, 18, 27, 36)  # study online only
FOUR_SESSIONS = (39, 40, 41, 42, 43, 44)  # the others have five: 39 × 5 + 6 × 4 = 219


@pytest.fixture(autouse=True)
def english(client):
    """Pages in English: the tests read labels, not the catalogue."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def user(account: Account) -> User:
    return db.session.get(User, account.id)


def mark(actor: User, session: TutoringSession, status: AttendanceStatus) -> None:
    """Record the learner's attendance as a tutor does after the session."""
    attendance.set_status(actor, session, session.learner_id, status)


def book(actor: User, learner: User, tutor: User, starts_at: datetime, **kwargs):
    kwargs.setdefault("duration_minutes", 120)
    kwargs.setdefault("kind", Kind.STUDY)
    kwargs.setdefault("mode", Mode.ONLINE)
    return scheduling.book_sessions(
        actor, learner=learner, tutor=tutor, starts_at=starts_at, **kwargs
    )


@dataclass
class Case:
    coordinator: Account
    admin: Account
    learners: list[int]
    venue_ids: list[int]
    erased_id: int
    extra: dict = field(default_factory=dict)


@pytest.fixture
def published_case(app, make_user) -> Case:
    coordinator = make_user("coordinator", name="佐藤 恵美")
    admin = make_user("admin", name="管理者 花子")
    tutors = [make_user("tutor", name=f"支援員 {n}") for n in range(5)]
    learners = [make_user("learner", name=f"学習者 {n:02d}") for n in range(45)]
    joined_after = make_user("learner", name="来年度 参加")
    left_before = make_user("learner", name="前年度 終了")
    with app.app_context():
        actor = user(coordinator)
        records.seed_subjects()
        venues = [
            scheduling.save_venue(None, name=name, address="", online=False, active=True)
            for name in VENUES
        ]
        db.session.flush()
        subjects = [s.id for s in records.list_subjects()]
        round_1 = records.save_round(actor, None, year=YEAR, number=1, exam_on=date(YEAR, 8, 7))
        round_2 = records.save_round(actor, None, year=YEAR, number=2, exam_on=date(YEAR, 11, 6))
        db.session.flush()

        for n, account in enumerate(learners):
            learner = user(account)
            tutor = user(tutors[n % 5])
            continuing = n < 20
            enrolled = date(YEAR - 1, 6, 1) + timedelta(days=n) if continuing else None
            enrolled = enrolled or date(YEAR, 4, 3) + timedelta(days=n)
            records.save_profile(actor, learner, name=learner.name, enrolled_on=enrolled)
            # One weekly slot per learner: no two learners share a weekday and hour.
            first = tokyo(YEAR, 4, 14, 9 + 2 * (n // 7), 0) + timedelta(days=n % 7)
            if not continuing:
                # The learning consultation that starts support, in person at the venue.
                [consultation] = book(
                    actor,
                    learner,
                    tutor,
                    first - timedelta(days=7),
                    kind=Kind.CONSULTATION,
                    mode=Mode.IN_PERSON,
                    venue=venues[n % 7],
                    duration_minutes=60,
                )
                mark(actor, consultation, AttendanceStatus.PRESENT)
                if n == 20:  # its record is the same meeting: counted once
                    records.save_consultation(
                        actor,
                        learner,
                        None,
                        held_on=consultation.starts_at.astimezone(first.tzinfo).date(),
                        own_words="高卒認定を取りたい",
                        notes="",
                        session_id=consultation.id,
                    )
            else:
                # Last year's sessions: not this year's figures.
                [earlier] = book(actor, learner, tutor, first - timedelta(weeks=6))
                mark(actor, earlier, AttendanceStatus.PRESENT)
            if n in (0, 1, 2):
                # A consultation recorded without a booked session (e.g. by phone).
                records.save_consultation(
                    actor, learner, None, held_on=date(YEAR, 9, 1), own_words="", notes="進路相談"
                )
            online = n in ONLINE_LEARNERS
            held = 4 if n in FOUR_SESSIONS else 5
            series = book(
                actor,
                learner,
                tutor,
                first,
                mode=Mode.ONLINE if online else Mode.IN_PERSON,
                venue=None if online else venues[n % 7],
                weekly_until=(first + timedelta(weeks=held + 1)).date(),
            )
            for session in series[:held]:
                mark(actor, session, AttendanceStatus.PRESENT)
            # The two sessions after them: one missed, one cancelled; neither counts.
            mark(actor, series[held], AttendanceStatus.ABSENT)
            scheduling.cancel(actor, series[held + 1], reason="体調不良")
            if n == 3:  # booked but never marked: not held
                book(actor, learner, tutor, first + timedelta(weeks=20))

            # The exam: learners 0–24 sat round 2; 0–12 passed every subject taken.
            if n < 5:
                records.save_attempt(
                    actor,
                    learner,
                    None,
                    exam_round=db.session.get(ExamRound, round_1.id),
                    results={subjects[0]: SubjectResult.PASSED, subjects[1]: SubjectResult.PASSED},
                )
            if n < 25:
                if n < 13:
                    results = dict.fromkeys(subjects[2:5], SubjectResult.PASSED)
                elif n < 18:
                    results = {subjects[2]: SubjectResult.PASSED, subjects[3]: SubjectResult.FAILED}
                else:
                    results = dict.fromkeys(subjects[2:5], SubjectResult.FAILED)
                records.save_attempt(
                    actor,
                    learner,
                    None,
                    exam_round=db.session.get(ExamRound, round_2.id),
                    results=results,
                    certificate_obtained=n < 13,
                )
            # Where the 13 went.
            kind = (
                OutcomeKind.EMPLOYMENT_REGULAR
                if n < 3
                else OutcomeKind.EMPLOYMENT_WELFARE
                if n < 6
                else OutcomeKind.FURTHER_EDUCATION
                if n < 9
                else OutcomeKind.JOB_SEEKING
                if n < 13
                else None
            )
            if kind is not None:
                records.add_outcome(actor, learner, kind=kind, occurred_on=date(YEAR + 1, 3, 2))
        # Two learners paused before the year ended; one completed only after it.
        for n in (42, 43):
            records.set_status(
                actor, user(learners[n]), LearnerStatus.PAUSED, date(YEAR + 1, 1, 15)
            )
        records.set_status(
            actor, user(learners[41]), LearnerStatus.COMPLETED, date(YEAR + 1, 4, 10)
        )
        # Outcomes of other years do not count.
        records.add_outcome(
            actor, user(learners[14]), kind=OutcomeKind.JOB_SEEKING, occurred_on=date(YEAR, 3, 20)
        )

        # Joined after the year: neither new nor active at its end.
        late = user(joined_after)
        records.save_profile(actor, late, name=late.name, enrolled_on=date(YEAR + 1, 4, 6))
        [after] = book(actor, late, user(tutors[0]), tokyo(YEAR + 1, 4, 13, 9, 0))
        mark(actor, after, AttendanceStatus.PRESENT)
        # Left the year before: not active, did not take part.
        gone = user(left_before)
        records.save_profile(actor, gone, name=gone.name, enrolled_on=date(YEAR - 2, 5, 1))
        records.add_outcome(
            actor, gone, kind=OutcomeKind.SUPPORT_ENDED, occurred_on=date(YEAR - 1, 12, 1)
        )
        db.session.commit()

        # Learner 44 asked to be erased: the anonymous row still counts.
        erased = user(learners[44])
        privacy.erase_learner(user(admin), erased, confirmation=erased.name)
        db.session.commit()
        venue_ids = [v.id for v in db.session.query(Venue).order_by(Venue.id)]
    return Case(
        coordinator=coordinator,
        admin=admin,
        learners=[a.id for a in learners],
        venue_ids=venue_ids,
        erased_id=learners[44].id,
    )

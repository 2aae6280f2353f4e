"""The report's figures, computed from sessions and records."""

from __future__ import annotations

from datetime import date

import pytest

from tests.conftest import tokyo
from tests.reports.conftest import VENUES, book, mark, user
from tutoring.attendance.models import AttendanceStatus
from tutoring.extensions import db
from tutoring.people.models import User
from tutoring.records import privacy
from tutoring.records import service as records
from tutoring.records.models import OutcomeKind
from tutoring.reports import service
from tutoring.reports.periods import fiscal_year
from tutoring.scheduling.models import Kind, Mode, Venue


def test_the_published_case_is_reproduced_exactly(app, published_case):
    with app.app_context():
        report = service.program_report(fiscal_year(2025))

        assert report.study_total == 219
        assert report.study_unique == 45
        assert report.online == 25
        assert report.in_person == 194
        assert report.online_share == pytest.approx(25 / 219, abs=1e-4)
        assert [(v.name, v.total, v.unique_learners) for v in report.by_venue] == sorted(
            [
                (VENUES[0], 29, 6),
                (VENUES[1], 29, 6),
                (VENUES[2], 29, 6),
                (VENUES[3], 30, 6),
                (VENUES[4], 24, 5),
                (VENUES[5], 29, 6),
                (VENUES[6], 24, 5),
            ]
        )
        # 25 consultation sessions of the new learners, 3 records without a session; the
        # record tied to its session is not counted again.
        assert report.consultations_total == 28
        assert report.consultations_unique == 28

        assert report.took_part == 45
        assert report.continuing == 20
        assert report.new == 25
        assert report.active_at_end == 43  # two paused in January

        assert report.takers == 25
        assert report.passers == 13
        assert report.certificates == 13
        assert report.subject_passers == 18
        assert report.subjects_passed == 54
        assert [
            (r.number, r.takers, r.passers, r.subject_passers, r.subjects_passed)
            for r in report.exam_rounds
        ] == [
            (1, 5, 0, 5, 10),
            (2, 25, 13, 18, 44),
        ]

        assert report.outcomes == {
            OutcomeKind.EMPLOYMENT_REGULAR: 3,
            OutcomeKind.EMPLOYMENT_NON_REGULAR: 0,
            OutcomeKind.EMPLOYMENT_WELFARE: 3,
            OutcomeKind.FURTHER_EDUCATION: 3,
            OutcomeKind.RETURN_TO_SCHOOL: 0,
            OutcomeKind.JOB_SEEKING: 4,
            OutcomeKind.REFERRAL: 0,
            OutcomeKind.SUPPORT_ENDED: 0,
        }

        # 219 held of 264 settled (45 no-shows); cancelled and unmarked ones are not settled.
        assert report.settled == 264
        assert report.no_show == 45
        assert report.attendance_rate == pytest.approx(219 / 264, abs=1e-4)
        assert report.average_minutes == 120.0  # in person: the booked length
        assert sum(m.total for m in report.by_month) == 219
        # Series start 14–20 April: the 21 learners starting 14–16 April meet three times in
        # April, the 24 others twice (21 × 3 + 24 × 2 = 111); the rest fall in May.
        assert [m.total for m in report.by_month][:3] == [111, 108, 0]


def test_every_learner_figure_lists_the_learners_behind_it(app, published_case):
    with app.app_context():
        report = service.program_report(fiscal_year(2025))
        ids = published_case.learners
        continuing = service.learners_for(report, "continuing")
        assert [f.learner_id for f in continuing] == ids[:20]
        assert [f.learner_id for f in service.learners_for(report, "certificate")] == ids[:13]
        regular = service.learners_for(report, "outcome:employment_regular")
        assert [f.learner_id for f in regular] == ids[:3]
        paused = {ids[42], ids[43]}
        active = {f.learner_id for f in service.learners_for(report, "active_at_end")}
        assert active == set(ids) - paused
        # The erased learner counts, under the pseudonym only.
        erased = report.learners[published_case.erased_id]
        assert erased.erased
        assert erased.name.startswith("anon-")
        assert erased.took_part
        assert erased.new
        assert erased.study_sessions == 4


def test_the_held_sessions_behind_a_venue_figure(app, published_case):
    with app.app_context():
        period = fiscal_year(2025)
        report = service.program_report(period)
        for venue in report.by_venue:
            rows = list(service.held_sessions(period, kind=Kind.STUDY, venue_id=venue.venue_id))
            assert len(rows) == venue.total
            assert (
                service.count_held_sessions(period, kind=Kind.STUDY, venue_id=venue.venue_id)
                == venue.total
            )
            assert len({row.learner_id for row in rows}) == venue.unique_learners
        online = service.count_held_sessions(period, kind=Kind.STUDY, mode=Mode.ONLINE)
        assert online == report.online


@pytest.fixture
def small(app, program, make_user):
    """The program of tests/conftest.py with subjects, a second venue and an admin."""
    admin = make_user("admin")
    with app.app_context():
        records.seed_subjects()
        from tutoring.scheduling import service as scheduling

        second = scheduling.save_venue(
            None, name="北部市民センター", address="", online=False, active=True
        )
        db.session.commit()
        return {"program": program, "admin": admin, "second_venue": second.id}


def test_fiscal_year_boundaries_in_the_program_zone(app, small):
    program = small["program"]
    with app.app_context():
        actor = user(program.coordinator)
        learner, tutor = user(program.learner), user(program.tutor)
        [last] = book(actor, learner, tutor, tokyo(2026, 3, 31, 23, 30), duration_minutes=60)
        [first] = book(actor, learner, tutor, tokyo(2026, 4, 1, 0, 30), duration_minutes=60)
        mark(actor, last, AttendanceStatus.PRESENT)
        mark(actor, first, AttendanceStatus.PRESENT)
        db.session.commit()
        # 31 March 23:30 in Tokyo is 14:30 UTC: the earlier year; 1 April 00:30 is the new one
        # though it is still 31 March in UTC.
        assert service.program_report(fiscal_year(2025)).study_total == 1
        assert service.program_report(fiscal_year(2026)).study_total == 1
        [row] = service.held_sessions(fiscal_year(2026))
        assert row.session_id == first.id
        assert service.program_report(fiscal_year(2025)).by_month[-1].total == 1
        assert service.program_report(fiscal_year(2026)).by_month[0].total == 1


def test_a_learner_who_changed_tutor_and_venue_counts_once(app, small):
    program = small["program"]
    with app.app_context():
        actor = user(program.coordinator)
        learner = user(program.learner)
        first_venue = db.session.get(Venue, program.venue_id)
        second_venue = db.session.get(Venue, small["second_venue"])
        spring = book(
            actor,
            learner,
            user(program.tutor),
            tokyo(2025, 5, 7, 14, 0),
            mode=Mode.IN_PERSON,
            venue=first_venue,
            weekly_until=date(2025, 5, 28),
        )
        autumn = book(
            actor,
            learner,
            user(program.other_tutor),
            tokyo(2025, 10, 2, 16, 0),
            mode=Mode.IN_PERSON,
            venue=second_venue,
            weekly_until=date(2025, 10, 23),
        )
        online = book(actor, learner, user(program.other_tutor), tokyo(2025, 11, 6, 16, 0))
        for session in [*spring, *autumn, *online]:
            mark(actor, session, AttendanceStatus.PRESENT)
        db.session.commit()
        report = service.program_report(fiscal_year(2025))
        assert report.study_total == 9
        assert report.study_unique == 1
        assert report.took_part == 1
        assert [(v.venue_id, v.total, v.unique_learners) for v in report.by_venue] == sorted(
            [(program.venue_id, 4, 1), (small["second_venue"], 4, 1)],
            key=lambda v: {
                program.venue_id: "中央公民館",
                small["second_venue"]: "北部市民センター",
            }[v[0]],
        )
        assert report.online == 1


def test_only_held_sessions_count(app, small):
    program = small["program"]
    with app.app_context():
        actor = user(program.coordinator)
        learner, tutor = user(program.learner), user(program.tutor)
        sessions = book(
            actor, learner, tutor, tokyo(2025, 6, 2, 10, 0), weekly_until=date(2025, 6, 30)
        )
        mark(actor, sessions[0], AttendanceStatus.PRESENT)
        mark(actor, sessions[1], AttendanceStatus.LATE)  # late is attended: held
        mark(actor, sessions[2], AttendanceStatus.ABSENT)  # no-show
        mark(actor, sessions[3], AttendanceStatus.EXCUSED)  # no-show, excused
        from tutoring.scheduling import service as scheduling

        scheduling.cancel(actor, sessions[4], reason="台風")
        db.session.commit()
        report = service.program_report(fiscal_year(2025))
        assert report.study_total == 2
        assert report.settled == 4
        assert report.attendance_rate == 0.5


def test_consultations_count_records_and_sessions_once(app, small):
    program = small["program"]
    with app.app_context():
        actor = user(program.coordinator)
        learner, other = user(program.learner), user(program.other_learner)
        [held] = book(
            actor, learner, user(program.tutor), tokyo(2025, 4, 10, 10, 0), kind=Kind.CONSULTATION
        )
        mark(actor, held, AttendanceStatus.PRESENT)
        [missed] = book(
            actor, other, user(program.tutor), tokyo(2025, 4, 11, 10, 0), kind=Kind.CONSULTATION
        )
        mark(actor, missed, AttendanceStatus.ABSENT)
        # The held session's record: the same meeting.
        records.save_consultation(
            actor,
            learner,
            None,
            held_on=date(2025, 4, 10),
            own_words="",
            notes="初回",
            session_id=held.id,
        )
        # The no-show session's record: the consultation took place another way (by phone).
        records.save_consultation(
            actor,
            other,
            None,
            held_on=date(2025, 4, 12),
            own_words="",
            notes="電話",
            session_id=missed.id,
        )
        # A second consultation of the first learner without a session.
        records.save_consultation(
            actor, learner, None, held_on=date(2025, 9, 1), own_words="", notes="進路"
        )
        # Another year's record.
        records.save_consultation(
            actor, learner, None, held_on=date(2025, 3, 31), own_words="", notes="前年度"
        )
        db.session.commit()
        report = service.program_report(fiscal_year(2025))
        assert report.consultations_total == 3
        assert report.consultations_unique == 2
        assert report.study_total == 0
        assert report.took_part == 2


def test_an_erased_learner_still_counts(app, small):
    program = small["program"]
    with app.app_context():
        actor = user(program.coordinator)
        learner = user(program.learner)
        records.save_profile(actor, learner, name=learner.name, enrolled_on=date(2025, 4, 20))
        [session] = book(actor, learner, user(program.tutor), tokyo(2025, 5, 1, 10, 0))
        mark(actor, session, AttendanceStatus.PRESENT)
        records.add_outcome(
            actor, learner, kind=OutcomeKind.RETURN_TO_SCHOOL, occurred_on=date(2025, 9, 1)
        )
        db.session.commit()
        before = service.program_report(fiscal_year(2025))
        privacy.erase_learner(user(small["admin"]), learner, confirmation=learner.name)
        db.session.commit()
        after = service.program_report(fiscal_year(2025))
        for figure in (
            "study_total",
            "study_unique",
            "took_part",
            "new",
            "active_at_end",
            "outcomes",
        ):
            assert getattr(after, figure) == getattr(before, figure), figure
        [facts] = after.learners.values()
        assert facts.erased
        assert facts.name == db.session.get(User, program.learner.id).name != "田中 陽向"


def test_referrals_come_from_one_function(app, small):
    program = small["program"]
    with app.app_context():
        actor = user(program.coordinator)
        for account in (program.learner, program.other_learner):
            records.add_outcome(
                actor, user(account), kind=OutcomeKind.REFERRAL, occurred_on=date(2025, 7, 1)
            )
        records.add_outcome(
            actor, user(program.learner), kind=OutcomeKind.REFERRAL, occurred_on=date(2025, 8, 1)
        )
        db.session.commit()
        assert service.count_referrals_out(date(2025, 4, 1), date(2026, 3, 31)) == 2
        report = service.program_report(fiscal_year(2025))
        assert report.outcomes[OutcomeKind.REFERRAL] == 2
        assert report.active_at_end == 0  # a referral sets the status to referred


def test_referral_out_records_of_partners_count_once_per_learner(app, small):
    from tutoring.partners import service as partners

    program = small["program"]
    with app.app_context():
        actor = user(program.coordinator)
        records.add_outcome(
            actor, user(program.learner), kind=OutcomeKind.REFERRAL, occurred_on=date(2025, 7, 1)
        )
        # The same referral recorded both ways, and another learner's on the partners page.
        partners.record_referral_out(
            actor,
            user(program.learner),
            agency="福祉事務所",
            referred_on=date(2025, 7, 1),
            reason="生活支援",
        )
        partners.record_referral_out(
            actor,
            user(program.other_learner),
            agency="ハローワーク",
            referred_on=date(2026, 3, 31),
            reason="就労",
        )
        partners.record_referral_out(
            actor,
            user(program.other_learner),
            agency="ハローワーク",
            referred_on=date(2026, 4, 1),
            reason="就労",
        )
        db.session.commit()
        report = service.program_report(fiscal_year(2025))
        assert report.outcomes[OutcomeKind.REFERRAL] == 2
        assert service.program_report(fiscal_year(2026)).outcomes[OutcomeKind.REFERRAL] == 1


def test_average_minutes_use_the_room_when_it_recorded_presence(app, small):
    from tutoring.attendance.models import Attendance

    program = small["program"]
    with app.app_context():
        actor = user(program.coordinator)
        sessions = book(
            actor,
            user(program.learner),
            user(program.tutor),
            tokyo(2025, 6, 2, 10, 0),
            weekly_until=date(2025, 6, 9),
            duration_minutes=90,
        )
        for session in sessions:
            mark(actor, session, AttendanceStatus.PRESENT)
        record = (
            db.session.query(Attendance)
            .filter_by(session_id=sessions[0].id, user_id=program.learner.id)
            .one()
        )
        record.minutes_present = 70
        db.session.commit()
        report = service.program_report(fiscal_year(2025))
        assert report.average_minutes == 80.0  # (70 from the room + 90 booked) / 2


def test_an_empty_year_has_zeros_not_errors(app, small):
    with app.app_context():
        report = service.program_report(fiscal_year(2030))
        assert report.study_total == 0
        assert report.attendance_rate is None
        assert report.average_minutes is None
        assert report.online_share is None
        assert len(report.by_month) == 12

"""Admin export of one learner's data, and erasure that keeps anonymous counts for reports."""

from __future__ import annotations

import json
from datetime import date, timedelta

from tests.records.conftest import form_post, subject, user
from tests.scheduling.conftest import tokyo
from tutoring.attendance.models import PresenceEvent, PresenceKind, PresenceSource
from tutoring.auth.models import ApiToken
from tutoring.extensions import db
from tutoring.notes import service as notes
from tutoring.notes.models import CaseReview, StudyNote, Visibility
from tutoring.people.models import LearnerProfile, LearnerStatus, User
from tutoring.people.service import find_by_sign_in_name
from tutoring.records import service
from tutoring.records.models import (
    ConsentMethod,
    Consultation,
    ExamAttempt,
    ExamRound,
    Goal,
    GuardianConsent,
    Outcome,
    OutcomeKind,
    StatusChange,
    SubjectResult,
)
from tutoring.scheduling.models import TutoringSession

MINE = "陽向さんの将来の話 a1"
THEIRS = "蓮さんだけの話 b2"


def fill(app, world, learner, tutor, text: str, book, day: int) -> None:
    """Give a learner a whole record, every part carrying `text`."""
    session_id = book(tokyo(2026, 12, day, 16, 0), learner=learner, tutor=tutor)[0]
    with app.app_context():
        coordinator, person = user(world.coordinator), user(learner)
        service.save_profile(
            coordinator, person, name=person.name, furigana="たなか", birth_year=2009,
            contact_detail=f"LINE {text}",
        )  # fmt: skip
        service.record_consent(
            coordinator, person, given_by=f"母 {text}", given_on=date(2026, 4, 1),
            method=ConsentMethod.PAPER,
        )  # fmt: skip
        service.save_consultation(
            coordinator, person, None, held_on=date(2026, 4, 1), own_words=text, notes=text
        )
        service.save_goal(coordinator, person, None, text=f"goal {text}", target_on=None)
        service.set_status(coordinator, person, LearnerStatus.PAUSED, date(2026, 6, 1))
        service.save_plan_item(
            coordinator, person, subject=subject("数学"), materials=text, plan_text=text
        )
        exam_round = db.session.query(ExamRound).one_or_none() or service.save_round(
            coordinator, None, year=2026, number=1, exam_on=date(2026, 8, 1)
        )
        service.save_attempt(
            coordinator, person, None, exam_round=exam_round,
            results={subject("国語").id: SubjectResult.PASSED},
        )  # fmt: skip
        service.add_outcome(
            coordinator, person, kind=OutcomeKind.JOB_SEEKING, occurred_on=date(2026, 5, 1),
            note=f"outcome {text}",
        )  # fmt: skip
        for visibility in Visibility:
            notes.create_note(
                user(tutor),
                person,
                notes.NoteInput(
                    subject="数学", body=f"{visibility.value} {text}", visibility=visibility,
                    homework=f"hw {text}", session_id=session_id,
                ),
            )  # fmt: skip
        notes.save_case_review(
            coordinator, person, None, held_on=date(2026, 9, 1), participants="佐藤",
            situation=f"review {text}", decisions="続ける",
        )  # fmt: skip
        db.session.add(
            PresenceEvent(
                session_id=session_id,
                user_id=learner.id,
                source=PresenceSource.PAGE,
                kind=PresenceKind.JOINED,
            )
        )
        db.session.commit()


def test_export_holds_everything_of_the_learner_and_nothing_of_others(
    app, client, login_as, world, book
):
    fill(app, world, world.learner, world.tutor, MINE, book, 1)
    fill(app, world, world.other_learner, world.other_tutor, THEIRS, book, 2)
    login_as(world.admin)
    response = client.get(f"/admin/learners/{world.learner.id}/export.json")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=learner-{world.learner.id}.json"
    )
    assert response.headers["Cache-Control"] == "no-store"
    data = json.loads(response.get_data(as_text=True))
    text = json.dumps(data, ensure_ascii=False)
    assert THEIRS not in text
    assert world.other_learner.name not in text
    assert data["account"]["email"] == world.learner.email
    assert data["profile"]["contact_detail"] == f"LINE {MINE}"
    assert data["consents"][0]["given_by"] == f"母 {MINE}"
    assert data["consultations"][0]["own_words"] == MINE
    assert data["goals"][0]["text"] == f"goal {MINE}"
    assert data["plan"][0]["materials"] == MINE
    assert data["exam_attempts"][0]["subjects"] == [
        {"subject_id": data["exam_attempts"][0]["subjects"][0]["subject_id"], "subject": "国語",
         "result": "passed"}
    ]  # fmt: skip
    assert data["outcomes"][0]["note"] == f"outcome {MINE}"
    assert sorted(n["visibility"] for n in data["notes"]) == ["learner", "staff"]
    assert data["case_reviews"][0]["situation"] == f"review {MINE}"
    assert len(data["sessions"]) == 1
    assert data["sessions"][0]["tutor"]["name"] == world.tutor.name
    assert len(data["presence"]) == 1
    assert data["status_history"] == [{"status": "paused", "since": "2026-06-01"}]
    page = client.get(f"/admin/learners/{world.learner.id}/export").get_data(as_text=True)
    assert MINE in page
    assert f"review {MINE}" in page
    assert THEIRS not in page


def test_export_is_for_admins_only(client, login_as, world):
    for account in (world.coordinator, world.tutor, world.learner):
        login_as(account)
        for path in ("export.json", "export", "erase"):
            assert client.get(f"/admin/learners/{world.learner.id}/{path}").status_code == 403
    login_as(world.admin)
    assert client.get(f"/admin/learners/{world.tutor.id}/export.json").status_code == 404


def counts(app, learner_id: int) -> dict[str, int]:
    with app.app_context():
        return {
            model.__name__: db.session.query(model).filter_by(learner_id=learner_id).count()
            for model in (
                TutoringSession,
                ExamAttempt,
                Outcome,
                StatusChange,
                StudyNote,
                CaseReview,
                Goal,
                GuardianConsent,
                Consultation,
            )
        }


def test_erasure_removes_personal_data_and_keeps_anonymous_counts(
    app, client, login_as, world, book, make_token
):
    fill(app, world, world.learner, world.tutor, MINE, book, 1)
    fill(app, world, world.other_learner, world.other_tutor, THEIRS, book, 2)
    make_token(world.learner)
    others_before = counts(app, world.other_learner.id)
    before = counts(app, world.learner.id)
    login_as(world.admin)
    page = f"/admin/learners/{world.learner.id}/erase"
    wrong = form_post(client, page, {"confirmation": "someone else"})
    assert 'id="confirmation-error"' in wrong.get_data(as_text=True)
    assert counts(app, world.learner.id) == before
    done = form_post(client, page, {"confirmation": world.learner.name})
    assert done.status_code == 302

    after = counts(app, world.learner.id)
    for kept in ("TutoringSession", "ExamAttempt", "Outcome", "StatusChange", "Consultation"):
        assert after[kept] == before[kept], kept
    for gone in ("StudyNote", "CaseReview", "Goal", "GuardianConsent"):
        assert before[gone] > 0
        assert after[gone] == 0, gone
    assert counts(app, world.other_learner.id) == others_before
    with app.app_context():
        learner = db.session.get(User, world.learner.id)
        assert learner.name.startswith("anon-")
        assert learner.email is None
        assert learner.login_name is None
        assert learner.password_hash is None
        assert not learner.active
        profile = db.session.get(LearnerProfile, world.learner.id)
        assert profile.furigana is None
        assert profile.birth_year is None
        assert profile.contact_detail is None
        assert profile.age_band is not None  # kept as a band for reports
        assert profile.erased_at is not None
        assert profile.status is LearnerStatus.PAUSED
        assert db.session.query(Outcome).filter_by(learner_id=learner.id).one().note == ""
        consultation = db.session.query(Consultation).filter_by(learner_id=learner.id).one()
        assert (consultation.own_words, consultation.notes) == ("", "")
        assert db.session.query(ApiToken).filter_by(user_id=learner.id).count() == 0
        assert service.exam_progress(learner).done == 1
    export = client.get(f"/admin/learners/{world.learner.id}/export.json").get_data(as_text=True)
    assert MINE not in export
    assert world.learner.name not in export
    # The learner's devices are signed out and the sign-in name is gone.
    with app.app_context():
        assert find_by_sign_in_name(world.learner.email) is None
    login_as(world.learner)  # the cookie of before the erasure
    assert client.get("/my/record").status_code == 302
    # Tutors no longer see the record; coordinators see what is left, anonymous.
    login_as(world.tutor)
    assert client.get(f"/learners/{world.learner.id}").status_code == 404
    assert world.learner.name not in client.get("/learners").get_data(as_text=True)
    login_as(world.coordinator)
    assert "personal data was erased" in client.get(f"/learners/{world.learner.id}").get_data(
        as_text=True
    )


def test_erasure_is_logged_and_happens_once(app, client, login_as, world):
    login_as(world.admin)
    page = f"/admin/learners/{world.learner.id}/erase"
    form_post(client, page, {"confirmation": world.learner.name})
    again = client.get(page)
    assert again.status_code == 302
    from tutoring.records.models import AuditEntry

    with app.app_context():
        erased = db.session.query(AuditEntry).filter_by(action="erase").one()
        assert erased.actor_id == world.admin.id
        assert erased.learner_id == world.learner.id


def test_erased_records_cannot_be_written(app, world):
    with app.app_context():
        from tutoring.records import privacy

        privacy.erase_learner(
            user(world.admin), user(world.learner), confirmation=world.learner.name
        )
        db.session.commit()
        import pytest

        from tutoring.records.access import AccessDenied

        with pytest.raises(AccessDenied):
            service.save_goal(
                user(world.coordinator),
                user(world.learner),
                None,
                text="x",
                target_on=date.today() + timedelta(days=3),
            )

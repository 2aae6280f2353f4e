"""A learner's whole data for an admin: export (JSON and a print view) and erasure.

Erasure removes what identifies the learner or tells their story, and keeps what the
program's yearly report counts, linked to the same (now pseudonymous) account: sessions,
attendance, status history, exam attempts and credits, outcomes without their note.
"""

from __future__ import annotations

import secrets
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from tutoring.attendance.models import PresenceEvent
from tutoring.auth.models import ApiToken, Invitation
from tutoring.database import utcnow
from tutoring.extensions import db
from tutoring.notes import service as notes
from tutoring.notes.models import CaseReview, NoteRevision, StudyNote
from tutoring.partners import service as partners
from tutoring.people.models import AgeBand, Role, User
from tutoring.records import access, audit, serialize, service
from tutoring.records.models import (
    Consultation,
    Goal,
    GuardianConsent,
    Outcome,
    PlanItem,
)
from tutoring.scheduling.models import CalendarFeed, TutoringSession
from tutoring.validation import ValidationError
from tutoring.whiteboard.models import BoardItem

EXPORT_FORMAT = 1


def _sessions(learner: User) -> list[TutoringSession]:
    return list(
        db.session.scalars(
            select(TutoringSession)
            .where(TutoringSession.learner_id == learner.id)
            .order_by(TutoringSession.starts_at)
        )
    )


def export_learner(actor: User, learner: User) -> dict:
    """Return everything Manabi holds about the learner, and nothing about anyone else.

    Other people appear only by id and name where they acted on the record (tutor, author).
    """
    access.require(access.can_audit(actor))
    if learner.role is not Role.LEARNER:
        raise access.NotVisible
    profile = service.profile_of(learner)
    all_notes = list(
        db.session.scalars(
            select(StudyNote)
            .where(StudyNote.learner_id == learner.id)
            .order_by(StudyNote.created_at, StudyNote.id)
        )
    )
    data = {
        "format": EXPORT_FORMAT,
        "exported_at": serialize.moment(utcnow()),
        "account": {
            "id": learner.id,
            "name": learner.name,
            "email": learner.email,
            "login_name": learner.login_name,
            "room_display_name": learner.room_display_name,
            "locale": learner.locale,
            "active": learner.active,
            "created_at": serialize.moment(learner.created_at),
        },
        "profile": serialize.profile_json(learner, profile, service.is_minor(profile)),
        "erased_at": serialize.moment(profile.erased_at) if profile else None,
        "status_history": [serialize.status_json(c) for c in service.status_history(learner)],
        "tutors": [serialize.person_json(t) for t in service.assigned_tutors(learner)],
        "consents": [serialize.consent_json(c) for c in service.consents(learner)],
        "consultations": [serialize.consultation_json(c) for c in service.consultations(learner)],
        "goals": [serialize.goal_json(g) for g in service.goals(learner)],
        "plan": [serialize.plan_json(item) for item in service.plan(learner)],
        "exam_attempts": [serialize.attempt_json(a) for a in service.attempts(learner)],
        "credits": [serialize.credit_json(c) for c in service.credits(learner)],
        "exam_progress": serialize.progress_json(service.exam_progress(learner)),
        "outcomes": [serialize.outcome_json(o) for o in service.outcomes(learner)],
        "notes": [
            {
                **serialize.note_json(note),
                "revisions": [serialize.revision_json(r) for r in notes.revisions(note)],
            }
            for note in all_notes
        ],
        "case_reviews": [serialize.case_review_json(r) for r in notes.case_reviews(actor, learner)],
        "sessions": [
            {
                "id": s.id,
                "tutor": serialize.person_json(s.tutor),
                "kind": s.kind.value,
                "mode": s.mode.value,
                "venue": s.venue.name if s.venue else None,
                "starts_at": serialize.moment(s.starts_at),
                "ends_at": serialize.moment(s.ends_at),
                "status": s.status.value,
                "cancel_reason": s.cancel_reason,
            }
            for s in _sessions(learner)
        ],
        "presence": [
            {
                "session_id": e.session_id,
                "source": e.source.value,
                "kind": e.kind.value,
                "occurred_at": serialize.moment(e.occurred_at),
            }
            for e in db.session.scalars(
                select(PresenceEvent)
                .where(PresenceEvent.user_id == learner.id)
                .order_by(PresenceEvent.occurred_at, PresenceEvent.id)
            )
        ],
        "partners": partners.learner_data(learner),
    }
    audit.record(actor, "export", "record", learner_id=learner.id)
    return data


def _age_band(birth_year: int, on: date) -> AgeBand:
    age = on.year - birth_year  # the age reached this year: a band for reports, not a rule
    if age < 18:
        return AgeBand.UNDER_18
    if age < 20:
        return AgeBand.FROM_18_TO_19
    if age < 30:
        return AgeBand.TWENTIES
    return AgeBand.THIRTIES_AND_OVER


def erase_learner(actor: User, learner: User, *, confirmation: str) -> str:
    """Erase the learner's personal data; return the pseudonym the account keeps.

    The admin confirms by typing the learner's current name.
    """
    access.require(access.can_audit(actor))
    if learner.role is not Role.LEARNER:
        raise access.NotVisible
    if access.is_erased(learner):
        raise ValidationError("confirmation", _l("This learner was erased already."), "conflict")
    if (confirmation or "").strip() != learner.name.strip():
        raise ValidationError("confirmation", _l("Type the learner's name exactly to confirm."))
    pseudonym = f"anon-{secrets.token_hex(4)}"
    learner.name = pseudonym
    learner.email = None
    learner.login_name = None
    learner.password_hash = None
    learner.room_display_name = None
    learner.locale = None
    learner.active = False
    learner.session_version += 1  # signs every device out
    profile = service.profile_for_update(learner)
    if profile.age_band is None and profile.birth_year is not None:
        profile.age_band = _age_band(profile.birth_year, service.today())
    profile.birth_year = None
    profile.furigana = None
    profile.contact_detail = None
    profile.preferred_contact = None
    profile.erased_at = utcnow()

    note_ids = select(StudyNote.id).where(StudyNote.learner_id == learner.id)
    db.session.execute(delete(NoteRevision).where(NoteRevision.note_id.in_(note_ids)))
    for model in (StudyNote, CaseReview, Goal, PlanItem, GuardianConsent):
        db.session.execute(delete(model).where(model.learner_id == learner.id))
    # A consultation keeps its day (the report's 延べ件数 of past years); its words go.
    for consultation in db.session.scalars(
        select(Consultation).where(Consultation.learner_id == learner.id)
    ):
        consultation.own_words = ""
        consultation.notes = ""
    for model in (Invitation, ApiToken, CalendarFeed):
        db.session.execute(delete(model).where(model.user_id == learner.id))
    # Drawings and writing on the learner's boards may show their name or handwriting.
    session_ids = select(TutoringSession.id).where(TutoringSession.learner_id == learner.id)
    db.session.execute(delete(BoardItem).where(BoardItem.session_id.in_(session_ids)))
    for outcome in db.session.scalars(select(Outcome).where(Outcome.learner_id == learner.id)):
        outcome.note = ""
    partners.erase_learner_data(learner, pseudonym)
    db.session.flush()
    db.session.expire_all()
    audit.record(actor, "erase", "record", learner_id=learner.id)
    db.session.flush()
    return pseudonym

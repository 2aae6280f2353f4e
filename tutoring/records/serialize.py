"""JSON shapes of learner records and notes, shared by the API and the admin export.

Dates are `YYYY-MM-DD` (plain calendar dates); times are ISO 8601 in the program's zone.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from tutoring.i18n import to_local
from tutoring.notes import markdown
from tutoring.notes.models import CaseReview, NoteRevision, StudyNote
from tutoring.people.models import LearnerProfile, User
from tutoring.records.models import (
    Consultation,
    ExamAttempt,
    ExamRound,
    Goal,
    GuardianConsent,
    Outcome,
    PlanItem,
    StatusChange,
    SubjectCredit,
)
from tutoring.records.service import ExamProgress


def day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def moment(value: datetime | None) -> str | None:
    return to_local(value).isoformat() if value else None


def _value(member) -> str | None:
    return member.value if member is not None else None


def profile_json(learner: User, profile: LearnerProfile | None, minor: bool | None) -> dict:
    return {
        "name": learner.name,
        "furigana": profile.furigana if profile else None,
        "birth_year": profile.birth_year if profile else None,
        "age_band": _value(profile.age_band) if profile else None,
        "minor": minor,
        "school_situation": _value(profile.school_situation) if profile else None,
        "enrolled_on": day(profile.enrolled_on) if profile else None,
        "status": profile.status.value if profile else "active",
        "status_since": day(profile.status_since) if profile else None,
        "preferred_contact": _value(profile.preferred_contact) if profile else None,
        "contact_detail": profile.contact_detail if profile else None,
        "coordinator_id": profile.coordinator_id if profile else None,
    }


def person_json(user: User) -> dict:
    return {"id": user.id, "name": user.name}


def consent_json(consent: GuardianConsent) -> dict:
    return {
        "id": consent.id,
        "given_by": consent.given_by,
        "given_on": day(consent.given_on),
        "method": consent.method.value,
        "recorded_by_id": consent.recorded_by_id,
        "recorded_at": moment(consent.recorded_at),
        "withdrawn_on": day(consent.withdrawn_on),
        "valid": consent.valid,
    }


def status_json(change: StatusChange) -> dict:
    return {"status": change.status.value, "since": day(change.since)}


def goal_json(goal: Goal) -> dict:
    return {
        "id": goal.id,
        "text": goal.text,
        "target_on": day(goal.target_on),
        "status": goal.status.value,
        "created_at": moment(goal.created_at),
        "updated_at": moment(goal.updated_at),
    }


def round_json(exam_round: ExamRound | None) -> dict | None:
    if exam_round is None:
        return None
    return {
        "id": exam_round.id,
        "year": exam_round.year,
        "number": exam_round.number,
        "exam_on": day(exam_round.exam_on),
    }


def plan_json(item: PlanItem) -> dict:
    return {
        "id": item.id,
        "subject_id": item.subject_id,
        "subject": item.subject.name,
        "materials": item.materials,
        "plan": item.plan,
        "target_round": round_json(item.target_round),
        "updated_at": moment(item.updated_at),
    }


def consultation_json(consultation: Consultation) -> dict:
    return {
        "id": consultation.id,
        "session_id": consultation.session_id,
        "held_on": day(consultation.held_on),
        "own_words": consultation.own_words,
        "notes": consultation.notes,
    }


def attempt_json(attempt: ExamAttempt) -> dict:
    return {
        "id": attempt.id,
        "round": round_json(attempt.round),
        "subjects": [
            {"subject_id": s.subject_id, "subject": s.subject.name, "result": s.result.value}
            for s in attempt.subjects
        ],
        "certificate_obtained": attempt.certificate_obtained,
    }


def credit_json(credit: SubjectCredit) -> dict:
    return {
        "subject_id": credit.subject_id,
        "subject": credit.subject.name,
        "source": credit.source.value,
        "earned_on": day(credit.earned_on),
    }


def progress_json(progress: ExamProgress) -> dict:
    return {
        "done": progress.done,
        "remaining": progress.remaining,
        "complete": progress.complete,
        "certificate_obtained": progress.certificate_obtained,
        "subjects": [
            {
                "subject_id": row.subject.id,
                "subject": row.subject.name,
                "kind": row.subject.kind.value,
                "state": row.state,
                "round": round_json(row.exam_round),
                "credit_source": _value(row.source),
            }
            for row in progress.subjects
        ],
    }


def outcome_json(outcome: Outcome) -> dict:
    return {
        "id": outcome.id,
        "kind": outcome.kind.value,
        "occurred_on": day(outcome.occurred_on),
        "note": outcome.note,
    }


def note_json(note: StudyNote) -> dict[str, Any]:
    """Return the contract's shape of a note, with its sanitised HTML and extra fields."""
    return {
        "id": note.id,
        "learner_id": note.learner_id,
        "session_id": note.session_id,
        "author_id": note.author_id,
        "author_name": note.author.name if note.author else None,
        "subject": note.subject,
        "material": note.material,
        "pages": note.pages,
        "body": note.body,
        "body_html": str(markdown.render(note.body)),
        "homework": note.homework,
        "next_steps": note.next_steps,
        "visibility": note.visibility.value,
        "whiteboard_snapshot_id": note.whiteboard_snapshot_id,
        "created_at": moment(note.created_at),
        "updated_at": moment(note.updated_at),
    }


def revision_json(revision: NoteRevision) -> dict:
    return {
        "editor_id": revision.editor_id,
        "edited_at": moment(revision.created_at),
        "before": revision.before,
    }


def case_review_json(review: CaseReview) -> dict:
    return {
        "id": review.id,
        "held_on": day(review.held_on),
        "participants": review.participants,
        "situation": review.situation,
        "decisions": review.decisions,
        "next_review_on": day(review.next_review_on),
        "created_by_id": review.created_by_id,
    }

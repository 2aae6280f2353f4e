"""Rules of study notes and case reviews: who writes what, history of edits, reviews due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from tutoring.extensions import db
from tutoring.notes.models import CaseReview, NoteRevision, StudyNote, Visibility
from tutoring.people.models import LearnerProfile, LearnerStatus, User
from tutoring.records import access, audit
from tutoring.records.models import ExamRound
from tutoring.records.service import today
from tutoring.scheduling.models import TutoringSession
from tutoring.validation import ValidationError

NOTE_FIELDS = (
    "subject",
    "material",
    "pages",
    "body",
    "homework",
    "next_steps",
    "visibility",
    "session_id",
    "whiteboard_snapshot_id",
)
LIMITS = {
    "subject": 50,
    "material": 200,
    "pages": 50,
    "body": 20000,
    "homework": 5000,
    "next_steps": 5000,
}


@dataclass
class NoteInput:
    """A note's editable fields, as given by a form or the API."""

    subject: str
    body: str
    visibility: Visibility
    homework: str = ""
    material: str = ""
    pages: str = ""
    next_steps: str = ""
    session_id: int | None = None
    whiteboard_snapshot_id: int | None = None


def _clean(data: NoteInput, learner: User) -> dict:
    values = {}
    for name, limit in LIMITS.items():
        value = (getattr(data, name) or "").strip()
        if len(value) > limit:
            raise ValidationError(name, _l("At most %(n)d characters.", n=limit))
        values[name] = value
    if not values["subject"]:
        raise ValidationError("subject", _l("This field is required."))
    if not values["body"]:
        raise ValidationError("body", _l("This field is required."))
    if not isinstance(data.visibility, Visibility):
        raise ValidationError("visibility", _l("Choose who may read the note."))
    if data.session_id is not None:
        session = db.session.get(TutoringSession, data.session_id)
        if session is None or session.learner_id != learner.id:
            raise ValidationError("session_id", _l("Choose a session of this learner."))
    values["visibility"] = data.visibility
    values["session_id"] = data.session_id
    values["whiteboard_snapshot_id"] = data.whiteboard_snapshot_id
    return values


def create_note(actor: User, learner: User, data: NoteInput) -> StudyNote:
    """Write a study note about the learner (their tutor, or a coordinator)."""
    access.require(access.can_write_notes(actor, learner))
    values = _clean(data, learner)
    note = StudyNote(learner_id=learner.id, author_id=actor.id, **values)
    db.session.add(note)
    db.session.flush()
    audit.record(actor, "create", "note", learner_id=learner.id, target_id=note.id)
    return note


def update_note(actor: User, learner: User, note: StudyNote, data: NoteInput) -> StudyNote:
    """Change a note, keeping what it was before as a revision."""
    if note.learner_id != learner.id:
        raise access.NotVisible
    access.require(access.can_edit_note(actor, learner, note.author_id))
    values = _clean(data, learner)
    before = {name: _plain(getattr(note, name)) for name in NOTE_FIELDS}
    after = {name: _plain(values[name]) for name in NOTE_FIELDS}
    changed = audit.changed_fields(before, after)
    if not changed:
        return note
    db.session.add(NoteRevision(note_id=note.id, editor_id=actor.id, before=before))
    for name in NOTE_FIELDS:
        setattr(note, name, values[name])
    db.session.flush()
    audit.record(actor, "update", "note", learner_id=learner.id, target_id=note.id, fields=changed)
    return note


def _plain(value):
    return value.value if isinstance(value, Visibility) else value


def visible_notes(
    actor: User, learner: User, *, q: str | None = None, limit: int | None = None
) -> list[StudyNote]:
    """Return the notes the actor may read about the learner, newest first.

    The learner gets only notes shared with them; staff of the learner get every note.
    `q` searches subject, material, body and homework.
    """
    query = (
        select(StudyNote)
        .options(joinedload(StudyNote.author))
        .where(StudyNote.learner_id == learner.id)
    )
    if access.is_self(actor, learner):
        query = query.where(StudyNote.visibility == Visibility.LEARNER)
    elif not access.can_see_record(actor, learner):
        return []
    query = query.order_by(StudyNote.created_at.desc(), StudyNote.id.desc())
    if not q:
        return list(db.session.scalars(query.limit(limit) if limit else query))
    # Bodies and homework are encrypted at rest, so one learner's notes are searched here.
    needle = q.strip()[:100].casefold()
    found = [
        note
        for note in db.session.scalars(query)
        if any(
            needle in (text or "").casefold()
            for text in (note.subject, note.material, note.body, note.homework)
        )
    ]
    return found[:limit] if limit else found


def visible_note(actor: User, learner: User, note_id: int) -> StudyNote:
    """Return one note the actor may read, else raise NotVisible (404)."""
    note = db.session.get(StudyNote, note_id)
    if note is None or note.learner_id != learner.id:
        raise access.NotVisible
    if access.is_self(actor, learner):
        if note.visibility is not Visibility.LEARNER:
            raise access.NotVisible
    elif not access.can_see_record(actor, learner):
        raise access.NotVisible
    return note


def revisions(note: StudyNote) -> list[NoteRevision]:
    """Return the note's earlier versions, newest first (staff only)."""
    return list(
        db.session.scalars(
            select(NoteRevision)
            .options(joinedload(NoteRevision.editor))
            .where(NoteRevision.note_id == note.id)
            .order_by(NoteRevision.id.desc())
        )
    )


def last_homework(actor: User, learner: User) -> StudyNote | None:
    """Return the newest note the actor may read that gave homework."""
    query = select(StudyNote).where(StudyNote.learner_id == learner.id, StudyNote.homework != "")
    if access.is_self(actor, learner):
        query = query.where(StudyNote.visibility == Visibility.LEARNER)
    return db.session.scalar(query.order_by(StudyNote.created_at.desc(), StudyNote.id.desc()))


def session_note(actor: User, session: TutoringSession) -> StudyNote | None:
    """Return the note the actor already wrote for this session, if any."""
    return db.session.scalar(
        select(StudyNote)
        .where(StudyNote.session_id == session.id, StudyNote.author_id == actor.id)
        .order_by(StudyNote.id.desc())
    )


# Case reviews


def case_reviews(actor: User, learner: User) -> list[CaseReview]:
    """Return the learner's case reviews, newest first; empty for anyone but their staff."""
    if not access.can_see_case_reviews(actor, learner):
        return []
    return list(
        db.session.scalars(
            select(CaseReview)
            .options(joinedload(CaseReview.created_by))
            .where(CaseReview.learner_id == learner.id)
            .order_by(CaseReview.held_on.desc(), CaseReview.id.desc())
        )
    )


def save_case_review(
    actor: User,
    learner: User,
    review: CaseReview | None,
    *,
    held_on: date | None,
    participants: str,
    situation: str,
    decisions: str,
    next_review_on: date | None = None,
) -> CaseReview:
    """Record a case review (ケース検討) of the learner: coordinators and admins."""
    access.require(access.can_write_case_reviews(actor, learner))
    if held_on is None:
        raise ValidationError("held_on", _l("This field is required."))
    if held_on > today() or held_on.year < 2000:
        raise ValidationError("held_on", _l("Enter the day the review was held."))
    if next_review_on is not None and next_review_on <= held_on:
        raise ValidationError("next_review_on", _l("Must be after the review."))
    values = {
        "participants": (participants or "").strip(),
        "situation": (situation or "").strip(),
        "decisions": (decisions or "").strip(),
    }
    for name, limit in (("participants", 500), ("situation", 10000), ("decisions", 10000)):
        if len(values[name]) > limit:
            raise ValidationError(name, _l("At most %(n)d characters.", n=limit))
    if not values["situation"] and not values["decisions"]:
        raise ValidationError("situation", _l("Write the situation or the decisions."))
    creating = review is None
    review = review or CaseReview(learner_id=learner.id, created_by_id=actor.id)
    if review.learner_id != learner.id:
        raise access.NotVisible
    before = {name: getattr(review, name) for name in (*values, "held_on", "next_review_on")}
    values.update(held_on=held_on, next_review_on=next_review_on)
    for name, value in values.items():
        setattr(review, name, value)
    db.session.add(review)
    db.session.flush()
    audit.record(
        actor,
        "create" if creating else "update",
        "case_review",
        learner_id=learner.id,
        target_id=review.id,
        fields=None if creating else audit.changed_fields(before, values),
    )
    return review


@dataclass
class ReviewDue:
    """A learner who needs a case review before or after an exam round."""

    learner: User
    exam_round: ExamRound
    when: str  # "before" or "after"
    last_review_on: date | None


def reviews_due(actor: User, on: date | None = None) -> list[ReviewDue]:
    """Return the learners due for a case review around an exam round.

    Before: a round starts within CASE_REVIEW_WEEKS_BEFORE_EXAM weeks and the learner has had
    no review since the last round. After: the last round has passed and the learner has had
    no review since it. Only learners in support (active or paused) are listed.
    """
    on = on or today()
    window = timedelta(weeks=current_app.config["CASE_REVIEW_WEEKS_BEFORE_EXAM"])
    rounds = list(db.session.scalars(select(ExamRound).order_by(ExamRound.exam_on)))
    coming = next((r for r in rounds if on <= r.exam_on <= on + window), None)
    past = [r for r in rounds if r.exam_on < on]
    last = past[-1] if past else None
    if coming is not None:
        target, when = coming, "before"
    elif last is not None:
        target, when = last, "after"
    else:
        return []
    since = last.exam_on if last is not None else None
    learners = list(
        db.session.scalars(
            access.visible_learners(actor)
            .outerjoin(LearnerProfile, LearnerProfile.user_id == User.id)
            .where(
                User.active.is_(True),
                LearnerProfile.erased_at.is_(None),
                or_(
                    LearnerProfile.user_id.is_(None),
                    LearnerProfile.status.in_([LearnerStatus.ACTIVE, LearnerStatus.PAUSED]),
                ),
            )
            .order_by(User.name)
        )
    )
    if not learners:
        return []
    latest = dict(
        db.session.execute(
            select(CaseReview.learner_id, func.max(CaseReview.held_on))
            .where(CaseReview.learner_id.in_([learner.id for learner in learners]))
            .group_by(CaseReview.learner_id)
        ).all()
    )
    due = []
    for learner in learners:
        last_review = latest.get(learner.id)
        if isinstance(last_review, str):  # SQLite returns an aggregate of dates as text
            last_review = date.fromisoformat(last_review)
        if last_review is None or (since is not None and last_review < since):
            due.append(ReviewDue(learner, target, when, last_review))
    return due


def recent_reviews(actor: User, limit: int = 20) -> list[CaseReview]:
    """Return the newest case reviews of learners the actor may see."""
    visible = access.visible_learners(actor).with_only_columns(User.id)
    return list(
        db.session.scalars(
            select(CaseReview)
            .where(CaseReview.learner_id.in_(visible))
            .order_by(CaseReview.held_on.desc(), CaseReview.id.desc())
            .limit(limit)
        )
    )

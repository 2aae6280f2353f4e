"""Rules of learner records: profile, consent, status, consultations, goals, plans, exams, outcomes.

Every function that changes a record takes the acting user, checks the permission through
records.access, writes an audit entry and flushes; the view or API endpoint commits once.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from tutoring.database import utcnow
from tutoring.extensions import db
from tutoring.i18n import program_zone
from tutoring.people.models import (
    AgeBand,
    ContactMethod,
    LearnerProfile,
    LearnerStatus,
    SchoolSituation,
    TutorAssignment,
    User,
)
from tutoring.records import access, audit
from tutoring.records.models import (
    ConsentMethod,
    Consultation,
    CreditSource,
    ExamAttempt,
    ExamAttemptSubject,
    ExamRound,
    ExamSubject,
    Goal,
    GoalStatus,
    GuardianConsent,
    Outcome,
    OutcomeKind,
    PlanItem,
    StatusChange,
    SubjectCredit,
    SubjectKind,
    SubjectResult,
)
from tutoring.scheduling.models import Status, TutoringSession
from tutoring.validation import ValidationError

# The 高卒認定 subjects since 令和6年度 (2024): six required subjects, and science as
# 科学と人間生活 with one 基礎 subject, or three 基礎 subjects. 8 or 9 subjects in all.
OFFICIAL_SUBJECTS: list[tuple[str, SubjectKind]] = [
    ("国語", SubjectKind.REQUIRED),
    ("地理", SubjectKind.REQUIRED),
    ("歴史", SubjectKind.REQUIRED),
    ("公共", SubjectKind.REQUIRED),
    ("数学", SubjectKind.REQUIRED),
    ("科学と人間生活", SubjectKind.SCIENCE_CORE),
    ("物理基礎", SubjectKind.SCIENCE_BASIC),
    ("化学基礎", SubjectKind.SCIENCE_BASIC),
    ("生物基礎", SubjectKind.SCIENCE_BASIC),
    ("地学基礎", SubjectKind.SCIENCE_BASIC),
    ("英語", SubjectKind.REQUIRED),
]
# Usual months of the rounds: 第1回 early August, 第2回 early November.
ROUND_MONTHS = {1: 8, 2: 11}
KANA = re.compile(r"^[\u3041-\u309f\u30a0-\u30ff\u31f0-\u31ff\u3000 ・ー]+$")
OUTCOME_STATUS = {
    OutcomeKind.SUPPORT_ENDED: LearnerStatus.ENDED,
    OutcomeKind.REFERRAL: LearnerStatus.REFERRED,
}


def today() -> date:
    """Return today's date in the program's zone."""
    return datetime.now(program_zone()).date()


def _text(value: str | None, field_name: str, max_length: int, *, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError(field_name, _l("This field is required."))
    if len(value) > max_length:
        raise ValidationError(field_name, _l("At most %(n)d characters.", n=max_length))
    return value


def _date_in_range(
    value: date | None, field_name: str, *, required: bool = False, future_days: int = 366
) -> date | None:
    if value is None:
        if required:
            raise ValidationError(field_name, _l("This field is required."))
        return None
    if value.year < 2000 or value > today() + timedelta(days=future_days):
        raise ValidationError(field_name, _l("Enter a date between 2000 and a year from now."))
    return value


# Profile and status


def profile_of(learner: User) -> LearnerProfile | None:
    return db.session.get(LearnerProfile, learner.id)


def profile_for_update(learner: User) -> LearnerProfile:
    """Return the learner's profile, adding an empty one (status active) when there is none."""
    profile = profile_of(learner)
    if profile is None:
        profile = LearnerProfile(user_id=learner.id, status=LearnerStatus.ACTIVE)
        db.session.add(profile)
    return profile


def _profile_snapshot(learner: User, profile: LearnerProfile) -> dict[str, Any]:
    return {
        "name": learner.name,
        "furigana": profile.furigana,
        "birth_year": profile.birth_year,
        "age_band": profile.age_band,
        "school_situation": profile.school_situation,
        "enrolled_on": profile.enrolled_on,
        "preferred_contact": profile.preferred_contact,
        "contact_detail": profile.contact_detail,
        "coordinator_id": profile.coordinator_id,
    }


def save_profile(
    actor: User,
    learner: User,
    *,
    name: str,
    furigana: str | None = None,
    birth_year: int | None = None,
    age_band: AgeBand | None = None,
    school_situation: SchoolSituation | None = None,
    enrolled_on: date | None = None,
    preferred_contact: ContactMethod | None = None,
    contact_detail: str | None = None,
    coordinator: User | None = None,
) -> LearnerProfile:
    """Change what the program records about a learner; only what support needs."""
    access.require(access.can_manage(actor, learner) and not access.is_erased(learner))
    name = _text(name, "name", 100, required=True)
    furigana = _text(furigana, "furigana", 100) or None
    if furigana and not KANA.match(furigana):
        raise ValidationError("furigana", _l("Write the reading in hiragana or katakana."))
    this_year = today().year
    if birth_year is not None and not this_year - 80 <= birth_year <= this_year - 10:
        raise ValidationError(
            "birth_year",
            _l("Must be between %(min)d and %(max)d.", min=this_year - 80, max=this_year - 10),
        )
    enrolled_on = _date_in_range(enrolled_on, "enrolled_on")
    contact_detail = _text(contact_detail, "contact_detail", 100) or None
    if coordinator is not None and (
        coordinator.role not in access.MANAGERS or not coordinator.active
    ):
        raise ValidationError("coordinator_id", _l("Choose an active coordinator."))
    profile = profile_for_update(learner)
    before = _profile_snapshot(learner, profile)
    learner.name = name
    profile.furigana = furigana
    profile.birth_year = birth_year
    profile.age_band = age_band
    profile.school_situation = school_situation
    profile.enrolled_on = enrolled_on
    profile.preferred_contact = preferred_contact
    profile.contact_detail = contact_detail
    profile.coordinator_id = coordinator.id if coordinator else None
    changed = audit.changed_fields(before, _profile_snapshot(learner, profile))
    if changed:
        audit.record(actor, "update", "profile", learner_id=learner.id, fields=changed)
    db.session.flush()
    return profile


def set_status(actor: User, learner: User, status: LearnerStatus, since: date | None) -> None:
    """Change the learner's support status from a date on; the history is kept."""
    access.require(access.can_manage(actor, learner) and not access.is_erased(learner))
    since = _date_in_range(since, "since", required=True)
    profile = profile_for_update(learner)
    profile.status = status
    profile.status_since = since
    change = StatusChange(learner_id=learner.id, status=status, since=since, changed_by_id=actor.id)
    db.session.add(change)
    db.session.flush()
    audit.record(
        actor, "create", "status", learner_id=learner.id, target_id=change.id, fields=["status"]
    )


def status_history(learner: User) -> list[StatusChange]:
    return list(
        db.session.scalars(
            select(StatusChange)
            .where(StatusChange.learner_id == learner.id)
            .order_by(StatusChange.since.desc(), StatusChange.id.desc())
        )
    )


# Minors and guardian consent


def is_minor(profile: LearnerProfile | None, on: date | None = None) -> bool | None:
    """Tell whether the learner is a minor; None when neither birth year nor age band is known.

    The birth year decides when it can: in the year a learner turns 18 they may still be 17,
    so the age band settles that year, and without one they count as a minor.
    """
    if profile is None:
        return None
    majority = current_app.config["AGE_OF_MAJORITY"]
    year = (on or today()).year
    if profile.birth_year is not None:
        oldest = year - profile.birth_year  # the age reached by the end of this year
        if oldest != majority:
            return oldest < majority
        if profile.age_band is not None:
            return profile.age_band is AgeBand.UNDER_18
        return True
    if profile.age_band is not None:
        return profile.age_band is AgeBand.UNDER_18
    return None


def consents(learner: User) -> list[GuardianConsent]:
    """Return the learner's guardian consents, newest first."""
    return list(
        db.session.scalars(
            select(GuardianConsent)
            .where(GuardianConsent.learner_id == learner.id)
            .order_by(GuardianConsent.given_on.desc(), GuardianConsent.id.desc())
        )
    )


def current_consent(learner: User) -> GuardianConsent | None:
    """Return the newest consent not withdrawn, if any."""
    return next((c for c in consents(learner) if c.valid), None)


def consent_missing(learner: User, on: date | None = None) -> bool:
    """Tell whether the learner is a minor without a valid guardian consent."""
    return bool(is_minor(profile_of(learner), on)) and current_consent(learner) is None


def require_consent(learner: User) -> None:
    """Refuse to book a minor without guardian consent (REQUIRE_GUARDIAN_CONSENT)."""
    if not current_app.config["REQUIRE_GUARDIAN_CONSENT"]:
        return
    if consent_missing(learner):
        raise ValidationError(
            "learner_id",
            _l(
                "%(name)s is a minor and no guardian consent is recorded. Record the guardian's consent on the learner's record first.",
                name=learner.name,
            ),
        )


def record_consent(
    actor: User, learner: User, *, given_by: str, given_on: date | None, method: ConsentMethod
) -> GuardianConsent:
    """Record a guardian's consent: who gave it, when and how; the recorder is kept."""
    access.require(access.can_manage(actor, learner) and not access.is_erased(learner))
    given_by = _text(given_by, "given_by", 100, required=True)
    given_on = _date_in_range(given_on, "given_on", required=True, future_days=0)
    consent = GuardianConsent(
        learner_id=learner.id,
        given_by=given_by,
        given_on=given_on,
        method=method,
        recorded_by_id=actor.id,
    )
    db.session.add(consent)
    db.session.flush()
    audit.record(actor, "create", "consent", learner_id=learner.id, target_id=consent.id)
    return consent


def withdraw_consent(
    actor: User, learner: User, consent: GuardianConsent, withdrawn_on: date | None
) -> None:
    """Mark a consent withdrawn from a date; it stays in the record."""
    access.require(access.can_manage(actor, learner))
    if consent.learner_id != learner.id:
        raise access.NotVisible
    consent.withdrawn_on = _date_in_range(withdrawn_on, "withdrawn_on", required=True)
    consent.withdrawn_by_id = actor.id
    db.session.flush()
    audit.record(
        actor,
        "update",
        "consent",
        learner_id=learner.id,
        target_id=consent.id,
        fields=["withdrawn_on"],
    )


# Subjects and exam rounds


def seed_subjects() -> None:
    """Add the official subject list when the program has no subjects yet."""
    if db.session.scalar(select(ExamSubject.id).limit(1)) is not None:
        return
    for position, (name, kind) in enumerate(OFFICIAL_SUBJECTS, start=1):
        db.session.add(ExamSubject(name=name, kind=kind, position=position))
    db.session.flush()


def list_subjects(*, active_only: bool = False) -> list[ExamSubject]:
    query = select(ExamSubject).order_by(ExamSubject.position, ExamSubject.id)
    if active_only:
        query = query.where(ExamSubject.active.is_(True))
    return list(db.session.scalars(query))


def save_subject(
    actor: User,
    subject: ExamSubject | None,
    *,
    name: str,
    kind: SubjectKind,
    position: int,
    active: bool,
) -> ExamSubject:
    """Add or change a subject of the program's list (coordinators and admins)."""
    access.require(access.is_manager(actor))
    name = _text(name, "name", 50, required=True)
    clash = db.session.scalar(select(ExamSubject.id).where(ExamSubject.name == name))
    if clash is not None and (subject is None or clash != subject.id):
        raise ValidationError("name", _l("Another subject has this name."), code="conflict")
    if not 0 <= position <= 999:
        raise ValidationError(
            "position", _l("Must be between %(min)d and %(max)d.", min=0, max=999)
        )
    subject = subject or ExamSubject()
    subject.name, subject.kind, subject.position, subject.active = name, kind, position, active
    db.session.add(subject)
    db.session.flush()
    return subject


def default_exam_on(year: int, number: int) -> date:
    """Return a first guess of a round's date (the official schedule then corrects it)."""
    return date(year, ROUND_MONTHS[number], 1)


def list_rounds() -> list[ExamRound]:
    return list(
        db.session.scalars(select(ExamRound).order_by(ExamRound.exam_on.desc(), ExamRound.id))
    )


def save_round(
    actor: User, exam_round: ExamRound | None, *, year: int, number: int, exam_on: date | None
) -> ExamRound:
    """Add or correct an exam round: its year, 第1回 or 第2回, and its first day."""
    access.require(access.is_manager(actor))
    if not 2000 <= year <= today().year + 5:
        raise ValidationError(
            "year", _l("Must be between %(min)d and %(max)d.", min=2000, max=today().year + 5)
        )
    if number not in ROUND_MONTHS:
        raise ValidationError("number", _l("Must be one of: %(allowed)s.", allowed="1, 2"))
    if exam_on is None:
        raise ValidationError("exam_on", _l("This field is required."))
    if exam_on.year != year:
        raise ValidationError("exam_on", _l("The date must be in the round's year."))
    clash = db.session.scalar(
        select(ExamRound.id).where(ExamRound.year == year, ExamRound.number == number)
    )
    if clash is not None and (exam_round is None or clash != exam_round.id):
        raise ValidationError("number", _l("This round exists already."), code="conflict")
    exam_round = exam_round or ExamRound()
    exam_round.year, exam_round.number, exam_round.exam_on = year, number, exam_on
    db.session.add(exam_round)
    db.session.flush()
    return exam_round


# Consultations, goals and the learning plan


def consultations(learner: User) -> list[Consultation]:
    return list(
        db.session.scalars(
            select(Consultation)
            .where(Consultation.learner_id == learner.id)
            .order_by(Consultation.held_on.desc(), Consultation.id.desc())
        )
    )


def save_consultation(
    actor: User,
    learner: User,
    consultation: Consultation | None,
    *,
    held_on: date | None,
    own_words: str,
    notes: str,
    session_id: int | None = None,
) -> Consultation:
    """Record a learning consultation (学習相談): the learner's words and staff notes."""
    access.require(access.can_manage(actor, learner) and not access.is_erased(learner))
    held_on = _date_in_range(held_on, "held_on", required=True, future_days=0)
    own_words = _text(own_words, "own_words", 5000)
    notes = _text(notes, "notes", 10000)
    if not own_words and not notes:
        raise ValidationError("own_words", _l("Write the learner's words or your notes."))
    if session_id is not None:
        session = db.session.get(TutoringSession, session_id)
        if session is None or session.learner_id != learner.id:
            raise ValidationError("session_id", _l("Choose a session of this learner."))
    creating = consultation is None
    consultation = consultation or Consultation(learner_id=learner.id, created_by_id=actor.id)
    before = {"held_on": consultation.held_on, "own_words": consultation.own_words}
    before.update(notes=consultation.notes, session_id=consultation.session_id)
    consultation.held_on, consultation.own_words = held_on, own_words
    consultation.notes, consultation.session_id = notes, session_id
    db.session.add(consultation)
    db.session.flush()
    after = {"held_on": held_on, "own_words": own_words, "notes": notes, "session_id": session_id}
    audit.record(
        actor,
        "create" if creating else "update",
        "consultation",
        learner_id=learner.id,
        target_id=consultation.id,
        fields=None if creating else audit.changed_fields(before, after),
    )
    return consultation


def goals(learner: User, *, open_only: bool = False) -> list[Goal]:
    """Return the learner's goals: open ones first, by target date."""
    query = select(Goal).where(Goal.learner_id == learner.id)
    if open_only:
        query = query.where(Goal.status == GoalStatus.OPEN)
    found = list(db.session.scalars(query.order_by(Goal.id)))
    return sorted(
        found, key=lambda g: (g.status is not GoalStatus.OPEN, g.target_on or date.max, g.id)
    )


def save_goal(
    actor: User,
    learner: User,
    goal: Goal | None,
    *,
    text: str,
    target_on: date | None,
    status: GoalStatus = GoalStatus.OPEN,
    consultation_id: int | None = None,
) -> Goal:
    """Add or change a goal agreed with the learner."""
    access.require(access.can_write_plan(actor, learner))
    text = _text(text, "text", 300, required=True)
    target_on = _date_in_range(target_on, "target_on", future_days=366 * 5)
    creating = goal is None
    goal = goal or Goal(learner_id=learner.id, created_by_id=actor.id)
    if goal.learner_id != learner.id:
        raise access.NotVisible
    before = {"text": goal.text, "target_on": goal.target_on, "status": goal.status}
    goal.text, goal.target_on, goal.status = text, target_on, status
    if consultation_id is not None:
        goal.consultation_id = consultation_id
    db.session.add(goal)
    db.session.flush()
    audit.record(
        actor,
        "create" if creating else "update",
        "goal",
        learner_id=learner.id,
        target_id=goal.id,
        fields=None
        if creating
        else audit.changed_fields(before, {"text": text, "target_on": target_on, "status": status}),
    )
    return goal


def plan(learner: User) -> list[PlanItem]:
    """Return the learner's plan, in the order of the subject list."""
    return list(
        db.session.scalars(
            select(PlanItem)
            .join(ExamSubject, ExamSubject.id == PlanItem.subject_id)
            .where(PlanItem.learner_id == learner.id)
            .order_by(ExamSubject.position, ExamSubject.id)
        )
    )


def save_plan_item(
    actor: User,
    learner: User,
    *,
    subject: ExamSubject | None,
    materials: str,
    plan_text: str,
    target_round: ExamRound | None = None,
) -> PlanItem:
    """Set the materials and plan of one subject (one item per subject)."""
    access.require(access.can_write_plan(actor, learner))
    if subject is None:
        raise ValidationError("subject_id", _l("Choose a subject."))
    materials = _text(materials, "materials", 300)
    plan_text = _text(plan_text, "plan", 5000)
    item = db.session.scalar(
        select(PlanItem).where(PlanItem.learner_id == learner.id, PlanItem.subject_id == subject.id)
    )
    creating = item is None
    item = item or PlanItem(learner_id=learner.id, subject_id=subject.id)
    before = {"materials": item.materials, "plan": item.plan, "round": item.target_round_id}
    item.materials, item.plan = materials, plan_text
    item.target_round_id = target_round.id if target_round else None
    item.updated_by_id = actor.id
    db.session.add(item)
    db.session.flush()
    after = {"materials": materials, "plan": plan_text, "round": item.target_round_id}
    audit.record(
        actor,
        "create" if creating else "update",
        "plan",
        learner_id=learner.id,
        target_id=item.id,
        fields=None if creating else audit.changed_fields(before, after),
    )
    return item


def delete_plan_item(actor: User, learner: User, item: PlanItem) -> None:
    access.require(access.can_write_plan(actor, learner))
    if item.learner_id != learner.id:
        raise access.NotVisible
    audit.record(actor, "delete", "plan", learner_id=learner.id, target_id=item.id)
    db.session.delete(item)
    db.session.flush()


# Exam attempts, credits and progress


def attempts(learner: User) -> list[ExamAttempt]:
    """Return the learner's exam attempts, oldest round first."""
    return list(
        db.session.scalars(
            select(ExamAttempt)
            .join(ExamRound, ExamRound.id == ExamAttempt.round_id)
            .where(ExamAttempt.learner_id == learner.id)
            .order_by(ExamRound.exam_on, ExamAttempt.id)
        )
    )


def credits(learner: User) -> list[SubjectCredit]:
    return list(
        db.session.scalars(
            select(SubjectCredit)
            .join(ExamSubject, ExamSubject.id == SubjectCredit.subject_id)
            .where(SubjectCredit.learner_id == learner.id)
            .order_by(ExamSubject.position, ExamSubject.id)
        )
    )


def _done_before(learner: User, exam_round: ExamRound, ignore_attempt_id: int | None) -> set[int]:
    """Return the subjects passed in earlier rounds or credited: they cannot be taken again."""
    done = {c.subject_id for c in credits(learner)}
    for attempt in attempts(learner):
        if attempt.id == ignore_attempt_id or attempt.round.exam_on >= exam_round.exam_on:
            continue
        done |= {s.subject_id for s in attempt.subjects if s.result is SubjectResult.PASSED}
    return done


def save_attempt(
    actor: User,
    learner: User,
    attempt: ExamAttempt | None,
    *,
    exam_round: ExamRound | None,
    results: dict[int, SubjectResult],
    certificate_obtained: bool = False,
) -> ExamAttempt:
    """Record a sitting of a round: each subject taken with its result (pending until known)."""
    access.require(access.can_write_plan(actor, learner))
    if exam_round is None:
        raise ValidationError("round_id", _l("Choose an exam round."))
    if not results:
        raise ValidationError("subjects", _l("Choose at least one subject taken."))
    subjects = {s.id: s for s in list_subjects()}
    if any(subject_id not in subjects for subject_id in results):
        raise ValidationError("subjects", _l("Unknown subject."))
    clash = db.session.scalar(
        select(ExamAttempt.id).where(
            ExamAttempt.learner_id == learner.id, ExamAttempt.round_id == exam_round.id
        )
    )
    if clash is not None and (attempt is None or clash != attempt.id):
        raise ValidationError(
            "round_id", _l("This round is recorded for the learner already."), code="conflict"
        )
    done = _done_before(learner, exam_round, attempt.id if attempt else None)
    again = [subjects[s].name for s in results if s in done]
    if again:
        raise ValidationError(
            "subjects",
            _l(
                "Already passed or credited, so not taken again: %(subjects)s",
                subjects="、".join(again),
            ),
        )
    if certificate_obtained and any(r is not SubjectResult.PASSED for r in results.values()):
        raise ValidationError(
            "certificate_obtained",
            _l("The certificate comes only when every subject of the round is passed."),
        )
    creating = attempt is None
    attempt = attempt or ExamAttempt(learner_id=learner.id, recorded_by_id=actor.id)
    attempt.round_id = exam_round.id
    attempt.certificate_obtained = certificate_obtained
    # Change rows in place: replacing them would insert before deleting and hit the unique key.
    kept = {item.subject_id: item for item in attempt.subjects if item.subject_id in results}
    for subject_id, result in sorted(results.items()):
        if subject_id in kept:
            kept[subject_id].result = result
        else:
            kept[subject_id] = ExamAttemptSubject(subject_id=subject_id, result=result)
    attempt.subjects = [kept[subject_id] for subject_id in sorted(kept)]
    db.session.add(attempt)
    db.session.flush()
    db.session.refresh(attempt)
    audit.record(
        actor,
        "create" if creating else "update",
        "exam_attempt",
        learner_id=learner.id,
        target_id=attempt.id,
    )
    return attempt


def delete_attempt(actor: User, learner: User, attempt: ExamAttempt) -> None:
    access.require(access.can_write_plan(actor, learner))
    if attempt.learner_id != learner.id:
        raise access.NotVisible
    audit.record(actor, "delete", "exam_attempt", learner_id=learner.id, target_id=attempt.id)
    db.session.delete(attempt)
    db.session.flush()


def save_credit(
    actor: User,
    learner: User,
    *,
    subject: ExamSubject | None,
    source: CreditSource,
    earned_on: date | None = None,
) -> SubjectCredit:
    """Count a subject as done from an earlier round, school credits or a qualification."""
    access.require(access.can_manage(actor, learner) and not access.is_erased(learner))
    if subject is None:
        raise ValidationError("subject_id", _l("Choose a subject."))
    earned_on = _date_in_range(earned_on, "earned_on", future_days=0)
    exists = db.session.scalar(
        select(SubjectCredit.id).where(
            SubjectCredit.learner_id == learner.id, SubjectCredit.subject_id == subject.id
        )
    )
    if exists is not None:
        raise ValidationError(
            "subject_id", _l("This subject is credited already."), code="conflict"
        )
    credit = SubjectCredit(
        learner_id=learner.id,
        subject_id=subject.id,
        source=source,
        earned_on=earned_on,
        recorded_by_id=actor.id,
    )
    db.session.add(credit)
    db.session.flush()
    audit.record(actor, "create", "credit", learner_id=learner.id, target_id=credit.id)
    return credit


def delete_credit(actor: User, learner: User, credit: SubjectCredit) -> None:
    access.require(access.can_manage(actor, learner))
    if credit.learner_id != learner.id:
        raise access.NotVisible
    audit.record(actor, "delete", "credit", learner_id=learner.id, target_id=credit.id)
    db.session.delete(credit)
    db.session.flush()


@dataclass
class SubjectProgress:
    """Where a learner stands in one subject."""

    subject: ExamSubject
    # passed, credited, pending, failed, planned or none
    state: str
    exam_round: ExamRound | None = None
    source: CreditSource | None = None

    @property
    def done(self) -> bool:
        return self.state in ("passed", "credited")


@dataclass
class ExamProgress:
    """A learner's progress toward the certificate, per subject and in total."""

    subjects: list[SubjectProgress] = field(default_factory=list)
    done: int = 0  # subjects passed or credited that count toward the certificate
    remaining: int = 0  # the fewest further subjects that complete the requirements
    complete: bool = False
    certificate_obtained: bool = False


def exam_progress(learner: User) -> ExamProgress:
    """Return the learner's progress: passes from every round and credits count together."""
    subjects = list_subjects()
    passes: dict[int, ExamRound] = {}
    latest: dict[int, tuple[SubjectResult, ExamRound]] = {}
    certificate = False
    for attempt in attempts(learner):  # oldest first: the first pass and the latest try win
        certificate = certificate or attempt.certificate_obtained
        for item in attempt.subjects:
            latest[item.subject_id] = (item.result, attempt.round)
            if item.result is SubjectResult.PASSED:
                passes.setdefault(item.subject_id, attempt.round)
    credited = {c.subject_id: c for c in credits(learner)}
    planned = {item.subject_id for item in plan(learner)}
    progress = ExamProgress(certificate_obtained=certificate)
    for subject in subjects:
        if subject.id in passes:
            row = SubjectProgress(subject, "passed", passes[subject.id])
        elif subject.id in credited:
            row = SubjectProgress(subject, "credited", source=credited[subject.id].source)
        elif subject.id in latest:
            result, exam_round = latest[subject.id]
            row = SubjectProgress(subject, result.value, exam_round)
        elif subject.id in planned:
            row = SubjectProgress(subject, "planned")
        elif not subject.active:
            continue
        else:
            row = SubjectProgress(subject, "none")
        progress.subjects.append(row)
    counted = [r for r in progress.subjects if r.subject.kind is not SubjectKind.OTHER]
    progress.done = sum(1 for r in counted if r.done)
    required_left = sum(
        1
        for r in counted
        if r.subject.kind is SubjectKind.REQUIRED and r.subject.active and not r.done
    )
    core_exists = any(s.kind is SubjectKind.SCIENCE_CORE and s.active for s in subjects) or any(
        r.done and r.subject.kind is SubjectKind.SCIENCE_CORE for r in counted
    )
    core_done = any(r.done and r.subject.kind is SubjectKind.SCIENCE_CORE for r in counted)
    basics_done = sum(1 for r in counted if r.done and r.subject.kind is SubjectKind.SCIENCE_BASIC)
    has_science = core_exists or any(s.kind is SubjectKind.SCIENCE_BASIC for s in subjects)
    if not has_science or (core_done and basics_done >= 1) or basics_done >= 3:
        science_left = 0
    elif core_exists:
        # Either 科学と人間生活 plus one 基礎 subject, or three 基礎 subjects: the shorter way.
        with_core = (0 if core_done else 1) + max(0, 1 - basics_done)
        science_left = min(with_core, 3 - basics_done)
    else:
        science_left = 3 - basics_done
    progress.remaining = required_left + science_left
    progress.complete = progress.remaining == 0
    return progress


# Outcomes


def outcomes(learner: User) -> list[Outcome]:
    return list(
        db.session.scalars(
            select(Outcome)
            .where(Outcome.learner_id == learner.id)
            .order_by(Outcome.occurred_on.desc(), Outcome.id.desc())
        )
    )


def add_outcome(
    actor: User, learner: User, *, kind: OutcomeKind, occurred_on: date | None, note: str = ""
) -> Outcome:
    """Record where the learner went, from a date; ending or referring also sets the status."""
    access.require(access.can_manage(actor, learner) and not access.is_erased(learner))
    occurred_on = _date_in_range(occurred_on, "occurred_on", required=True)
    note = _text(note, "note", 200)
    outcome = Outcome(
        learner_id=learner.id,
        kind=kind,
        occurred_on=occurred_on,
        note=note,
        created_by_id=actor.id,
    )
    db.session.add(outcome)
    db.session.flush()
    audit.record(actor, "create", "outcome", learner_id=learner.id, target_id=outcome.id)
    if kind in OUTCOME_STATUS and occurred_on <= today():
        set_status(actor, learner, OUTCOME_STATUS[kind], occurred_on)
    return outcome


def delete_outcome(actor: User, learner: User, outcome: Outcome) -> None:
    access.require(access.can_manage(actor, learner))
    if outcome.learner_id != learner.id:
        raise access.NotVisible
    audit.record(actor, "delete", "outcome", learner_id=learner.id, target_id=outcome.id)
    db.session.delete(outcome)
    db.session.flush()


# Lists


@dataclass
class LearnerRow:
    learner: User
    profile: LearnerProfile | None
    tutors: list[User]
    last_session_at: datetime | None
    next_session_at: datetime | None


def list_learners(
    actor: User,
    *,
    q: str | None = None,
    status: LearnerStatus | None = None,
    tutor_id: int | None = None,
    include_erased: bool = False,
) -> list[LearnerRow]:
    """Return the learners the actor may see, searched and filtered, by name."""
    query = access.visible_learners(actor).outerjoin(
        LearnerProfile, LearnerProfile.user_id == User.id
    )
    if q:
        pattern = f"%{q.strip()[:100]}%"
        query = query.where(
            or_(
                User.name.ilike(pattern),
                LearnerProfile.furigana.ilike(pattern),
                User.login_name.ilike(pattern),
                User.email.ilike(pattern),
            )
        )
    if status is not None:
        if status is LearnerStatus.ACTIVE:  # no profile yet counts as active
            query = query.where(
                or_(LearnerProfile.status == status, LearnerProfile.user_id.is_(None))
            )
        else:
            query = query.where(LearnerProfile.status == status)
    if tutor_id is not None:
        query = query.where(
            User.id.in_(
                select(TutorAssignment.learner_id).where(TutorAssignment.tutor_id == tutor_id)
            )
        )
    if not include_erased:
        query = query.where(LearnerProfile.erased_at.is_(None))
    # By reading (あいうえお順) where known, else by name; the same on SQLite and PostgreSQL.
    order = func.coalesce(LearnerProfile.furigana, User.name)
    learners = list(db.session.scalars(query.order_by(order, User.id)))
    ids = [learner.id for learner in learners]
    if not ids:
        return []
    profiles = {
        p.user_id: p
        for p in db.session.scalars(select(LearnerProfile).where(LearnerProfile.user_id.in_(ids)))
    }
    tutors: dict[int, list[User]] = defaultdict(list)
    for assignment_learner, tutor in db.session.execute(
        select(TutorAssignment.learner_id, User)
        .join(User, User.id == TutorAssignment.tutor_id)
        .where(TutorAssignment.learner_id.in_(ids))
        .order_by(User.name)
    ):
        tutors[assignment_learner].append(tutor)
    now = utcnow()
    last = dict(
        db.session.execute(
            select(TutoringSession.learner_id, func.max(TutoringSession.starts_at))
            .where(
                TutoringSession.learner_id.in_(ids),
                TutoringSession.status == Status.HELD,
            )
            .group_by(TutoringSession.learner_id)
        ).all()
    )
    upcoming = dict(
        db.session.execute(
            select(TutoringSession.learner_id, func.min(TutoringSession.starts_at))
            .where(
                TutoringSession.learner_id.in_(ids),
                TutoringSession.status == Status.SCHEDULED,
                TutoringSession.ends_at > now,
            )
            .group_by(TutoringSession.learner_id)
        ).all()
    )
    return [
        LearnerRow(
            learner,
            profiles.get(learner.id),
            tutors.get(learner.id, []),
            _aware(last.get(learner.id)),
            _aware(upcoming.get(learner.id)),
        )
        for learner in learners
    ]


def _aware(moment: datetime | None) -> datetime | None:
    """Return an aggregate's datetime as aware UTC (SQLite hands back naive strings)."""
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def assigned_tutors(learner: User) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(TutorAssignment, TutorAssignment.tutor_id == User.id)
            .where(TutorAssignment.learner_id == learner.id)
            .order_by(User.name)
        )
    )


def coordinators() -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .where(User.role.in_(access.MANAGERS), User.active.is_(True))
            .order_by(User.role, User.name)
        )
    )

"""Who may see and change a learner's record, notes and case reviews: the one place that says.

- Coordinators and admins see and change every learner's record.
- A tutor sees the records of the learners assigned to them, writes study notes, goals,
  plans and exam results for them, and reads their case reviews; other learners do not
  exist for them (404).
- A learner sees their own goals, plan, exam progress and the notes shared with them,
  never staff notes, case reviews, consultation notes or the audit log.
- Only admins read the audit log, export a learner's data and erase it.

Pages and endpoints for a role without the right answer 403; a learner the caller may not
see answers 404.
"""

from __future__ import annotations

from sqlalchemy import Select, select
from werkzeug.exceptions import Forbidden, NotFound

from tutoring.extensions import db
from tutoring.people.models import LearnerProfile, Role, TutorAssignment, User

MANAGERS = (Role.COORDINATOR, Role.ADMIN)


class AccessDenied(Forbidden):
    """The caller's role may not do this (403)."""


class NotVisible(NotFound):
    """The learner or item does not exist for the caller (404)."""


def is_manager(actor: User) -> bool:
    return actor.role in MANAGERS


def is_admin(actor: User) -> bool:
    return actor.role is Role.ADMIN


def is_assigned(actor: User, learner_id: int) -> bool:
    """Tell whether the actor is a tutor assigned to the learner."""
    if actor.role is not Role.TUTOR:
        return False
    return (
        db.session.scalar(
            select(TutorAssignment.id).where(
                TutorAssignment.tutor_id == actor.id, TutorAssignment.learner_id == learner_id
            )
        )
        is not None
    )


def is_erased(learner: User) -> bool:
    profile = db.session.get(LearnerProfile, learner.id)
    return profile is not None and profile.erased_at is not None


def can_see_record(actor: User, learner: User) -> bool:
    """Tell whether the actor is staff of this learner: managers, and tutors assigned to them.

    An erased learner is an anonymous row kept for reports: only managers still see it.
    """
    if learner.role is not Role.LEARNER:
        return False
    if is_manager(actor):
        return True
    return is_assigned(actor, learner.id) and not is_erased(learner)


def is_self(actor: User, learner: User) -> bool:
    return actor.id == learner.id and actor.role is Role.LEARNER


def can_manage(actor: User, learner: User) -> bool:
    """Profile, status, consent, consultations, credits, outcomes: coordinators and admins."""
    return is_manager(actor) and learner.role is Role.LEARNER


def can_write_notes(actor: User, learner: User) -> bool:
    """Study notes: the learner's assigned tutors, coordinators and admins."""
    return can_see_record(actor, learner) and not is_erased(learner)


def can_edit_note(actor: User, learner: User, author_id: int | None) -> bool:
    """Edit a note: its author while still assigned, coordinators and admins."""
    if not can_write_notes(actor, learner):
        return False
    return is_manager(actor) or author_id == actor.id


def can_write_plan(actor: User, learner: User) -> bool:
    """Goals, the learning plan and exam results: assigned tutors, coordinators and admins."""
    return can_see_record(actor, learner) and not is_erased(learner)


def can_see_case_reviews(actor: User, learner: User) -> bool:
    """Case reviews are staff only: the learner's tutors and managers read them."""
    return can_see_record(actor, learner)


def can_write_case_reviews(actor: User, learner: User) -> bool:
    return can_manage(actor, learner) and not is_erased(learner)


def can_audit(actor: User) -> bool:
    """Read the audit log, export and erase a learner's data: admins only."""
    return is_admin(actor)


def require(allowed: bool) -> None:
    """Raise AccessDenied (403) unless allowed."""
    if not allowed:
        raise AccessDenied


def learner_or_404(actor: User, learner_id: int, *, self_allowed: bool = False) -> User:
    """Return the learner if the actor may see their record (or is them, when allowed), else 404."""
    learner = db.session.get(User, learner_id)
    if learner is None or learner.role is not Role.LEARNER:
        raise NotVisible
    if self_allowed and is_self(actor, learner):
        return learner
    if not can_see_record(actor, learner):
        raise NotVisible
    return learner


def visible_learners(actor: User) -> Select:
    """Return a query of the learners whose records the actor may see."""
    query = select(User).where(User.role == Role.LEARNER)
    if is_manager(actor):
        return query
    if actor.role is Role.TUTOR:
        assigned = select(TutorAssignment.learner_id).where(TutorAssignment.tutor_id == actor.id)
        erased = select(LearnerProfile.user_id).where(LearnerProfile.erased_at.is_not(None))
        return query.where(User.id.in_(assigned), User.id.not_in(erased))
    return query.where(User.id == -1)

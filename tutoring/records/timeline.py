"""A learner's record as one timeline, newest first, for staff; and the learner's own view."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from tutoring.database import utcnow
from tutoring.extensions import db
from tutoring.i18n import program_zone, to_local
from tutoring.notes import service as notes
from tutoring.partners import service as partners
from tutoring.people.models import User
from tutoring.records import access, service
from tutoring.scheduling import service as scheduling
from tutoring.scheduling.models import Status, TutoringSession


@dataclass(frozen=True)
class Event:
    """One entry of the timeline: its kind names the template partial that shows it."""

    # session, note, consultation, case_review, exam, outcome, status, consent,
    # outreach, referral_out (the last two from tutoring/partners)
    kind: str
    on: date
    at: datetime | None
    item: Any

    @property
    def sort_key(self) -> tuple[date, datetime]:
        moment = self.at or datetime.combine(self.on, time.max, tzinfo=program_zone())
        return (self.on, moment)


def _day(moment: datetime) -> date:
    return to_local(moment).date()


def timeline(actor: User, learner: User) -> list[Event]:
    """Return everything that happened in the learner's support, newest first (staff only)."""
    access.require(access.can_see_record(actor, learner))
    events: list[Event] = []
    past_sessions = db.session.scalars(
        select(TutoringSession)
        .options(joinedload(TutoringSession.tutor), joinedload(TutoringSession.venue))
        .where(TutoringSession.learner_id == learner.id, TutoringSession.starts_at <= utcnow())
    )
    for session in past_sessions:
        events.append(Event("session", _day(session.starts_at), session.starts_at, session))
    for note in notes.visible_notes(actor, learner):
        events.append(Event("note", _day(note.created_at), note.created_at, note))
    for consultation in service.consultations(learner):
        events.append(Event("consultation", consultation.held_on, None, consultation))
    for review in notes.case_reviews(actor, learner):
        events.append(Event("case_review", review.held_on, None, review))
    for attempt in service.attempts(learner):
        events.append(Event("exam", attempt.round.exam_on, None, attempt))
    for outcome in service.outcomes(learner):
        events.append(Event("outcome", outcome.occurred_on, None, outcome))
    for change in service.status_history(learner):
        events.append(Event("status", change.since, None, change))
    for consent in service.consents(learner):
        events.append(Event("consent", consent.given_on, None, consent))
    for contact in partners.outreach_of(learner):
        events.append(Event("outreach", contact.contacted_on, None, contact))
    for referral in partners.referrals_out(learner):
        events.append(Event("referral_out", referral.referred_on, None, referral))
    return sorted(events, key=lambda e: e.sort_key, reverse=True)


def record_overview(actor: User, learner: User) -> dict[str, Any]:
    """Return what the top of a learner's record shows."""
    profile = service.profile_of(learner)
    return {
        "learner": learner,
        "profile": profile,
        "minor": service.is_minor(profile),
        "consent": service.current_consent(learner),
        "consent_missing": service.consent_missing(learner),
        "tutors": service.assigned_tutors(learner),
        "goals": service.goals(learner),
        "plan": service.plan(learner),
        "progress": service.exam_progress(learner),
        "next_session": scheduling.next_session(learner),
    }


def learners_own_view(learner: User) -> dict[str, Any]:
    """Return what a learner sees of their own record: nothing staff-only."""
    next_session = scheduling.next_session(learner)
    return {
        "goals": service.goals(learner, open_only=True),
        "plan": service.plan(learner),
        "progress": service.exam_progress(learner),
        "next_session": next_session,
        "room_open": next_session is not None and scheduling.room_is_open(next_session),
        "window": scheduling.join_window(next_session) if next_session else None,
        "notes": notes.visible_notes(learner, learner, limit=30),
        "homework": notes.last_homework(learner, learner),
        "held": db.session.query(TutoringSession)
        .filter(TutoringSession.learner_id == learner.id, TutoringSession.status == Status.HELD)
        .count(),
    }

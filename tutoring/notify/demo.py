"""Demo notification settings and a short delivery history (idempotent)."""

from __future__ import annotations

from datetime import time, timedelta

from sqlalchemy import select

from tutoring.database import utcnow
from tutoring.extensions import db
from tutoring.notify.models import (
    Channel,
    MessageKind,
    MessageStatus,
    NotificationPreference,
    OutboxMessage,
)
from tutoring.notify.outbox import dedupe_key
from tutoring.notify.service import default_preference
from tutoring.people.models import User
from tutoring.scheduling.models import Status, TutoringSession


def _preference(user: User, **values) -> None:
    if db.session.get(NotificationPreference, user.id) is not None:
        return  # someone changed it since: keep their choice
    preference = default_preference(user.id)
    for name, value in values.items():
        setattr(preference, name, value)
    db.session.add(preference)


def _history(session: TutoringSession, user: User, kind: MessageKind, channel: Channel, **values):
    key = dedupe_key(kind, session.id, user.id, channel, "demo")
    if db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)):
        return
    due = values.pop("due_at")
    db.session.add(
        OutboxMessage(
            dedupe_key=key,
            kind=kind,
            channel=channel,
            recipient_id=user.id,
            session_id=session.id,
            payload={"starts_at": session.starts_at.isoformat()},
            due_at=due,
            next_attempt_at=due,
            created_at=due,
            **values,
        )
    )


def load(people: dict[str, User]) -> None:
    """Give the demo learners believable settings and the delivery log a few past entries."""
    _preference(people["learner1@example.org"])
    _preference(people["learner2@example.org"], quiet_start=time(22, 0), quiet_end=time(7, 30))
    # This learner's LINE refused a message once (blocked): the settings page says so.
    _preference(
        people["learner3@example.org"],
        line_user_id="U" + "3" * 32,
        line_enabled=False,
        line_disabled_at=utcnow() - timedelta(days=6),
    )
    _preference(people["learner4@example.org"], remind_day_before=False, locale="en")
    now = utcnow()
    for email in ("learner1@example.org", "learner3@example.org"):
        learner = people[email]
        past = db.session.scalars(
            select(TutoringSession)
            .where(TutoringSession.learner_id == learner.id, TutoringSession.ends_at < now)
            .order_by(TutoringSession.starts_at.desc())
            .limit(1)
        ).first()
        if past is None:
            continue
        day = past.starts_at - timedelta(hours=24)
        _history(
            past,
            learner,
            MessageKind.REMINDER_DAY,
            Channel.EMAIL,
            due_at=day,
            status=MessageStatus.SENT,
            sent_at=day,
            attempts=1,
        )
        if email == "learner3@example.org":
            _history(
                past,
                learner,
                MessageKind.REMINDER_DAY,
                Channel.LINE,
                due_at=day,
                status=MessageStatus.FAILED,
                attempts=1,
                error="LINE refused the push (403)",
            )
            if past.status is Status.NO_SHOW:
                after = past.ends_at + timedelta(minutes=30)
                for staff in (past.tutor, people["coordinator@example.org"]):
                    _history(
                        past,
                        staff,
                        MessageKind.MISSED,
                        Channel.EMAIL,
                        due_at=after,
                        status=MessageStatus.SENT,
                        sent_at=after,
                        attempts=1,
                    )
    db.session.flush()

"""Rules for presence: recording what the room reports."""

from __future__ import annotations

from datetime import datetime

from tutoring.attendance.models import PresenceEvent, PresenceKind, PresenceSource
from tutoring.database import utcnow
from tutoring.extensions import db
from tutoring.people.models import User
from tutoring.scheduling.models import TutoringSession


def record_presence(
    user: User,
    session: TutoringSession,
    *,
    source: PresenceSource,
    kind: PresenceKind,
    client_id: str = "",
    now: datetime | None = None,
) -> PresenceEvent:
    """Store one presence event as the server saw it (server time, never the client's clock)."""
    event = PresenceEvent(
        session_id=session.id,
        user_id=user.id,
        source=source,
        kind=kind,
        client_id=client_id[:64],
        occurred_at=now or utcnow(),
    )
    db.session.add(event)
    db.session.flush()
    return event

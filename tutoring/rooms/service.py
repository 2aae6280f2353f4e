"""Who may enter a session's room, and when."""

from __future__ import annotations

from datetime import datetime

from tutoring.people.models import Role, User
from tutoring.scheduling.models import TutoringSession


def may_enter(actor: User, session: TutoringSession) -> bool:
    """Tell whether the actor belongs in the room: its learner and tutor, and coordinators who observe."""
    return actor.id in (session.learner_id, session.tutor_id) or actor.role in (
        Role.COORDINATOR,
        Role.ADMIN,
    )


def is_moderator(actor: User, session: TutoringSession) -> bool:
    """Tell whether the actor runs the meeting: the session's tutor only."""
    return actor.id == session.tutor_id


def seconds_until(moment: datetime, now: datetime) -> int:
    """Return whole seconds from now until moment (0 when past)."""
    return max(0, int((moment - now).total_seconds()))

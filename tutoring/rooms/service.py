"""Who may enter a session's room and when, and what their browser needs to join it."""

from __future__ import annotations

from datetime import datetime

from flask import current_app

from tutoring.database import utcnow
from tutoring.people.models import Role, User
from tutoring.rooms import jitsi
from tutoring.scheduling import service as scheduling
from tutoring.scheduling.models import TutoringSession

WHITEBOARD_NAMESPACE = "/whiteboard"


class RoomClosed(Exception):
    """The session's room is not open now (before or after its window, or cancelled)."""


def may_enter(actor: User, session: TutoringSession) -> bool:
    """Tell whether the actor belongs in the room: its learner and tutor, and coordinators who observe."""
    return actor.id in (session.learner_id, session.tutor_id) or actor.role in (
        Role.COORDINATOR,
        Role.ADMIN,
    )


def is_moderator(actor: User, session: TutoringSession) -> bool:
    """Tell whether the actor runs the meeting: the session's tutor only."""
    return actor.id == session.tutor_id


def video_token(actor: User, session: TutoringSession, now: datetime) -> str | None:
    """Return the actor's Jitsi JWT for the session's room, valid only in its join window."""
    keys = current_app.extensions["jitsi_keys"]
    if keys is None:
        return None
    opens, closes = scheduling.join_window(session)
    return jitsi.room_token(
        keys=keys,
        domain=current_app.config["JITSI_DOMAIN"],
        room=session.room_name,
        user_opaque_id=jitsi.opaque_user_id(actor.id, current_app.config["SECRET_KEY"]),
        display_name=actor.shown_in_rooms,
        moderator=is_moderator(actor, session),
        not_before=opens,
        expires_at=closes,
        now=now,
    )


def room_details(actor: User, session: TutoringSession, now: datetime | None = None) -> dict:
    """Return what the room page and the API give a participant; RoomClosed outside the window.

    The caller has checked may_enter.
    """
    now = now or utcnow()
    if not scheduling.room_is_open(session, now):
        raise RoomClosed
    return {
        "jitsi": {
            "domain": current_app.config["JITSI_DOMAIN"],
            "room": session.room_name,
            "jwt": video_token(actor, session, now),
        },
        # One board per session: the board is addressed by its session.
        "whiteboard": {"namespace": WHITEBOARD_NAMESPACE, "board_id": session.id},
    }

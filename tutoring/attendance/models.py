"""Presence events: what the room saw of each participant, stored append-only."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from tutoring.database import enum_column, utcnow
from tutoring.extensions import db


class PresenceSource(enum.StrEnum):
    VIDEO = "video"  # Jitsi's videoConferenceJoined / videoConferenceLeft
    WHITEBOARD = "whiteboard"  # the whiteboard socket: join, leave, disconnect
    PAGE = "page"  # heartbeats while the room page is open


class PresenceKind(enum.StrEnum):
    JOINED = "joined"
    LEFT = "left"
    HEARTBEAT = "heartbeat"


class PresenceEvent(db.Model):
    __tablename__ = "presence_events"
    __table_args__ = (
        Index("ix_presence_events_session_user", "session_id", "user_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    source: Mapped[PresenceSource] = mapped_column(enum_column(PresenceSource))
    kind: Mapped[PresenceKind] = mapped_column(enum_column(PresenceKind))
    # Tells two tabs or devices of one person apart, so their intervals can be merged.
    client_id: Mapped[str] = mapped_column(String(64), default="")
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)

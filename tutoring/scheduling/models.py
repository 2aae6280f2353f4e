"""Venues, tutoring sessions, weekly series, their change history and calendar feeds."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tutoring.crypto import EncryptedText
from tutoring.database import enum_column, utcnow
from tutoring.extensions import db
from tutoring.people.models import User
from tutoring.rooms.jitsi import new_room_name


class Kind(enum.StrEnum):
    STUDY = "study"  # 学習支援
    CONSULTATION = "consultation"  # 学習相談


class Mode(enum.StrEnum):
    ONLINE = "online"
    IN_PERSON = "in_person"


class Status(enum.StrEnum):
    SCHEDULED = "scheduled"
    HELD = "held"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


class Venue(db.Model):
    __tablename__ = "venues"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    address: Mapped[str] = mapped_column(String(300), default="")
    # An online venue stands for the program's online support in reports and calendars.
    online: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Series(db.Model):
    """Weekly occurrences created together; each occurrence is its own session row."""

    __tablename__ = "session_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TutoringSession(db.Model):
    """One meeting of a learner and a tutor."""

    __tablename__ = "sessions"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_sessions_tutor_time", "tutor_id", "starts_at"),
        Index("ix_sessions_learner_time", "learner_id", "starts_at"),
        Index("ix_sessions_starts_at", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    tutor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    kind: Mapped[Kind] = mapped_column(enum_column(Kind))
    mode: Mapped[Mode] = mapped_column(enum_column(Mode))
    venue_id: Mapped[int | None] = mapped_column(ForeignKey("venues.id", ondelete="RESTRICT"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    status: Mapped[Status] = mapped_column(enum_column(Status), default=Status.SCHEDULED)
    # Reasons can tell of a young person's family or health: encrypted at rest.
    cancel_reason: Mapped[str | None] = mapped_column(EncryptedText)
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    cancelled_at: Mapped[datetime | None]
    series_id: Mapped[int | None] = mapped_column(
        ForeignKey("session_series.id", ondelete="SET NULL"), index=True
    )
    # The Jitsi room: random, unguessable, with nothing personal in it.
    room_name: Mapped[str] = mapped_column(String(64), unique=True, default=new_room_name)
    # Counts changes, for iCalendar SEQUENCE: calendar apps replace older copies.
    revision: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    learner: Mapped[User] = relationship(foreign_keys=[learner_id])
    tutor: Mapped[User] = relationship(foreign_keys=[tutor_id])
    venue: Mapped[Venue | None] = relationship()
    cancelled_by: Mapped[User | None] = relationship(foreign_keys=[cancelled_by_id])

    @property
    def duration(self) -> timedelta:
        return self.ends_at - self.starts_at

    @property
    def duration_minutes(self) -> int:
        return int(self.duration.total_seconds() // 60)

    @property
    def cancelled(self) -> bool:
        return self.status is Status.CANCELLED


class SessionChange(db.Model):
    """Who changed a session, when, and what it was before and after."""

    __tablename__ = "session_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(20))  # created, rescheduled, cancelled
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(EncryptedText)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    actor: Mapped[User | None] = relationship()


class CalendarFeed(db.Model):
    """A user's secret iCalendar address; revoking it makes the old address answer 404."""

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # Kept readable so the user can copy the address again; it reveals only what the
    # sessions table itself holds.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()

"""Attendance: presence events from the room, the intervals swept from them, statuses and changes.

Presence events are the raw evidence, stored append-only. The sweep turns them into closed
intervals (`attendance_intervals`) once a participant has gone quiet, and records its decision
there so that a restart or a later change of settings does not rewrite history. One
`attendance` row per session and participant holds the status, minutes and the sweep's
watermark; every status change is kept in `attendance_changes`.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tutoring.database import enum_column, utcnow
from tutoring.extensions import db
from tutoring.people.models import User
from tutoring.scheduling.models import TutoringSession


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


class AttendanceStatus(enum.StrEnum):
    PRESENT = "present"
    LATE = "late"  # first joined more than the grace period after the start
    LEFT_EARLY = "left_early"  # last left well before the end
    ABSENT = "absent"
    EXCUSED = "excused"  # set by a person only: the absence was agreed or explained


ATTENDED = (AttendanceStatus.PRESENT, AttendanceStatus.LATE, AttendanceStatus.LEFT_EARLY)


class ParticipantRole(enum.StrEnum):
    LEARNER = "learner"
    TUTOR = "tutor"


class ClosedBy(enum.StrEnum):
    LEFT = "left"  # the room reported the leave
    SWEEP = "sweep"  # no leave arrived: closed at the last sign of presence


class PresenceInterval(db.Model):
    """A closed stretch of presence of one client (source and client id) in a session."""

    __tablename__ = "attendance_intervals"
    __table_args__ = (
        # The same decision stored twice (two sweeping processes) is refused.
        UniqueConstraint(
            "session_id",
            "user_id",
            "source",
            "client_id",
            "joined_at",
            name="uq_attendance_intervals_stream_start",  # the generated name passes 63 chars
        ),
        Index("ix_attendance_intervals_session_user", "session_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    source: Mapped[PresenceSource] = mapped_column(enum_column(PresenceSource))
    client_id: Mapped[str] = mapped_column(String(64), default="")
    joined_at: Mapped[datetime]
    left_at: Mapped[datetime]
    closed_by: Mapped[ClosedBy] = mapped_column(enum_column(ClosedBy))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Attendance(db.Model):
    """The attendance of one participant (learner or tutor) of one session."""

    __tablename__ = "attendance"
    __table_args__ = (
        UniqueConstraint("session_id", "user_id"),
        # Covers the log's and the summaries' look-ups of a participant's status.
        Index("ix_attendance_session_user_status", "session_id", "user_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[ParticipantRole] = mapped_column(enum_column(ParticipantRole))
    # None until derived after the session, or set by a person; stays None for a session in
    # person that nobody marked.
    status: Mapped[AttendanceStatus | None] = mapped_column(enum_column(AttendanceStatus))
    # What the rules make of the presence, kept beside a person's override for comparison.
    derived_status: Mapped[AttendanceStatus | None] = mapped_column(enum_column(AttendanceStatus))
    overridden: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str | None] = mapped_column(Text)
    minutes_present: Mapped[int] = mapped_column(default=0)
    first_joined_at: Mapped[datetime | None]
    last_left_at: Mapped[datetime | None]
    # Presence events with an id up to this one are in attendance_intervals.
    events_through: Mapped[int] = mapped_column(default=0)
    derived_at: Mapped[datetime | None]
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class AttendanceChange(db.Model):
    """Who set a participant's status when, from what to what, and why."""

    __tablename__ = "attendance_changes"
    __table_args__ = (Index("ix_attendance_changes_session", "session_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # None: the system derived it from presence.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    before: Mapped[AttendanceStatus | None] = mapped_column(enum_column(AttendanceStatus))
    after: Mapped[AttendanceStatus | None] = mapped_column(enum_column(AttendanceStatus))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    user: Mapped[User] = relationship(foreign_keys=[user_id])


class LearnerStanding(db.Model):
    """Where a learner stands now: their last attended session and the absences since.

    Kept up to date whenever one of the learner's statuses is derived or set, so the early
    warnings of a whole program are one small query instead of a pass over every session.
    """

    __tablename__ = "attendance_learner_standing"

    learner_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    last_attended_at: Mapped[datetime | None]
    # Absent sessions since the last attended one (excused and unmarked ones do not count).
    absences_in_a_row: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# The attendance log, its count and the weekly chart read the sessions of a period with their
# state and people; this index answers them without visiting the table (a year of a large
# program is 25,000 sessions). Declared here because attendance is what needs it.
Index(
    "ix_sessions_attendance_period",
    TutoringSession.starts_at,
    TutoringSession.status,
    TutoringSession.ends_at,
    TutoringSession.learner_id,
    TutoringSession.tutor_id,
    TutoringSession.mode,
    TutoringSession.venue_id,
)

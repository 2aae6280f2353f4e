"""Notification preferences, Web Push subscriptions, and the outbox of messages to deliver."""

from __future__ import annotations

import enum
from datetime import datetime, time

from sqlalchemy import JSON, ForeignKey, Index, String, Time
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tutoring.database import enum_column, utcnow
from tutoring.extensions import db
from tutoring.people.models import User

# Quiet hours for someone who never chose: no messages late at night or early in the morning.
DEFAULT_QUIET_START = time(21, 0)
DEFAULT_QUIET_END = time(8, 0)


class Channel(enum.StrEnum):
    EMAIL = "email"
    LINE = "line"
    WEBPUSH = "webpush"


class MessageKind(enum.StrEnum):
    REMINDER_DAY = "reminder_day"  # the day before a session
    REMINDER_HOUR = "reminder_hour"  # one hour before, with the Join link
    RESCHEDULED = "rescheduled"
    CANCELLED = "cancelled"
    MISSED = "missed"  # to the tutor and coordinator, with a suggested follow-up


class MessageStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for next_attempt_at
    SENDING = "sending"  # claimed by one worker
    SENT = "sent"
    FAILED = "failed"  # gave up: permanent error, or too many attempts
    SKIPPED = "skipped"  # no longer needed: session changed, channel off, quiet hours


class NotificationPreference(db.Model):
    """How a person wants to be reached; a person without a row has the defaults."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    email_enabled: Mapped[bool] = mapped_column(default=True)
    line_enabled: Mapped[bool] = mapped_column(default=True)
    push_enabled: Mapped[bool] = mapped_column(default=True)
    remind_day_before: Mapped[bool] = mapped_column(default=True)
    remind_hour_before: Mapped[bool] = mapped_column(default=True)
    # Wall-clock times in the program's zone; both None (or equal) means no quiet hours. The
    # defaults come from service.default_preference: a column default would replace a None.
    quiet_start: Mapped[time | None] = mapped_column(Time)
    quiet_end: Mapped[time | None] = mapped_column(Time)
    # None: the account's language, else the program's default (Japanese).
    locale: Mapped[str | None] = mapped_column(String(5))
    # Set by a coordinator today, by LINE Login later; a LINE user id is "U" and 32 hex digits.
    line_user_id: Mapped[str | None] = mapped_column(String(64))
    # When LINE refused a push (blocked, or not a friend), the channel is switched off.
    line_disabled_at: Mapped[datetime | None]
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class PushSubscription(db.Model):
    """One browser or installed home-screen app that accepts Web Push for a user."""

    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The push service's URL for this device; one device belongs to one account at a time.
    endpoint: Mapped[str] = mapped_column(String(2048), unique=True)
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_success_at: Mapped[datetime | None]


class OutboxMessage(db.Model):
    """One message to one person through one channel, sent once by whichever worker claims it."""

    __tablename__ = "notification_outbox"
    __table_args__ = (
        Index("ix_notification_outbox_due", "status", "next_attempt_at"),
        Index("ix_notification_outbox_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # kind:session:recipient:channel:variant; the variant tells a moved session's reminders apart.
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[MessageKind] = mapped_column(enum_column(MessageKind))
    channel: Mapped[Channel] = mapped_column(enum_column(Channel))
    recipient_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    # Times the text refers to (ISO), never names or notes: content is composed when sent.
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[MessageStatus] = mapped_column(
        enum_column(MessageStatus), default=MessageStatus.PENDING
    )
    due_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    # The last problem, as a short technical text without personal data.
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    recipient: Mapped[User] = relationship()


class DeliveryAttempt(db.Model):
    """What happened each time a worker tried to deliver a message."""

    __tablename__ = "notification_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("notification_outbox.id", ondelete="CASCADE"), index=True
    )
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow)
    worker: Mapped[str] = mapped_column(String(100))
    outcome: Mapped[MessageStatus] = mapped_column(enum_column(MessageStatus))
    status_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(String(500))

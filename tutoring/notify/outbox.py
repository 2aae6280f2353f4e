"""The outbox: messages queued once per dedupe key, claimed by exactly one worker, retried.

Claiming takes rows with `SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL, so concurrent
workers take different rows without waiting; on SQLite one conditional UPDATE (`… WHERE
status = 'pending' … RETURNING id`) claims atomically, as SQLite runs one writer at a time.
A claimed row is `sending`; a worker that died while sending leaves it so, and after
NOTIFY_CLAIM_TIMEOUT_SECONDS it returns to `pending` (at least once rather than never).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from tutoring.database import utcnow
from tutoring.extensions import db
from tutoring.notify.models import (
    Channel,
    DeliveryAttempt,
    MessageKind,
    MessageStatus,
    OutboxMessage,
)
from tutoring.notify.timing import retry_delay


def dedupe_key(
    kind: MessageKind, session_id: int, recipient_id: int, channel: Channel, variant: str = ""
) -> str:
    """Return the key that makes a message unique: one per session, recipient, kind and channel.

    The variant separates what must be sent again: a moved session's reminders (its new start)
    and each move of a session (its revision).
    """
    key = f"{kind.value}:{session_id}:{recipient_id}:{channel.value}"
    return f"{key}:{variant}" if variant else key


@dataclass(frozen=True)
class Planned:
    """A message to queue, unless its dedupe key is queued already."""

    kind: MessageKind
    channel: Channel
    recipient_id: int
    session_id: int
    due_at: datetime
    variant: str = ""
    payload: dict | None = None
    status: MessageStatus = MessageStatus.PENDING
    error: str | None = None

    @property
    def key(self) -> str:
        return dedupe_key(self.kind, self.session_id, self.recipient_id, self.channel, self.variant)


def enqueue(planned: list[Planned], now: datetime | None = None) -> int:
    """Insert the messages whose keys are new (INSERT … ON CONFLICT DO NOTHING); return how many.

    Safe when several workers plan the same message at once, and inside a request's
    transaction (signal receivers); it flushes, never commits.
    """
    if not planned:
        return 0
    now = now or utcnow()
    rows = [
        {
            "dedupe_key": item.key,
            "kind": item.kind,
            "channel": item.channel,
            "recipient_id": item.recipient_id,
            "session_id": item.session_id,
            "payload": item.payload or {},
            "status": item.status,
            "due_at": item.due_at,
            "next_attempt_at": item.due_at,
            "attempts": 0,
            "error": item.error,
            "created_at": now,
            "updated_at": now,
        }
        for item in planned
    ]
    insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(OutboxMessage)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(OutboxMessage.id)
    )
    db.session.flush()
    connection = db.session.connection()  # the session's transaction: nothing commits here
    # RETURNING tells what was inserted on both databases (rowcount does not, with psycopg).
    return sum(len(connection.execute(statement, row).all()) for row in rows)


def existing_keys(keys: list[str]) -> set[str]:
    """Return which of the keys are queued already."""
    if not keys:
        return set()
    return set(
        db.session.scalars(
            select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(keys))
        )
    )


def release_stale_claims(now: datetime) -> int:
    """Return rows claimed by a worker that did not finish in time to `pending` (or `failed`
    when they used their last attempt)."""
    config = current_app.config
    stale = (
        OutboxMessage.status == MessageStatus.SENDING,
        OutboxMessage.claimed_at < now - timedelta(seconds=config["NOTIFY_CLAIM_TIMEOUT_SECONDS"]),
    )
    last = OutboxMessage.attempts >= config["NOTIFY_MAX_ATTEMPTS"]
    db.session.execute(
        update(OutboxMessage)
        .where(*stale, last)
        .values(status=MessageStatus.FAILED, error="worker_lost", claimed_by=None, updated_at=now)
    )
    result = db.session.execute(
        update(OutboxMessage)
        .where(*stale)
        .values(status=MessageStatus.PENDING, next_attempt_at=now, claimed_by=None, updated_at=now)
    )
    return max(result.rowcount, 0)


def claim(worker: str, now: datetime, limit: int) -> list[int]:
    """Claim up to `limit` due messages for this worker and commit; return their ids.

    Two workers never get the same row: the claim is one atomic step per database.
    """
    due = (
        select(OutboxMessage.id)
        .where(OutboxMessage.status == MessageStatus.PENDING, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    values = {
        "status": MessageStatus.SENDING,
        "claimed_by": worker,
        "claimed_at": now,
        "attempts": OutboxMessage.attempts + 1,
        "updated_at": now,
    }
    if db.engine.dialect.name == "postgresql":
        ids = list(db.session.scalars(due.with_for_update(skip_locked=True)))
        if ids:
            db.session.execute(
                update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(**values)
            )
    else:
        ids = list(
            db.session.scalars(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id.in_(due.scalar_subquery()),
                    OutboxMessage.status == MessageStatus.PENDING,
                )
                .values(**values)
                .returning(OutboxMessage.id)
            )
        )
    db.session.commit()
    return sorted(ids)


def finish(
    message: OutboxMessage,
    worker: str,
    outcome: MessageStatus,
    now: datetime,
    *,
    error: str | None = None,
    status_code: int | None = None,
    retry_after: float | None = None,
) -> MessageStatus:
    """Record an attempt's outcome; a retry becomes `pending` with back-off, or `failed` at the limit.

    Only the worker holding the claim may finish the message: a claim released as stale and
    taken by another worker is left to that worker.
    """
    if message.status is not MessageStatus.SENDING or message.claimed_by != worker:
        return message.status
    config = current_app.config
    if outcome is MessageStatus.PENDING:
        if message.attempts >= config["NOTIFY_MAX_ATTEMPTS"]:
            outcome = MessageStatus.FAILED
        else:
            delay = retry_delay(
                message.attempts,
                base=config["NOTIFY_RETRY_BASE_SECONDS"],
                maximum=config["NOTIFY_RETRY_MAX_SECONDS"],
                retry_after=retry_after,
            )
            message.next_attempt_at = now + timedelta(seconds=delay)
    message.status = outcome
    message.claimed_by = None
    message.error = error[:500] if error else None
    if outcome is MessageStatus.SENT:
        message.sent_at = now
    db.session.add(
        DeliveryAttempt(
            message_id=message.id,
            attempted_at=now,
            worker=worker[:100],
            outcome=outcome,
            status_code=status_code,
            error=message.error,
        )
    )
    db.session.flush()
    return outcome


def skip_pending(
    session_id: int, kinds: tuple[MessageKind, ...], reason: str, now: datetime
) -> int:
    """Mark the session's queued messages of these kinds as no longer needed."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.session_id == session_id,
            OutboxMessage.kind.in_(kinds),
            OutboxMessage.status == MessageStatus.PENDING,
        )
        .values(status=MessageStatus.SKIPPED, error=reason, updated_at=now)
    )
    return max(result.rowcount, 0)

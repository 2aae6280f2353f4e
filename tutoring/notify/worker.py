"""The scheduler: plan due messages, claim them, deliver them, record what happened.

`run_once` is one tick; the `notify worker` command and the background thread call it in a
loop. Any number of them may run at once, in any number of processes: the outbox's claim
hands each message to exactly one of them.
"""

from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass, field
from datetime import datetime

from flask import Flask, current_app

from tutoring.database import utcnow
from tutoring.extensions import db, socketio
from tutoring.notify import outbox, planner
from tutoring.notify.channels import (
    PermanentFailure,
    TemporaryFailure,
    clients,
)
from tutoring.notify.channels.line import LineBlocked
from tutoring.notify.channels.webpush import NoDevice, PushFailure, PushOutcome
from tutoring.notify.messages import compose
from tutoring.notify.models import (
    MessageKind,
    MessageStatus,
    OutboxMessage,
    PushSubscription,
)
from tutoring.notify.service import disable_line, preference_for
from tutoring.notify.timing import REMINDER_WINDOWS
from tutoring.scheduling.models import Status, TutoringSession


def worker_name() -> str:
    """Return this worker's name in the log: host, process and thread (nothing personal)."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 100000}"


@dataclass
class Summary:
    planned: int = 0
    released: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    def add(self, outcome: MessageStatus | None) -> None:
        if outcome is not None:
            self.outcomes[outcome.value] = self.outcomes.get(outcome.value, 0) + 1

    def __str__(self) -> str:
        done = ", ".join(f"{k} {v}" for k, v in sorted(self.outcomes.items())) or "nothing due"
        return f"planned {self.planned}; {done}"


def run_once(now: datetime | None = None, *, worker: str | None = None, limit: int | None = None):
    """Plan what is due, then claim and deliver up to `limit` messages; return a summary.

    `now` fixes the clock (tests); otherwise each step reads the time afresh.
    """
    clock = (lambda: now) if now is not None else utcnow
    worker = worker or worker_name()
    limit = limit or current_app.config["NOTIFY_BATCH_SIZE"]
    summary = Summary()
    try:
        summary.released = outbox.release_stale_claims(clock())
        summary.planned = planner.plan_reminders(clock()) + planner.plan_missed(clock())
        db.session.commit()
        for message_id in outbox.claim(worker, clock(), limit):
            summary.add(deliver(message_id, worker, clock))
    finally:
        db.session.rollback()
    return summary


def why_not_needed(
    message: OutboxMessage, session: TutoringSession | None, now: datetime
) -> str | None:
    """Return why a queued message is no longer worth sending, or None to send it."""
    if not message.recipient.active:
        return "recipient_inactive"
    if session is None:
        return "session_gone"
    if message.kind in planner.REMINDERS:
        if session.status is not Status.SCHEDULED:
            return "session_cancelled" if session.status is Status.CANCELLED else "session_over"
        if message.payload.get("starts_at") != session.starts_at.isoformat():
            return "session_moved"
        if now >= session.starts_at - REMINDER_WINDOWS[message.kind].until:
            return "too_late"
        preference = preference_for(message.recipient)
        if not getattr(preference, planner.REMINDERS[message.kind]):
            return "turned_off"
    if message.kind is MessageKind.RESCHEDULED and session.status is Status.CANCELLED:
        return "session_cancelled"
    if message.kind is MessageKind.MISSED and session.status is Status.HELD:
        return "attended"
    return None


def deliver(message_id: int, worker: str, clock) -> MessageStatus | None:
    """Deliver one claimed message and record the outcome; return it."""
    app = current_app._get_current_object()
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.claimed_by != worker:
        return None
    try:
        return _deliver(app, message, worker, clock)
    except Exception as error:  # a bug of ours: log it; retries stop at the attempt limit
        db.session.rollback()
        app.logger.exception("notification %s: delivery raised", message_id)
        return _finish(
            message_id, worker, MessageStatus.PENDING, clock(), error=type(error).__name__
        )


def _deliver(app, message: OutboxMessage, worker: str, clock) -> MessageStatus:
    message_id = message.id
    session = db.session.get(TutoringSession, message.session_id) if message.session_id else None
    reason = why_not_needed(message, session, clock())
    if reason is not None:
        return _finish(message_id, worker, MessageStatus.SKIPPED, clock(), error=reason)
    recipient = message.recipient
    preference = preference_for(recipient)
    client = clients(app)[message.channel]
    address = client.address(recipient, preference)
    if address is None:
        return _finish(message_id, worker, MessageStatus.SKIPPED, clock(), error="channel_off")
    learner_preference = (
        preference_for(session.learner) if message.kind is MessageKind.MISSED else None
    )
    composed = compose(
        message, recipient, preference, session, learner_preference=learner_preference
    )
    key, recipient_id = message.dedupe_key, recipient.id
    db.session.commit()  # no transaction stays open while we talk to the outside
    try:
        result = client.send(composed, address, key=key)
    except LineBlocked as error:
        disable_line(recipient_id, clock())
        return _finish(message_id, worker, MessageStatus.FAILED, clock(), failure=error)
    except (NoDevice, PushFailure) as error:
        _forget_devices(error.expired)
        outcome = MessageStatus.PENDING if isinstance(error, PushFailure) else MessageStatus.FAILED
        return _finish(message_id, worker, outcome, clock(), failure=error)
    except TemporaryFailure as error:
        return _finish(
            message_id,
            worker,
            MessageStatus.PENDING,
            clock(),
            failure=error,
            retry_after=error.retry_after,
        )
    except PermanentFailure as error:
        return _finish(message_id, worker, MessageStatus.FAILED, clock(), failure=error)
    if isinstance(result, PushOutcome):
        _forget_devices(result.expired)
        for subscription_id in result.delivered:
            subscription = db.session.get(PushSubscription, subscription_id)
            if subscription is not None:
                subscription.last_success_at = clock()
    return _finish(message_id, worker, MessageStatus.SENT, clock())


def _forget_devices(ids: list[int]) -> None:
    for subscription_id in ids:
        subscription = db.session.get(PushSubscription, subscription_id)
        if subscription is not None:
            db.session.delete(subscription)


def _finish(
    message_id: int,
    worker: str,
    outcome: MessageStatus,
    now: datetime,
    *,
    error: str | None = None,
    failure=None,
    retry_after: float | None = None,
) -> MessageStatus:
    message = db.session.get(OutboxMessage, message_id)
    result = outbox.finish(
        message,
        worker,
        outcome,
        now,
        error=str(failure) if failure is not None else error,
        status_code=getattr(failure, "status_code", None),
        retry_after=retry_after,
    )
    db.session.commit()
    return result


# Running continuously


def run_forever(
    app: Flask,
    *,
    interval: float,
    stop: threading.Event,
    max_iterations: int | None = None,
    sleep=None,
) -> int:
    """Tick every `interval` seconds until `stop` is set or max_iterations ticks ran."""
    ticks = 0
    while not stop.is_set() and (max_iterations is None or ticks < max_iterations):
        with app.app_context():
            try:
                run_once()
            except Exception:
                app.logger.exception("notification worker: a tick failed")
            finally:
                db.session.remove()
        ticks += 1
        if max_iterations is not None and ticks >= max_iterations:
            break
        (sleep or stop.wait)(interval)
    return ticks


_thread_lock = threading.Lock()


def background_enabled(app: Flask) -> bool:
    """Tell whether this server process runs the worker too (default: in development only)."""
    setting = app.config.get("NOTIFY_WORKER_THREAD")
    if setting is None:
        return app.config.get("ENV") == "development"
    return bool(setting)


def start_background_worker(app: Flask) -> bool:
    """Start the worker beside the server, once per app; return whether it started now."""
    with _thread_lock:
        if app.extensions.get("notify_worker_started"):
            return False
        app.extensions["notify_worker_started"] = True
    stop = threading.Event()
    app.extensions["notify_worker_stop"] = stop
    interval = float(app.config["NOTIFY_POLL_SECONDS"])

    def loop() -> None:
        socketio.sleep(min(interval, 5))  # let the server finish starting
        run_forever(app, interval=interval, stop=stop, sleep=socketio.sleep)

    app.extensions["notify_worker_thread"] = socketio.start_background_task(loop)
    return True

"""Which messages are due: reminders, change notices and missed-session follow-ups.

Reminders are planned from the sessions table when their time comes (so a preference changed
last week, or a session booked by any path, is honoured); change notices are queued by the
scheduling signals inside the change's own transaction; missed-session follow-ups are queued
for sessions marked `no_show` (by the attendance sweep or a person) and, when
NOTIFY_MISSED_FROM_PRESENCE is on, for online sessions the tutor attended and the learner
never joined. Everything goes through `outbox.enqueue`, so planning twice queues once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, exists, select
from sqlalchemy.orm import joinedload

from tutoring.attendance.models import PresenceEvent
from tutoring.database import utcnow
from tutoring.extensions import db
from tutoring.i18n import program_zone
from tutoring.notify import outbox
from tutoring.notify.channels import clients
from tutoring.notify.models import Channel, MessageKind, MessageStatus, NotificationPreference
from tutoring.notify.service import preferences_for
from tutoring.notify.timing import (
    REMINDER_WINDOWS,
    change_notice_time,
    outside_quiet_hours,
    plan_reminder,
    reminder_is_due,
)
from tutoring.people.models import LearnerProfile, Role, User
from tutoring.scheduling import signals
from tutoring.scheduling.models import Mode, SessionChange, Status, TutoringSession

REMINDERS = {
    MessageKind.REMINDER_DAY: "remind_day_before",
    MessageKind.REMINDER_HOUR: "remind_hour_before",
}


def reachable(user: User, preference: NotificationPreference) -> list[Channel]:
    """Return the channels through which the user can and wants to be reached (maybe none)."""
    if not user.active:
        return []
    found = []
    for channel, client in clients(current_app._get_current_object()).items():
        if client.address(user, preference) is not None:
            found.append(channel)
    return found


def start_variant(session: TutoringSession) -> str:
    return session.starts_at.strftime("%Y%m%dT%H%MZ")


def plan_reminders(now: datetime) -> int:
    """Queue the day-before and hour-before reminders whose time has come; return how many."""
    zone = program_zone()
    horizon = max(w.before for w in REMINDER_WINDOWS.values())
    sessions = db.session.scalars(
        select(TutoringSession)
        .options(joinedload(TutoringSession.learner), joinedload(TutoringSession.tutor))
        .where(
            TutoringSession.status == Status.SCHEDULED,
            TutoringSession.starts_at > now,
            TutoringSession.starts_at <= now + horizon,
        )
        .order_by(TutoringSession.starts_at)
    ).all()
    people = {u.id for s in sessions for u in (s.learner, s.tutor)}
    preferences = preferences_for(people) if people else {}
    planned: list[outbox.Planned] = []
    for session in sessions:
        for person in (session.learner, session.tutor):
            preference = preferences[person.id]
            channels = None
            for kind, setting in REMINDERS.items():
                if not getattr(preference, setting):
                    continue
                window = REMINDER_WINDOWS[kind]
                if not (
                    session.starts_at - window.before <= now < session.starts_at - window.until
                ):
                    continue
                plan = plan_reminder(
                    kind,
                    session.starts_at,
                    quiet_start=preference.quiet_start,
                    quiet_end=preference.quiet_end,
                    zone=zone,
                )
                if plan.send_at is not None and not reminder_is_due(
                    plan, kind, session.starts_at, now
                ):
                    continue
                if channels is None:
                    channels = reachable(person, preference)
                for channel in channels:
                    planned.append(
                        outbox.Planned(
                            kind=kind,
                            channel=channel,
                            recipient_id=person.id,
                            session_id=session.id,
                            due_at=plan.send_at or now,
                            variant=start_variant(session),
                            payload={"starts_at": session.starts_at.isoformat()},
                            # Recorded, so the delivery log says why no reminder went out.
                            status=MessageStatus.PENDING if plan.send_at else MessageStatus.SKIPPED,
                            error=plan.reason,
                        )
                    )
    return outbox.enqueue(planned, now)


def _coordinators_of(learner: User) -> list[User]:
    """Return the learner's coordinator, or every active coordinator when none is named."""
    profile = db.session.get(LearnerProfile, learner.id)
    if profile is not None and profile.coordinator is not None and profile.coordinator.active:
        return [profile.coordinator]
    return list(
        db.session.scalars(
            select(User)
            .where(User.role == Role.COORDINATOR, User.active.is_(True))
            .order_by(User.id)
        )
    )


def notify_missed_session(session: TutoringSession, now: datetime | None = None) -> int:
    """Queue the follow-up for a missed session to its tutor and the learner's coordinator.

    Call it when a session becomes `no_show` (the attendance sweep, or a person marking it);
    calling it again for the same session queues nothing new. Return how many were queued.
    """
    now = now or utcnow()
    zone = program_zone()
    recipients: dict[int, User] = {}
    for person in [session.tutor, *_coordinators_of(session.learner)]:
        recipients.setdefault(person.id, person)
    preferences = preferences_for(set(recipients))
    planned = []
    for person in recipients.values():
        preference = preferences[person.id]
        due = outside_quiet_hours(now, preference.quiet_start, preference.quiet_end, zone)
        for channel in reachable(person, preference):
            planned.append(
                outbox.Planned(
                    kind=MessageKind.MISSED,
                    channel=channel,
                    recipient_id=person.id,
                    session_id=session.id,
                    due_at=due,
                    payload={"starts_at": session.starts_at.isoformat()},
                )
            )
    return outbox.enqueue(planned, now)


def missed_sessions(now: datetime) -> list[TutoringSession]:
    """Return recent sessions the learner missed: `no_show`, or (online) no presence at all.

    Only sessions that ended within NOTIFY_MISSED_LOOKBACK_HOURS count, so turning the feature
    on does not send follow-ups for old history.
    """
    config = current_app.config
    since = now - timedelta(hours=config["NOTIFY_MISSED_LOOKBACK_HOURS"])
    found = list(
        db.session.scalars(
            select(TutoringSession).where(
                TutoringSession.status == Status.NO_SHOW,
                TutoringSession.ends_at > since,
                TutoringSession.ends_at <= now,
            )
        )
    )
    if config["NOTIFY_MISSED_FROM_PRESENCE"]:
        closed = now - timedelta(minutes=config["ROOM_CLOSES_MINUTES_AFTER"])

        def present(user_column):
            return exists().where(
                and_(
                    PresenceEvent.session_id == TutoringSession.id,
                    PresenceEvent.user_id == user_column,
                )
            )

        found += db.session.scalars(
            select(TutoringSession).where(
                TutoringSession.status == Status.SCHEDULED,
                TutoringSession.mode == Mode.ONLINE,
                TutoringSession.ends_at > since,
                TutoringSession.ends_at <= closed,
                present(TutoringSession.tutor_id),  # the session took place: the tutor was there
                ~present(TutoringSession.learner_id),
            )
        )
    return found


def plan_missed(now: datetime) -> int:
    """Queue follow-ups for every recently missed session; return how many messages."""
    return sum(notify_missed_session(session, now) for session in missed_sessions(now))


# Change notices, queued inside the transaction of the change


def _participants(session: TutoringSession, actor: User | None) -> list[User]:
    """Return the learner and the tutor, less whoever made the change (they know)."""
    return [p for p in (session.learner, session.tutor) if actor is None or p.id != actor.id]


def _queue_notice(
    kind: MessageKind,
    session: TutoringSession,
    actor: User | None,
    now: datetime,
    *,
    earliest_start: datetime,
    variant: str,
    payload: dict,
) -> int:
    zone = program_zone()
    people = _participants(session, actor)
    preferences = preferences_for({p.id for p in people}) if people else {}
    planned = []
    for person in people:
        preference = preferences[person.id]
        due = change_notice_time(
            now,
            earliest_start,
            quiet_start=preference.quiet_start,
            quiet_end=preference.quiet_end,
            zone=zone,
        )
        for channel in reachable(person, preference):
            planned.append(
                outbox.Planned(
                    kind=kind,
                    channel=channel,
                    recipient_id=person.id,
                    session_id=session.id,
                    due_at=due,
                    variant=variant,
                    payload=payload,
                )
            )
    return outbox.enqueue(planned, now)


def _last_change(session: TutoringSession) -> SessionChange | None:
    return db.session.scalar(
        select(SessionChange)
        .where(SessionChange.session_id == session.id, SessionChange.action == "rescheduled")
        .order_by(SessionChange.id.desc())
        .limit(1)
    )


def on_rescheduled(actor: User | None, *, sessions: list[TutoringSession], **_extra) -> None:
    """Tell the learner and the tutor that a session moved (one notice for a moved series)."""
    now = utcnow()
    moved = []
    for session in sessions:
        change = _last_change(session)
        if change is None or not change.before or session.status is not Status.SCHEDULED:
            continue
        before = change.before
        old_start = datetime.fromisoformat(before["starts_at"])
        if old_start != session.starts_at:
            # Reminders queued for the old time are not sent; the planner queues new ones.
            outbox.skip_pending(session.id, tuple(REMINDERS), "session_moved", now)
        visible = (
            old_start != session.starts_at
            or datetime.fromisoformat(before["ends_at"]) != session.ends_at
            or before.get("mode") != session.mode.value
            or before.get("venue_id") != session.venue_id
        )
        if visible and max(old_start, session.starts_at) > now:
            moved.append((session, old_start))
    if not moved:
        return
    first, old_start = moved[0]
    _queue_notice(
        MessageKind.RESCHEDULED,
        first,
        actor,
        now,
        earliest_start=min(old_start, first.starts_at),
        variant=f"r{first.revision}",
        payload={"old_starts_at": old_start.isoformat(), "count": len(moved)},
    )


def on_cancelled(actor: User | None, *, sessions: list[TutoringSession], **_extra) -> None:
    """Tell the learner and the tutor that sessions are cancelled (one notice per action)."""
    now = utcnow()
    upcoming = []
    for session in sessions:
        outbox.skip_pending(
            session.id,
            (*REMINDERS, MessageKind.RESCHEDULED),
            "session_cancelled",
            now,
        )
        if session.starts_at > now:
            upcoming.append(session)
    if not upcoming:
        return
    upcoming.sort(key=lambda s: s.starts_at)
    first, last = upcoming[0], upcoming[-1]
    _queue_notice(
        MessageKind.CANCELLED,
        first,
        actor,
        now,
        earliest_start=first.starts_at,
        variant="",
        payload={"count": len(upcoming), "last_starts_at": last.starts_at.isoformat()},
    )


signals.sessions_rescheduled.connect(on_rescheduled)
signals.sessions_cancelled.connect(on_cancelled)

"""Rules for sessions: booking weekly series without double-booking, rescheduling, cancelling."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import joinedload

from tutoring.database import utcnow
from tutoring.extensions import db
from tutoring.i18n import program_zone
from tutoring.people.models import Role, TutorAssignment, User
from tutoring.records.service import require_consent
from tutoring.scheduling import signals
from tutoring.scheduling.models import (
    CalendarFeed,
    Kind,
    Mode,
    SessionChange,
    Status,
    TutoringSession,
    Venue,
)
from tutoring.validation import ValidationError

MIN_MINUTES = 15
MAX_MINUTES = 8 * 60


class Scope:
    """Which sessions of a series a change applies to."""

    THIS = "this"
    FOLLOWING = "following"
    ALL = (THIS, FOLLOWING)


@dataclass(frozen=True)
class Clash:
    """An existing session that overlaps a requested time for the tutor or the learner."""

    session: TutoringSession
    who: str  # "tutor" or "learner"
    requested_start: datetime

    def as_json(self) -> dict:
        return {
            "session_id": self.session.id,
            "who": self.who,
            "starts_at": self.session.starts_at.astimezone(program_zone()).isoformat(),
            "ends_at": self.session.ends_at.astimezone(program_zone()).isoformat(),
            "requested_starts_at": self.requested_start.astimezone(program_zone()).isoformat(),
        }


class ConflictError(ValidationError):
    """The tutor or the learner is already booked; nothing was stored."""

    def __init__(self, clashes: list[Clash]) -> None:
        super().__init__(
            "starts_at",
            _l("The tutor or the learner already has a session at this time."),
            code="conflict",
            details={"conflicts": [clash.as_json() for clash in clashes]},
        )
        self.clashes = clashes


# Time arithmetic in the program's zone


def local_date(moment: datetime, zone: ZoneInfo | None = None) -> date:
    """Return the calendar date of an instant in the program's zone."""
    return moment.astimezone(zone or program_zone()).date()


def at_local(day: date, clock: time, zone: ZoneInfo | None = None) -> datetime:
    """Return the UTC instant of a wall-clock time on a date in the program's zone."""
    return datetime.combine(day, clock, tzinfo=zone or program_zone()).astimezone(UTC)


def weekly_starts(
    first: datetime, until: date | None, zone: ZoneInfo | None = None
) -> list[datetime]:
    """Return the weekly starts from first up to and including the date until, at the same local time.

    Each occurrence keeps the wall-clock time in the program's zone, so a series crossing a
    daylight-saving change stays at 16:00 local.
    """
    zone = zone or program_zone()
    local = first.astimezone(zone)
    if until is None:
        return [first]
    if until < local.date():
        raise ValidationError("weekly_until", _l("The last date is before the first session."))
    starts = []
    day = local.date()
    while day <= until:
        starts.append(at_local(day, local.time().replace(tzinfo=None), zone))
        day += timedelta(weeks=1)
    limit = current_app.config["SERIES_MAX_OCCURRENCES"]
    if len(starts) > limit:
        raise ValidationError(
            "weekly_until", _l("A series may have at most %(n)d sessions.", n=limit)
        )
    return starts


def join_window(session: TutoringSession) -> tuple[datetime, datetime]:
    """Return when the session's room opens and closes."""
    config = current_app.config
    return (
        session.starts_at - timedelta(minutes=config["ROOM_OPENS_MINUTES_BEFORE"]),
        session.ends_at + timedelta(minutes=config["ROOM_CLOSES_MINUTES_AFTER"]),
    )


def room_is_open(session: TutoringSession, now: datetime | None = None) -> bool:
    """Tell whether the session's room may be entered now (never for a cancelled session)."""
    if session.status is Status.CANCELLED:
        return False
    opens, closes = join_window(session)
    return opens <= (now or utcnow()) <= closes


# Checks


def _require_person(user: User | None, role: Role, field: str) -> User:
    if user is None or user.role is not role or not user.active:
        message = (
            _l("Choose an active learner.")
            if role is Role.LEARNER
            else _l("Choose an active tutor.")
        )
        raise ValidationError(field, message)
    return user


def _check_duration(minutes: int) -> timedelta:
    if not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise ValidationError(
            "duration_minutes",
            _l("Must be between %(min)d and %(max)d.", min=MIN_MINUTES, max=MAX_MINUTES),
        )
    return timedelta(minutes=minutes)


def _check_place(mode: Mode, venue: Venue | None) -> None:
    if venue is not None and not venue.active:
        raise ValidationError("venue_id", _l("This venue is no longer in use."))
    if mode is Mode.IN_PERSON and (venue is None or venue.online):
        raise ValidationError("venue_id", _l("Choose the venue for a session in person."))


def find_clashes(
    slots: list[tuple[datetime, datetime]],
    *,
    learner_id: int,
    tutor_id: int,
    ignore_ids: set[int] = frozenset(),
) -> list[Clash]:
    """Return the non-cancelled sessions overlapping any slot for the tutor or the learner.

    Touching sessions (one ends when the other starts) do not clash. One query covers all slots.
    """
    if not slots:
        return []
    earliest = min(start for start, _ in slots)
    latest = max(end for _, end in slots)
    query = select(TutoringSession).where(
        TutoringSession.status != Status.CANCELLED,
        TutoringSession.starts_at < latest,
        TutoringSession.ends_at > earliest,
        or_(TutoringSession.tutor_id == tutor_id, TutoringSession.learner_id == learner_id),
    )
    existing = [s for s in db.session.scalars(query) if s.id not in ignore_ids]
    clashes = []
    for start, end in slots:
        for other in existing:
            if other.starts_at < end and other.ends_at > start:
                who = "tutor" if other.tutor_id == tutor_id else "learner"
                clashes.append(Clash(other, who, start))
    return clashes


def _lock_people(*user_ids: int) -> None:
    # On PostgreSQL two coordinators booking the same tutor wait for each other here, so the
    # clash check and the insert cannot interleave. SQLite serialises writers by itself.
    db.session.execute(select(User.id).where(User.id.in_(user_ids)).with_for_update()).all()


def _snapshot(session: TutoringSession) -> dict:
    return {
        "starts_at": session.starts_at.isoformat(),
        "ends_at": session.ends_at.isoformat(),
        "tutor_id": session.tutor_id,
        "venue_id": session.venue_id,
        "mode": session.mode.value,
        "kind": session.kind.value,
        "status": session.status.value,
    }


def _record(
    actor: User | None,
    session: TutoringSession,
    action: str,
    before: dict | None,
    reason: str | None = None,
) -> None:
    db.session.add(
        SessionChange(
            session_id=session.id,
            actor_id=actor.id if actor else None,
            action=action,
            before=before,
            after=_snapshot(session),
            reason=reason,
        )
    )


def ensure_assigned(actor: User | None, learner: User, tutor: User) -> None:
    """Assign the tutor to the learner unless already assigned."""
    exists = db.session.scalar(
        select(TutorAssignment.id).where(
            TutorAssignment.learner_id == learner.id, TutorAssignment.tutor_id == tutor.id
        )
    )
    if exists is None:
        db.session.add(
            TutorAssignment(
                learner_id=learner.id, tutor_id=tutor.id, assigned_by_id=actor.id if actor else None
            )
        )


# Booking, rescheduling, cancelling


def book_sessions(
    actor: User | None,
    *,
    learner: User | None,
    tutor: User | None,
    starts_at: datetime,
    duration_minutes: int,
    kind: Kind,
    mode: Mode,
    venue: Venue | None = None,
    weekly_until: date | None = None,
) -> list[TutoringSession]:
    """Create one session, or a weekly series up to weekly_until; all or nothing."""
    from tutoring.scheduling.models import Series

    learner = _require_person(learner, Role.LEARNER, "learner_id")
    require_consent(learner)
    tutor = _require_person(tutor, Role.TUTOR, "tutor_id")
    duration = _check_duration(duration_minutes)
    _check_place(mode, venue)
    starts = weekly_starts(starts_at, weekly_until)
    _lock_people(learner.id, tutor.id)
    clashes = find_clashes(
        [(start, start + duration) for start in starts], learner_id=learner.id, tutor_id=tutor.id
    )
    if clashes:
        raise ConflictError(clashes)
    series = None
    if weekly_until is not None:
        series = Series(created_by_id=actor.id if actor else None)
        db.session.add(series)
        db.session.flush()
    sessions = [
        TutoringSession(
            learner_id=learner.id,
            tutor_id=tutor.id,
            kind=kind,
            mode=mode,
            venue_id=venue.id if venue else None,
            starts_at=start,
            ends_at=start + duration,
            series_id=series.id if series else None,
            created_by_id=actor.id if actor else None,
        )
        for start in starts
    ]
    db.session.add_all(sessions)
    db.session.flush()
    for session in sessions:
        _record(actor, session, "created", None)
    ensure_assigned(actor, learner, tutor)
    db.session.flush()
    signals.sessions_booked.send(actor, sessions=sessions)
    return sessions


def _affected(session: TutoringSession, scope: str) -> list[TutoringSession]:
    """Return the session alone, or it and the later scheduled sessions of its series."""
    if scope not in Scope.ALL:
        raise ValidationError(
            "scope", _l("Must be one of: %(allowed)s.", allowed=", ".join(Scope.ALL))
        )
    if scope == Scope.THIS or session.series_id is None:
        return [session]
    return list(
        db.session.scalars(
            select(TutoringSession)
            .where(
                TutoringSession.series_id == session.series_id,
                TutoringSession.starts_at >= session.starts_at,
                TutoringSession.status == Status.SCHEDULED,
            )
            .order_by(TutoringSession.starts_at)
        )
    )


def _require_scheduled(session: TutoringSession) -> None:
    if session.status is not Status.SCHEDULED:
        raise ValidationError(
            "status", _l("Only a scheduled session can be changed."), code="conflict"
        )


_UNCHANGED = object()


def reschedule(
    actor: User,
    session: TutoringSession,
    *,
    starts_at: datetime | None = None,
    duration_minutes: int | None = None,
    tutor: User | None = None,
    mode: Mode | None = None,
    venue: Venue | None | object = _UNCHANGED,
    scope: str = Scope.THIS,
) -> list[TutoringSession]:
    """Move or change a session (or it and the following ones of its series); all or nothing.

    With scope "following", each later occurrence moves by the same change of local wall-clock
    time, so a move from Tuesday 16:00 to Wednesday 17:00 moves every later Tuesday likewise.
    """
    _require_scheduled(session)
    if (
        tutor is not None
        and tutor.id != session.tutor_id
        and actor.role not in (Role.COORDINATOR, Role.ADMIN)
    ):
        raise ValidationError("tutor_id", _l("Only a coordinator can change the tutor."))
    sessions = _affected(session, scope)
    zone = program_zone()
    shift = timedelta(0)
    if starts_at is not None:
        old_local = session.starts_at.astimezone(zone).replace(tzinfo=None)
        new_local = starts_at.astimezone(zone).replace(tzinfo=None)
        shift = new_local - old_local
    new_tutor = _require_person(tutor, Role.TUTOR, "tutor_id") if tutor is not None else None
    new_mode = mode or session.mode
    new_venue = session.venue if venue is _UNCHANGED else venue
    if (
        mode is Mode.ONLINE
        and venue is _UNCHANGED
        and new_venue is not None
        and not new_venue.online
    ):
        new_venue = None  # moving online drops the physical venue
    _check_place(new_mode, new_venue)
    duration = _check_duration(duration_minutes) if duration_minutes is not None else None

    planned = []
    for item in sessions:
        local = item.starts_at.astimezone(zone).replace(tzinfo=None) + shift
        start = at_local(local.date(), local.time(), zone)
        planned.append((item, start, start + (duration or item.duration)))
    tutor_id = new_tutor.id if new_tutor else session.tutor_id
    _lock_people(session.learner_id, tutor_id)
    clashes = find_clashes(
        [(start, end) for _, start, end in planned],
        learner_id=session.learner_id,
        tutor_id=tutor_id,
        ignore_ids={item.id for item in sessions},
    )
    if clashes:
        raise ConflictError(clashes)
    for item, start, end in planned:
        before = _snapshot(item)
        item.starts_at, item.ends_at = start, end
        item.tutor_id = tutor_id
        item.mode = new_mode
        item.venue_id = new_venue.id if new_venue else None
        if _snapshot(item) != before:
            item.revision += 1
            _record(actor, item, "rescheduled", before)
    if new_tutor is not None:
        ensure_assigned(actor, session.learner, new_tutor)
    db.session.flush()
    signals.sessions_rescheduled.send(actor, sessions=sessions)
    return sessions


def cancel(
    actor: User, session: TutoringSession, *, reason: str, scope: str = Scope.THIS
) -> list[TutoringSession]:
    """Cancel a session (or it and the following ones of its series) with a reason."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("reason", _l("Say why the session is cancelled."))
    if len(reason) > 500:
        raise ValidationError("reason", _l("At most %(n)d characters.", n=500))
    _require_scheduled(session)
    sessions = _affected(session, scope)
    now = utcnow()
    for item in sessions:
        before = _snapshot(item)
        item.status = Status.CANCELLED
        item.cancel_reason = reason
        item.cancelled_by_id = actor.id
        item.cancelled_at = now
        item.revision += 1
        _record(actor, item, "cancelled", before, reason)
    db.session.flush()
    signals.sessions_cancelled.send(actor, sessions=sessions)
    return sessions


# Reading


def visible_sessions(actor: User) -> Select:
    """Return a query of the sessions the actor may see.

    Coordinators and admins see the program; a tutor sees the sessions they teach and those
    of the learners assigned to them; a learner sees their own.
    """
    query = select(TutoringSession).options(
        joinedload(TutoringSession.learner),
        joinedload(TutoringSession.tutor),
        joinedload(TutoringSession.venue),
    )
    if actor.role in (Role.COORDINATOR, Role.ADMIN):
        return query
    if actor.role is Role.TUTOR:
        assigned = select(TutorAssignment.learner_id).where(TutorAssignment.tutor_id == actor.id)
        return query.where(
            or_(TutoringSession.tutor_id == actor.id, TutoringSession.learner_id.in_(assigned))
        )
    return query.where(TutoringSession.learner_id == actor.id)


def list_sessions(
    actor: User,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    learner_id: int | None = None,
    tutor_id: int | None = None,
    venue_id: int | None = None,
    include_cancelled: bool = True,
) -> list[TutoringSession]:
    """Return the visible sessions overlapping [start, end), filtered, in time order."""
    query = visible_sessions(actor)
    if start is not None:
        query = query.where(TutoringSession.ends_at > start)
    if end is not None:
        query = query.where(TutoringSession.starts_at < end)
    if learner_id is not None:
        query = query.where(TutoringSession.learner_id == learner_id)
    if tutor_id is not None:
        query = query.where(TutoringSession.tutor_id == tutor_id)
    if venue_id is not None:
        query = query.where(TutoringSession.venue_id == venue_id)
    if not include_cancelled:
        query = query.where(TutoringSession.status != Status.CANCELLED)
    return list(db.session.scalars(query.order_by(TutoringSession.starts_at, TutoringSession.id)))


def visible_session(actor: User, session_id: int) -> TutoringSession | None:
    """Return the session if the actor may see it, else None."""
    return db.session.scalar(visible_sessions(actor).where(TutoringSession.id == session_id))


def can_change(actor: User, session: TutoringSession) -> bool:
    """Tell whether the actor may reschedule or cancel: coordinators, admins, the session's tutor."""
    return actor.role in (Role.COORDINATOR, Role.ADMIN) or session.tutor_id == actor.id


def can_book(actor: User) -> bool:
    """Tell whether the actor may create sessions."""
    return actor.role in (Role.COORDINATOR, Role.ADMIN)


def history(session: TutoringSession) -> list[SessionChange]:
    """Return the session's changes, oldest first."""
    return list(
        db.session.scalars(
            select(SessionChange)
            .options(joinedload(SessionChange.actor))
            .where(SessionChange.session_id == session.id)
            .order_by(SessionChange.id)
        )
    )


def next_session(user: User, now: datetime | None = None) -> TutoringSession | None:
    """Return the user's next session that has not ended (scheduled only)."""
    now = now or utcnow()
    column = TutoringSession.learner_id if user.role is Role.LEARNER else TutoringSession.tutor_id
    return db.session.scalar(
        select(TutoringSession)
        .options(
            joinedload(TutoringSession.venue),
            joinedload(TutoringSession.tutor),
            joinedload(TutoringSession.learner),
        )
        .where(
            column == user.id,
            TutoringSession.status == Status.SCHEDULED,
            TutoringSession.ends_at > now,
        )
        .order_by(TutoringSession.starts_at)
        .limit(1)
    )


# Assignments


def assigned_tutors(learner: User) -> list[User]:
    """Return the tutors assigned to a learner."""
    return list(
        db.session.scalars(
            select(User)
            .join(TutorAssignment, TutorAssignment.tutor_id == User.id)
            .where(TutorAssignment.learner_id == learner.id)
            .order_by(User.name)
        )
    )


def set_assigned_tutors(actor: User, learner: User, tutors: list[User]) -> list[User]:
    """Make exactly these tutors the learner's assigned tutors."""
    for tutor in tutors:
        _require_person(tutor, Role.TUTOR, "tutor_ids")
    wanted = {tutor.id for tutor in tutors}
    current = list(
        db.session.scalars(select(TutorAssignment).where(TutorAssignment.learner_id == learner.id))
    )
    for assignment in current:
        if assignment.tutor_id not in wanted:
            db.session.delete(assignment)
    have = {assignment.tutor_id for assignment in current}
    for tutor in tutors:
        if tutor.id not in have:
            db.session.add(
                TutorAssignment(learner_id=learner.id, tutor_id=tutor.id, assigned_by_id=actor.id)
            )
    db.session.flush()
    return assigned_tutors(learner)


# Venues


def list_venues(*, active_only: bool = False) -> list[Venue]:
    """Return venues by name."""
    query = select(Venue).order_by(Venue.online, Venue.name)
    if active_only:
        query = query.where(Venue.active.is_(True))
    return list(db.session.scalars(query))


def save_venue(
    venue: Venue | None, *, name: str, address: str, online: bool, active: bool
) -> Venue:
    """Create or update a venue; names are unique."""
    name = (name or "").strip()
    if not name:
        raise ValidationError("name", _l("This field is required."))
    clash = db.session.scalar(select(Venue.id).where(Venue.name == name))
    if clash is not None and (venue is None or clash != venue.id):
        raise ValidationError("name", _l("Another venue has this name."), code="conflict")
    venue = venue or Venue()
    venue.name = name[:100]
    venue.address = (address or "").strip()[:300]
    venue.online = online
    venue.active = active
    db.session.add(venue)
    db.session.flush()
    return venue


# Calendar feeds


def calendar_feed(user: User) -> CalendarFeed:
    """Return the user's current feed, creating one the first time."""
    feed = db.session.scalar(
        select(CalendarFeed).where(
            CalendarFeed.user_id == user.id, CalendarFeed.revoked_at.is_(None)
        )
    )
    if feed is None:
        feed = CalendarFeed(user_id=user.id, token=secrets.token_urlsafe(32))
        db.session.add(feed)
        db.session.flush()
    return feed


def renew_calendar_feed(user: User) -> CalendarFeed:
    """Revoke the user's feed address and make a new one."""
    for feed in db.session.scalars(
        select(CalendarFeed).where(
            CalendarFeed.user_id == user.id, CalendarFeed.revoked_at.is_(None)
        )
    ):
        feed.revoked_at = utcnow()
    db.session.flush()
    return calendar_feed(user)


def user_for_feed(token: str) -> User | None:
    """Return the active owner of an unrevoked feed token."""
    feed = db.session.scalar(
        select(CalendarFeed).where(CalendarFeed.token == token, CalendarFeed.revoked_at.is_(None))
    )
    if feed is None or not feed.user.active:
        return None
    return feed.user


def feed_sessions(user: User, now: datetime | None = None) -> list[TutoringSession]:
    """Return what a user's calendar shows: their own sessions from 90 days ago on.

    Tutors get the sessions they teach, learners their own, coordinators the whole program.
    """
    start = (now or utcnow()) - timedelta(days=90)
    if user.role is Role.TUTOR:
        return list_sessions(user, start=start, tutor_id=user.id)
    return list_sessions(user, start=start)

"""Rules for attendance: recording presence, the sweep, statuses, overrides and their history."""

from __future__ import annotations

import enum
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, delete, func, or_, select, text
from sqlalchemy.orm import joinedload

from tutoring.attendance.intervals import (
    Interval,
    Rules,
    Span,
    build_intervals,
    derive_status,
    merge,
    summarise,
)
from tutoring.attendance.models import (
    ATTENDED,
    Attendance,
    AttendanceChange,
    AttendanceStatus,
    ClosedBy,
    LearnerStanding,
    ParticipantRole,
    PresenceEvent,
    PresenceInterval,
    PresenceKind,
    PresenceSource,
)
from tutoring.database import utcnow
from tutoring.extensions import db
from tutoring.people.models import Role, User
from tutoring.scheduling import service as scheduling
from tutoring.scheduling.models import Mode, Status, TutoringSession
from tutoring.validation import ValidationError

NOTE_MAX = 500
# Any fixed number: the PostgreSQL advisory lock that lets one process sweep at a time.
SWEEP_LOCK_KEY = 0x6D616E6162  # "manab"
MISSED = (AttendanceStatus.ABSENT, AttendanceStatus.EXCUSED)


class Outcome(enum.StrEnum):
    """What became of a session, from its participants' statuses."""

    HELD = "held"
    LEARNER_NO_SHOW = "learner_no_show"
    TUTOR_NO_SHOW = "tutor_no_show"
    NO_SHOW = "no_show"  # neither came
    CANCELLED = "cancelled"
    PENDING = "pending"  # not ended yet, or in person and not marked


def rules() -> Rules:
    """Return the program's attendance rules from the configuration."""
    return Rules.from_config(current_app.config)


def record_presence(
    user: User,
    session: TutoringSession,
    *,
    source: PresenceSource,
    kind: PresenceKind,
    client_id: str = "",
    now: datetime | None = None,
) -> PresenceEvent:
    """Store one presence event as the server saw it (server time, never the client's clock)."""
    event = PresenceEvent(
        session_id=session.id,
        user_id=user.id,
        source=source,
        kind=kind,
        client_id=client_id[:64],
        occurred_at=now or utcnow(),
    )
    db.session.add(event)
    db.session.flush()
    return event


# Outcomes


def outcome(
    session_status: Status,
    learner: AttendanceStatus | None,
    tutor: AttendanceStatus | None,
) -> Outcome:
    """Return a session's outcome from the learner's and the tutor's status.

    In person, the tutor's own presence is not recorded: the learner's status decides.
    """
    if session_status is Status.CANCELLED:
        return Outcome.CANCELLED
    if learner is None:
        return Outcome.PENDING
    if learner in MISSED and tutor in MISSED:
        return Outcome.NO_SHOW
    if learner in MISSED:
        return Outcome.LEARNER_NO_SHOW
    if tutor in MISSED:
        return Outcome.TUTOR_NO_SHOW
    return Outcome.HELD


def _apply_outcome(session: TutoringSession, result: Outcome) -> None:
    """Set the session's status held or no_show; cancelled and pending leave it alone."""
    if session.status is Status.CANCELLED or result in (Outcome.PENDING, Outcome.CANCELLED):
        return
    wanted = Status.HELD if result is Outcome.HELD else Status.NO_SHOW
    if session.status is not wanted:
        session.status = wanted


# Reading one session's attendance


@dataclass
class Participant:
    """The attendance of one participant of a session, as shown and served by the API."""

    user: User
    role: ParticipantRole
    status: AttendanceStatus | None
    derived_status: AttendanceStatus | None
    overridden: bool
    note: str | None
    minutes_present: int
    first_joined_at: datetime | None
    last_left_at: datetime | None
    spans: list[Span] = field(default_factory=list)

    @property
    def in_room(self) -> bool:
        return bool(self.spans) and self.spans[-1].left_at is None


def _participants_of(session: TutoringSession) -> list[tuple[User, ParticipantRole]]:
    return [(session.learner, ParticipantRole.LEARNER), (session.tutor, ParticipantRole.TUTOR)]


def _records(session_ids: list[int]) -> dict[tuple[int, int], Attendance]:
    if not session_ids:
        return {}
    rows = db.session.scalars(select(Attendance).where(Attendance.session_id.in_(session_ids)))
    return {(row.session_id, row.user_id): row for row in rows}


def _stored_intervals(session: TutoringSession) -> dict[int, list[Interval]]:
    found: dict[int, list[Interval]] = defaultdict(list)
    for row in db.session.scalars(
        select(PresenceInterval)
        .where(PresenceInterval.session_id == session.id)
        .order_by(PresenceInterval.joined_at)
    ):
        found[row.user_id].append(
            Interval(row.joined_at, row.left_at, row.source, row.client_id, row.closed_by)
        )
    return found


def _unswept_events(
    session: TutoringSession, records: dict[tuple[int, int], Attendance]
) -> dict[int, list[PresenceEvent]]:
    """Return the participants' events the sweep has not turned into intervals yet."""
    conditions = [
        and_(
            PresenceEvent.user_id == user.id,
            PresenceEvent.id > getattr(records.get((session.id, user.id)), "events_through", 0),
        )
        for user, _role in _participants_of(session)
    ]
    found: dict[int, list[PresenceEvent]] = defaultdict(list)
    for event in db.session.scalars(
        select(PresenceEvent).where(PresenceEvent.session_id == session.id, or_(*conditions))
    ):
        found[event.user_id].append(event)
    return found


def session_attendance(
    session: TutoringSession, now: datetime | None = None, *, settings: Rules | None = None
) -> list[Participant]:
    """Return the learner's and the tutor's attendance, the newest presence included.

    Swept intervals come from attendance_intervals; events not swept yet are read live. A
    status a person set stands; otherwise the status is what the rules derive once the
    session has ended.
    """
    now = now or utcnow()
    settings = settings or rules()
    records = _records([session.id])
    stored = _stored_intervals(session)
    live = _unswept_events(session, records)
    participants = []
    for user, role in _participants_of(session):
        record = records.get((session.id, user.id))
        intervals = stored.get(user.id, []) + build_intervals(
            live.get(user.id, []), stale=settings.stale, now=now
        )
        spans = merge(intervals, settings.merge_gap)
        summary = summarise(spans, session.starts_at, session.ends_at, now)
        derived = (
            None
            if session.status is Status.CANCELLED
            else derive_status(
                spans,
                starts_at=session.starts_at,
                ends_at=session.ends_at,
                now=now,
                rules=settings,
                absence_counts=session.mode is Mode.ONLINE,
            )
        )
        overridden = record is not None and record.overridden
        participants.append(
            Participant(
                user=user,
                role=role,
                status=record.status if overridden else derived,
                derived_status=derived,
                overridden=overridden,
                note=record.note if record else None,
                minutes_present=summary.minutes_present,
                first_joined_at=summary.first_joined_at,
                last_left_at=summary.last_left_at,
                spans=spans,
            )
        )
    return participants


# Who may see and change what


def can_set_status(actor: User, session: TutoringSession, user_id: int) -> bool:
    """Tell whether the actor may set this participant's status.

    Coordinators and admins set anyone's; the session's tutor sets the learner's, not their own.
    """
    if actor.role in (Role.COORDINATOR, Role.ADMIN):
        return True
    return actor.id == session.tutor_id and user_id == session.learner_id


def sees_notes(actor: User) -> bool:
    """Tell whether the actor sees status notes and the change history (staff only)."""
    return actor.role.is_staff


def marking_opens(session: TutoringSession) -> datetime:
    """Return when attendance may first be set: when the room opens."""
    return scheduling.join_window(session)[0]


# Setting a status


def _record_for(session: TutoringSession, user_id: int) -> Attendance:
    record = db.session.scalar(
        select(Attendance).where(Attendance.session_id == session.id, Attendance.user_id == user_id)
    )
    if record is None:
        role = ParticipantRole.LEARNER if user_id == session.learner_id else ParticipantRole.TUTOR
        record = Attendance(
            session_id=session.id,
            user_id=user_id,
            role=role,
            overridden=False,
            minutes_present=0,
            events_through=0,
        )
        db.session.add(record)
    return record


def parse_status(value: object) -> AttendanceStatus:
    """Return the status named by value, or raise ValidationError on the field `status`."""
    if value is None or value == "":
        raise ValidationError("status", _l("This field is required."))
    try:
        return AttendanceStatus(value)
    except (ValueError, TypeError):
        allowed = ", ".join(s.value for s in AttendanceStatus)
        raise ValidationError(
            "status", _l("Must be one of: %(allowed)s.", allowed=allowed)
        ) from None


def parse_note(value: object) -> str | None:
    """Return the stripped note (None when empty), or raise ValidationError on `note`."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError("note", _l("Must be text."))
    value = value.strip()
    if len(value) > NOTE_MAX:
        raise ValidationError("note", _l("At most %(n)d characters.", n=NOTE_MAX))
    return value or None


def set_status(
    actor: User,
    session: TutoringSession,
    user_id: int,
    status: AttendanceStatus,
    note: str | None = None,
    *,
    now: datetime | None = None,
) -> Attendance:
    """Set a participant's status by hand, keeping the change; the caller checked permission.

    The status then stands against what the presence says. A session in person is settled at
    once (held or no-show); an online one when it has ended.
    """
    now = now or utcnow()
    if session.status is Status.CANCELLED:
        raise ValidationError(
            "status", _l("A cancelled session has no attendance."), code="conflict"
        )
    if now < marking_opens(session):
        raise ValidationError(
            "status", _l("Attendance can be recorded once the room opens."), code="conflict"
        )
    if user_id not in (session.learner_id, session.tutor_id):
        raise ValidationError("user_id", _l("Not a participant of this session."))
    record = _record_for(session, user_id)
    before = record.status
    record.status = status
    record.overridden = True
    record.note = note
    record.updated_by_id = actor.id
    db.session.add(
        AttendanceChange(
            session_id=session.id,
            user_id=user_id,
            actor_id=actor.id,
            before=before,
            after=status,
            note=note,
            created_at=now,
        )
    )
    db.session.flush()
    if session.mode is Mode.IN_PERSON or now >= session.ends_at:
        learner, tutor = _statuses(session)
        _apply_outcome(session, outcome(session.status, learner, tutor))
    db.session.flush()
    if user_id == session.learner_id:
        refresh_standing({user_id})
    return record


def _statuses(session: TutoringSession) -> tuple[AttendanceStatus | None, AttendanceStatus | None]:
    records = _records([session.id])
    learner = records.get((session.id, session.learner_id))
    tutor = records.get((session.id, session.tutor_id))
    return (learner.status if learner else None, tutor.status if tutor else None)


def history(session: TutoringSession) -> list[AttendanceChange]:
    """Return every status change of the session's participants, oldest first."""
    return list(
        db.session.scalars(
            select(AttendanceChange)
            .options(joinedload(AttendanceChange.actor), joinedload(AttendanceChange.user))
            .where(AttendanceChange.session_id == session.id)
            .order_by(AttendanceChange.created_at, AttendanceChange.id)
        )
    )


def refresh_standing(learner_ids: set[int] | list[int]) -> None:
    """Recompute where these learners stand: last attended session, absences in a row."""
    if not learner_ids:
        return
    rows = db.session.execute(
        select(TutoringSession.learner_id, TutoringSession.starts_at, Attendance.status)
        .join(
            Attendance,
            and_(
                Attendance.session_id == TutoringSession.id,
                Attendance.user_id == TutoringSession.learner_id,
            ),
        )
        .where(
            TutoringSession.learner_id.in_(sorted(learner_ids)),
            TutoringSession.status != Status.CANCELLED,
            Attendance.status.in_([*ATTENDED, AttendanceStatus.ABSENT]),
        )
        .order_by(TutoringSession.learner_id, TutoringSession.starts_at.desc())
    )
    standing: dict[int, tuple[datetime | None, int, bool]] = {
        learner_id: (None, 0, False) for learner_id in learner_ids
    }
    for learner_id, starts_at, status in rows:
        last, in_a_row, done = standing[learner_id]
        if done:
            continue
        if status is AttendanceStatus.ABSENT:
            standing[learner_id] = (None, in_a_row + 1, False)
        else:
            standing[learner_id] = (starts_at, in_a_row, True)
    existing = {
        row.learner_id: row
        for row in db.session.scalars(
            select(LearnerStanding).where(LearnerStanding.learner_id.in_(sorted(learner_ids)))
        )
    }
    for learner_id, (last, in_a_row, _done) in standing.items():
        row = existing.get(learner_id)
        if row is None:
            row = LearnerStanding(learner_id=learner_id)
            db.session.add(row)
        row.last_attended_at = last
        row.absences_in_a_row = in_a_row
    db.session.flush()


# The sweep


@dataclass
class SweepResult:
    """What one sweep did."""

    settled: int = 0  # participants whose events were turned into intervals
    intervals: int = 0  # intervals stored
    closed_by_sweep: int = 0  # of which no leave had arrived
    derived: int = 0  # sessions whose statuses were (re)derived
    more: bool = False  # work remains beyond this batch
    skipped: bool = False  # another process holds the sweep

    def add(self, other: SweepResult) -> None:
        self.settled += other.settled
        self.intervals += other.intervals
        self.closed_by_sweep += other.closed_by_sweep
        self.derived += other.derived


def _sweep_lock() -> bool:
    """Take the sweep's lock for this transaction (PostgreSQL); SQLite serialises writers."""
    if db.engine.dialect.name != "postgresql":
        return True
    return bool(
        db.session.execute(
            text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": SWEEP_LOCK_KEY}
        ).scalar()
    )


def _window_minutes() -> tuple[timedelta, timedelta]:
    config = current_app.config
    return (
        timedelta(minutes=config["ROOM_OPENS_MINUTES_BEFORE"]),
        timedelta(minutes=config["ROOM_CLOSES_MINUTES_AFTER"]),
    )


# The attendance record a presence event is (or will be) folded into.
_is_record_of_event = and_(
    Attendance.session_id == PresenceEvent.session_id,
    Attendance.user_id == PresenceEvent.user_id,
)


def _pending_events(session_ids: list[int]) -> dict[tuple[int, int], tuple[datetime, bool]]:
    """Return, per (session, participant) with unswept events: the last event time, any heartbeat."""
    if not session_ids:
        return {}
    query = (
        select(
            PresenceEvent.session_id,
            PresenceEvent.user_id,
            func.max(PresenceEvent.occurred_at),
            func.max(PresenceEvent.id),
            func.count(PresenceEvent.id).filter(PresenceEvent.source == PresenceSource.PAGE),
        )
        .join(TutoringSession, TutoringSession.id == PresenceEvent.session_id)
        .outerjoin(Attendance, _is_record_of_event)
        .where(
            PresenceEvent.session_id.in_(session_ids),
            or_(
                PresenceEvent.user_id == TutoringSession.learner_id,
                PresenceEvent.user_id == TutoringSession.tutor_id,
            ),
            PresenceEvent.id > func.coalesce(Attendance.events_through, 0),
        )
        .group_by(PresenceEvent.session_id, PresenceEvent.user_id)
    )
    return {
        (session_id, user_id): (last_at, beats > 0)
        for session_id, user_id, last_at, _last_id, beats in db.session.execute(query)
    }


def _settle(
    session: TutoringSession,
    user_id: int,
    record: Attendance,
    now: datetime,
    settings: Rules,
    result: SweepResult,
) -> None:
    """Turn a quiet participant's unswept events into stored, closed intervals."""
    events = list(
        db.session.scalars(
            select(PresenceEvent).where(
                PresenceEvent.session_id == session.id,
                PresenceEvent.user_id == user_id,
                PresenceEvent.id > record.events_through,
            )
        )
    )
    if not events:
        return
    intervals = build_intervals(events, stale=settings.stale, now=now, settle=True)
    for interval in intervals:
        db.session.add(
            PresenceInterval(
                session_id=session.id,
                user_id=user_id,
                source=interval.source,
                client_id=interval.client_id,
                joined_at=interval.joined_at,
                left_at=interval.left_at,
                closed_by=interval.closed_by,
                created_at=now,
            )
        )
        result.intervals += 1
        result.closed_by_sweep += interval.closed_by is ClosedBy.SWEEP
    record.events_through = max(event.id for event in events)
    result.settled += 1


def _derive(
    session: TutoringSession, records: dict[tuple[int, int], Attendance], now: datetime
) -> None:
    """Store the participants' derived statuses and minutes, and the session's outcome."""
    statuses = {}
    for participant in session_attendance(session, now):
        record = records.get((session.id, participant.user.id))
        if record is None:
            record = _record_for(session, participant.user.id)
            records[(session.id, participant.user.id)] = record
        record.derived_status = participant.derived_status
        record.minutes_present = participant.minutes_present
        record.first_joined_at = participant.first_joined_at
        record.last_left_at = participant.last_left_at
        record.derived_at = now
        if not record.overridden and record.status != participant.derived_status:
            db.session.add(
                AttendanceChange(
                    session_id=session.id,
                    user_id=participant.user.id,
                    actor_id=None,
                    before=record.status,
                    after=participant.derived_status,
                    created_at=now,
                )
            )
            record.status = participant.derived_status
        statuses[participant.role] = record.status
    _apply_outcome(
        session,
        outcome(
            session.status,
            statuses.get(ParticipantRole.LEARNER),
            statuses.get(ParticipantRole.TUTOR),
        ),
    )


def prune_presence_events(now: datetime | None = None, *, batch: int = 5000) -> int:
    """Delete raw presence reports of sessions that ended long ago; return how many.

    The stored intervals and statuses are the attendance record; the raw reports only feed
    them, at two a minute per person, and say when a young person was online. Deleted are,
    for sessions that ended more than ATTENDANCE_EVENT_RETENTION_DAYS ago, the reports the
    sweep has already folded into intervals and those of observers (never folded). Reports
    not yet folded stay, so `attendance sweep --backfill` can still use them. Handles at
    most `batch` rows: call again while it returns `batch`.
    """
    days = current_app.config["ATTENDANCE_EVENT_RETENTION_DAYS"]
    if not days:
        return 0
    cutoff = (now or utcnow()) - timedelta(days=days)
    folded = (
        select(PresenceEvent.id)
        .join(TutoringSession, TutoringSession.id == PresenceEvent.session_id)
        .outerjoin(Attendance, _is_record_of_event)
        .where(
            TutoringSession.ends_at < cutoff,
            or_(
                and_(
                    PresenceEvent.user_id != TutoringSession.learner_id,
                    PresenceEvent.user_id != TutoringSession.tutor_id,
                ),
                PresenceEvent.id <= Attendance.events_through,
            ),
        )
        .limit(batch)
    )
    ids = list(db.session.scalars(folded))
    if ids:
        db.session.execute(delete(PresenceEvent).where(PresenceEvent.id.in_(ids)))
    return len(ids)


def sweep(now: datetime | None = None, *, batch: int = 200, backfill: bool = False) -> SweepResult:
    """Close the intervals of participants gone quiet and derive the statuses of ended sessions.

    Idempotent: run it as often as you like (the server runs it every minute, and once when
    it starts; `flask --app wsgi attendance sweep` runs it by hand). A participant is settled
    once no event of theirs arrived for ATTENDANCE_STALE_SECONDS: their open intervals are
    closed at the last sign of presence and stored, so later runs, restarts or changed
    settings do not rewrite them. Someone who sends no heartbeats (a whiteboard client
    without the room page) is settled only once the room has closed. Cancelled sessions
    are left alone.

    Sessions are derived automatically only when they ended in the last
    ATTENDANCE_DERIVE_WITHIN_DAYS: older sessions never derived (from before attendance was
    installed, or after a long outage) are derived only with `backfill`, so an upgrade does
    not turn a history without presence into no-shows. Handles at most `batch` sessions;
    `more` tells whether to call again.
    """
    now = now or utcnow()
    result = SweepResult()
    if not _sweep_lock():
        result.skipped = True
        return result
    settings = rules()
    opens_before, closes_after = _window_minutes()
    lookback = now - timedelta(hours=current_app.config["ATTENDANCE_SWEEP_LOOKBACK_HOURS"])
    learner_record = Attendance
    recent = list(
        db.session.scalars(
            select(TutoringSession.id).where(
                TutoringSession.status != Status.CANCELLED,
                TutoringSession.starts_at <= now + opens_before,
                TutoringSession.ends_at >= lookback - closes_after,
            )
        )
    )
    undecided = list(
        db.session.scalars(
            select(TutoringSession.id)
            .outerjoin(
                learner_record,
                and_(
                    learner_record.session_id == TutoringSession.id,
                    learner_record.user_id == TutoringSession.learner_id,
                ),
            )
            .where(
                TutoringSession.status != Status.CANCELLED,
                TutoringSession.ends_at <= now,
                learner_record.derived_at.is_(None),
                *(
                    []
                    if backfill
                    else [
                        TutoringSession.ends_at
                        >= now - timedelta(days=current_app.config["ATTENDANCE_DERIVE_WITHIN_DAYS"])
                    ]
                ),
            )
            .order_by(TutoringSession.ends_at)
            .limit(batch + 1)
        )
    )
    result.more = len(undecided) > batch
    undecided = undecided[:batch]
    pending = _pending_events(sorted(set(recent) | set(undecided)))
    to_visit = sorted(set(undecided) | {session_id for session_id, _ in pending})
    sessions = db.session.scalars(
        select(TutoringSession)
        .options(joinedload(TutoringSession.learner), joinedload(TutoringSession.tutor))
        .where(TutoringSession.id.in_(to_visit))
    ).all()
    records = _records(to_visit)
    undecided_ids = set(undecided)
    derived_learners: set[int] = set()
    for session in sessions:
        room_closed = now > session.ends_at + closes_after
        settled_any = False
        for user_id in (session.learner_id, session.tutor_id):
            if (session.id, user_id) not in pending:
                continue
            last_at, beats = pending[(session.id, user_id)]
            quiet = now - last_at > settings.stale
            if quiet and (beats or room_closed):
                record = records.get((session.id, user_id)) or _record_for(session, user_id)
                records[(session.id, user_id)] = record
                _settle(session, user_id, record, now, settings, result)
                settled_any = True
        ended = now >= session.ends_at
        if ended and (
            session.id in undecided_ids
            or settled_any
            or any((session.id, u) in pending for u in (session.learner_id, session.tutor_id))
        ):
            db.session.flush()
            _derive(session, records, now)
            derived_learners.add(session.learner_id)
            result.derived += 1
    db.session.flush()
    refresh_standing(derived_learners)
    return result

"""Reading attendance across sessions: the log, per-learner summaries, weeks and early warnings.

Every function answers with a fixed number of SQL queries, whatever the number of rows: the
rows come from joins and aggregates, never from loading related objects one by one.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, and_, case, func, literal, or_, select, true
from sqlalchemy.orm import aliased

from tutoring.attendance.models import ATTENDED, Attendance, AttendanceStatus, LearnerStanding
from tutoring.attendance.service import Outcome, outcome
from tutoring.database import utcnow
from tutoring.extensions import db
from tutoring.i18n import program_zone
from tutoring.people.models import Role, TutorAssignment, User
from tutoring.scheduling import service as scheduling
from tutoring.scheduling.models import Kind, Mode, Status, TutoringSession, Venue
from tutoring.scheduling.schema import range_bound
from tutoring.validation import ValidationError

S = TutoringSession
Learner = aliased(User, name="learner")
Tutor = aliased(User, name="tutor")
LearnerRecord = aliased(Attendance, name="learner_attendance")
TutorRecord = aliased(Attendance, name="tutor_attendance")

UNRECORDED = "unrecorded"  # status filter: the learner's status is not known
TUTOR_ABSENT = "tutor_absent"  # status filter: the tutor did not come
STATUS_FILTERS = (*(s.value for s in AttendanceStatus), UNRECORDED, TUTOR_ABSENT)
MAX_CHART_WEEKS = 60
DEFAULT_WEEKS = 8


# Filters


@dataclass(frozen=True)
class Filters:
    """What the log, summaries and exports are narrowed to; bounds are aware instants."""

    start: datetime | None = None
    end: datetime | None = None  # exclusive
    learner_id: int | None = None
    tutor_id: int | None = None
    venue_id: int | None = None
    mode: Mode | None = None
    status: str | None = None
    # The text given, to fill the form and build links again.
    raw: tuple[tuple[str, str], ...] = ()

    def args(self, **changes: object) -> dict[str, object]:
        """Return the filters as query arguments, e.g. for an export link or the next page."""
        values: dict[str, object] = dict(self.raw)
        values.update(changes)
        return {k: v for k, v in values.items() if v not in (None, "")}


def _whole(args: Mapping[str, str], name: str) -> int | None:
    value = args.get(name)
    if value is None or value == "":
        return None
    if not value.isdigit() or len(value) > 10:
        raise ValidationError(name, _l("Must be a whole number."))
    return int(value)


def parse_filters(args: Mapping[str, str], *, default_weeks: int | None = None) -> Filters:
    """Return the filters of a query string; raise ValidationError naming the bad field.

    `from` and `to` take a date (whole days in the program's zone, `to` included) or a
    date-time. With default_weeks, a missing range means the last that many weeks.
    """
    start = range_bound(args.get("from"), "from", end=False)
    end = range_bound(args.get("to"), "to", end=True)
    raw = {name: args.get(name, "") for name in ("from", "to")}
    if default_weeks and start is None and end is None:
        today = datetime.now(program_zone()).date()
        first = today - timedelta(weeks=default_weeks) + timedelta(days=1)
        raw = {"from": first.isoformat(), "to": today.isoformat()}
        start = datetime.combine(first, time(), tzinfo=program_zone())
        end = datetime.combine(today + timedelta(days=1), time(), tzinfo=program_zone())
    if start and end and end <= start:
        raise ValidationError("to", _l("Must be after `from`."))
    mode = args.get("mode") or None
    if mode is not None and mode not in {m.value for m in Mode}:
        raise ValidationError(
            "mode", _l("Must be one of: %(allowed)s.", allowed=", ".join(m.value for m in Mode))
        )
    status = args.get("status") or None
    if status is not None and status not in STATUS_FILTERS:
        raise ValidationError(
            "status", _l("Must be one of: %(allowed)s.", allowed=", ".join(STATUS_FILTERS))
        )
    ids = {name: _whole(args, name) for name in ("learner_id", "tutor_id", "venue_id")}
    raw.update({name: str(value) for name, value in ids.items() if value is not None})
    raw.update({"mode": mode or "", "status": status or ""})
    return Filters(
        start=start,
        end=end,
        mode=Mode(mode) if mode else None,
        status=status,
        raw=tuple(raw.items()),
        **ids,
    )


def page_arguments(args: Mapping[str, str], default_size: int) -> tuple[int, int]:
    """Return (page, per_page) from the query string; raise ValidationError naming the field."""
    page = _whole(args, "page")
    page = 1 if page is None else page
    per_page = _whole(args, "per_page")
    per_page = default_size if per_page is None else per_page
    largest = current_app.config["ATTENDANCE_MAX_PAGE_SIZE"]
    if page < 1 or page > 100_000:
        raise ValidationError(
            "page", _l("Must be between %(min)d and %(max)d.", min=1, max=100_000)
        )
    if not 1 <= per_page <= largest:
        raise ValidationError(
            "per_page", _l("Must be between %(min)d and %(max)d.", min=1, max=largest)
        )
    return page, per_page


# Scope: what the actor may see


def _session_scope(actor: User) -> ColumnElement[bool]:
    """Return the condition on sessions the actor may see (the same rule as the schedule)."""
    clause = scheduling.visible_sessions(actor).whereclause
    return clause if clause is not None else true()


def _learner_scope(actor: User) -> ColumnElement[bool]:
    """Return the condition on learners (the Learner alias) the actor may see."""
    if actor.role in (Role.COORDINATOR, Role.ADMIN):
        return true()
    if actor.role is Role.TUTOR:
        assigned = select(TutorAssignment.learner_id).where(TutorAssignment.tutor_id == actor.id)
        taught = select(S.learner_id).where(S.tutor_id == actor.id)
        return or_(Learner.id.in_(assigned), Learner.id.in_(taught))
    return Learner.id == actor.id


def _conditions(
    actor: User, filters: Filters, now: datetime, *, with_status: bool = True
) -> list[ColumnElement[bool]]:
    conditions = [S.status != Status.CANCELLED, S.starts_at <= now, _session_scope(actor)]
    if filters.start is not None:
        conditions.append(S.starts_at >= filters.start)
    if filters.end is not None:
        conditions.append(S.starts_at < filters.end)
    if filters.learner_id is not None:
        conditions.append(S.learner_id == filters.learner_id)
    if filters.tutor_id is not None:
        conditions.append(S.tutor_id == filters.tutor_id)
    if filters.venue_id is not None:
        conditions.append(S.venue_id == filters.venue_id)
    if filters.mode is not None:
        conditions.append(S.mode == filters.mode)
    if with_status and filters.status:
        if filters.status == UNRECORDED:
            conditions.append(LearnerRecord.status.is_(None))
        elif filters.status == TUTOR_ABSENT:
            conditions.append(TutorRecord.status == AttendanceStatus.ABSENT)
        else:
            conditions.append(LearnerRecord.status == AttendanceStatus(filters.status))
    return conditions


def _joined(query: Select, *, names: bool = True, records: bool = True) -> Select:
    """Join what a query needs: names and venue for rows shown, attendance rows for statuses."""
    if names:
        query = (
            query.join(Learner, Learner.id == S.learner_id)
            .join(Tutor, Tutor.id == S.tutor_id)
            .outerjoin(Venue, Venue.id == S.venue_id)
        )
    if records:
        query = query.outerjoin(
            LearnerRecord,
            and_(LearnerRecord.session_id == S.id, LearnerRecord.user_id == S.learner_id),
        ).outerjoin(
            TutorRecord, and_(TutorRecord.session_id == S.id, TutorRecord.user_id == S.tutor_id)
        )
    return query


# The log


@dataclass(frozen=True)
class Side:
    """One participant in a log row."""

    user_id: int
    name: str
    status: AttendanceStatus | None
    minutes_present: int | None
    first_joined_at: datetime | None
    last_left_at: datetime | None
    overridden: bool
    note: str | None


@dataclass(frozen=True)
class LogRow:
    """One session in the attendance log."""

    session_id: int
    starts_at: datetime
    ends_at: datetime
    kind: Kind
    mode: Mode
    venue_id: int | None
    venue_name: str | None
    session_status: Status
    learner: Side
    tutor: Side

    @property
    def outcome(self) -> Outcome:
        return outcome(self.session_status, self.learner.status, self.tutor.status)

    @property
    def duration_minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)


_LOG_COLUMNS = (
    S.id,
    S.starts_at,
    S.ends_at,
    S.kind,
    S.mode,
    S.venue_id,
    Venue.name,
    S.status,
    Learner.id,
    Learner.name,
    LearnerRecord.status,
    LearnerRecord.minutes_present,
    LearnerRecord.first_joined_at,
    LearnerRecord.last_left_at,
    LearnerRecord.overridden,
    LearnerRecord.note,
    Tutor.id,
    Tutor.name,
    TutorRecord.status,
    TutorRecord.minutes_present,
    TutorRecord.first_joined_at,
    TutorRecord.last_left_at,
    TutorRecord.overridden,
    TutorRecord.note,
)


def _log_row(row) -> LogRow:
    return LogRow(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        row[5],
        row[6],
        row[7],
        Side(*row[8:14], bool(row[14]), row[15]),
        Side(*row[16:22], bool(row[22]), row[23]),
    )


def _log_query(actor: User, filters: Filters, now: datetime) -> Select:
    return (
        _joined(select(*_LOG_COLUMNS).select_from(S))
        .where(*_conditions(actor, filters, now))
        .order_by(S.starts_at.desc(), S.id.desc())
    )


@dataclass(frozen=True)
class Page:
    rows: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def log_page(
    actor: User, filters: Filters, *, page: int, per_page: int, now: datetime | None = None
) -> Page:
    """Return one page of the log, newest first: sessions that have started, not cancelled."""
    now = now or utcnow()
    # Learner and tutor always exist (foreign keys): the count joins attendance rows only
    # when a status filter needs them.
    total = db.session.scalar(
        _joined(
            select(func.count()).select_from(S), names=False, records=bool(filters.status)
        ).where(*_conditions(actor, filters, now))
    )
    # The page's sessions are chosen from the index alone, then joined: a deep page skips
    # index entries, not joined rows.
    chosen = (
        _joined(select(S.id).select_from(S), names=False, records=bool(filters.status))
        .where(*_conditions(actor, filters, now))
        .order_by(S.starts_at.desc(), S.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    rows = db.session.execute(
        _joined(select(*_LOG_COLUMNS).select_from(S))
        .where(S.id.in_(chosen.scalar_subquery()))
        .order_by(S.starts_at.desc(), S.id.desc())
    )
    return Page([_log_row(row) for row in rows], total or 0, page, per_page)


def iter_log(actor: User, filters: Filters, now: datetime | None = None) -> Iterator[LogRow]:
    """Yield every log row of the filters, newest first, fetched in batches (for exports)."""
    query = _log_query(actor, filters, now or utcnow()).execution_options(yield_per=2000)
    for row in db.session.execute(query):
        yield _log_row(row)


# Per-learner summary


@dataclass(frozen=True)
class LearnerSummary:
    learner_id: int
    name: str
    planned: int  # sessions that have ended, not cancelled
    attended: int
    missed: int
    excused: int
    last_attended_at: datetime | None
    absences_in_a_row: int  # missed since the last attended session, up to now

    @property
    def rate(self) -> float | None:
        """Return attended / (attended + missed); excused and unmarked sessions do not count."""
        counted = self.attended + self.missed
        return self.attended / counted if counted else None


def learner_summaries(
    actor: User,
    filters: Filters,
    *,
    page: int,
    per_page: int,
    sort: str = "name",
    now: datetime | None = None,
) -> Page:
    """Return a page of per-learner figures over the filtered range, by name or lowest rate first.

    Planned, attended, missed and excused count the range's ended sessions; the last attended
    session and the absences in a row are where the learner stands today.
    """
    now = now or utcnow()
    attended = func.sum(case((LearnerRecord.status.in_(ATTENDED), 1), else_=0))
    missed = func.sum(case((LearnerRecord.status == AttendanceStatus.ABSENT, 1), else_=0))
    excused = func.sum(case((LearnerRecord.status == AttendanceStatus.EXCUSED, 1), else_=0))
    conditions = [*_conditions(actor, filters, now, with_status=False), S.ends_at <= now]
    grouped = (
        select(
            S.learner_id.label("learner_id"),
            func.count(S.id).label("planned"),
            attended.label("attended"),
            missed.label("missed"),
            excused.label("excused"),
        )
        .select_from(S)
        .outerjoin(
            LearnerRecord,
            and_(LearnerRecord.session_id == S.id, LearnerRecord.user_id == S.learner_id),
        )
        .where(*conditions)
        .group_by(S.learner_id)
        .subquery()
    )
    # At most one row per learner of the program: aggregated once, sorted and cut here.
    rows = db.session.execute(
        select(
            grouped.c.learner_id,
            Learner.name,
            grouped.c.planned,
            grouped.c.attended,
            grouped.c.missed,
            grouped.c.excused,
            LearnerStanding.last_attended_at,
            LearnerStanding.absences_in_a_row,
        )
        .join(Learner, Learner.id == grouped.c.learner_id)
        .outerjoin(LearnerStanding, LearnerStanding.learner_id == grouped.c.learner_id)
    ).all()
    summaries = [
        LearnerSummary(
            row.learner_id,
            row.name,
            int(row.planned or 0),
            int(row.attended or 0),
            int(row.missed or 0),
            int(row.excused or 0),
            row.last_attended_at,
            int(row.absences_in_a_row or 0),
        )
        for row in rows
    ]
    if sort == "rate":
        summaries.sort(key=lambda s: (s.rate is None, s.rate or 0, s.name, s.learner_id))
    else:
        summaries.sort(key=lambda s: (s.name, s.learner_id))
    total = len(summaries)
    summaries = summaries[(page - 1) * per_page : page * per_page]
    return Page(summaries, total or 0, page, per_page)


def _aware(value: datetime | str | None) -> datetime | None:
    """Return an aggregate's datetime as aware UTC (SQLite hands MAX() back as text)."""
    from datetime import UTC

    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Weeks


@dataclass(frozen=True)
class Week:
    monday: date
    planned: int
    attended: int
    missed: int
    excused: int

    @property
    def rate(self) -> float | None:
        counted = self.attended + self.missed
        return self.attended / counted if counted else None


def weekly(actor: User, filters: Filters, now: datetime | None = None) -> list[Week]:
    """Return the learners' attendance per week (Monday to Sunday, program zone) of the range.

    Status filters do not apply: the chart shows every session of the other filters. At most
    the last MAX_CHART_WEEKS weeks of the range.
    """
    now = now or utcnow()
    zone = program_zone()
    if filters.end is None:
        return []
    last_day = (filters.end - timedelta(microseconds=1)).astimezone(zone).date()
    first_day = filters.start.astimezone(zone).date() if filters.start else last_day
    first_monday = first_day - timedelta(days=first_day.weekday())
    last_monday = last_day - timedelta(days=last_day.weekday())
    count = (last_monday - first_monday).days // 7 + 1
    if count > MAX_CHART_WEEKS:
        first_monday = last_monday - timedelta(weeks=MAX_CHART_WEEKS - 1)
        count = MAX_CHART_WEEKS
    mondays = [first_monday + timedelta(weeks=n) for n in range(count)]
    bounds = [datetime.combine(m, time(), tzinfo=zone) for m in mondays]
    bounds.append(bounds[-1] + timedelta(weeks=1))
    # Week boundaries are computed here, in the program's zone, so the query is the same on
    # SQLite and PostgreSQL and right across daylight-saving changes.

    def bucket_of(low: int, high: int):
        """Return the week index of starts_at among weeks low..high-1: a binary search in SQL."""
        if high - low == 1:
            return literal(low)
        middle = (low + high) // 2
        return case(
            (S.starts_at < bounds[middle], bucket_of(low, middle)), else_=bucket_of(middle, high)
        )

    bucket = bucket_of(0, count)
    conditions = [*_conditions(actor, filters, now, with_status=False), S.ends_at <= now]
    rows = (
        select(
            bucket.label("week"),
            case((LearnerRecord.status.in_(ATTENDED), 1), else_=0).label("attended"),
            case((LearnerRecord.status == AttendanceStatus.ABSENT, 1), else_=0).label("missed"),
            case((LearnerRecord.status == AttendanceStatus.EXCUSED, 1), else_=0).label("excused"),
        )
        .select_from(S)
        .outerjoin(
            LearnerRecord,
            and_(LearnerRecord.session_id == S.id, LearnerRecord.user_id == S.learner_id),
        )
        .where(*conditions, S.starts_at >= bounds[0], S.starts_at < bounds[-1])
        .subquery()
    )
    totals = {
        row.week: row
        for row in db.session.execute(
            select(
                rows.c.week,
                func.count().label("planned"),
                func.sum(rows.c.attended).label("attended"),
                func.sum(rows.c.missed).label("missed"),
                func.sum(rows.c.excused).label("excused"),
            ).group_by(rows.c.week)
        )
    }
    weeks = []
    for n, monday in enumerate(mondays):
        row = totals.get(n)
        weeks.append(
            Week(
                monday,
                int(row.planned) if row else 0,
                int(row.attended or 0) if row else 0,
                int(row.missed or 0) if row else 0,
                int(row.excused or 0) if row else 0,
            )
        )
    return weeks


# Early warnings


class Reason:
    MISSED_IN_A_ROW = "missed_in_a_row"
    IDLE = "idle"
    NEVER = "never"


@dataclass(frozen=True)
class EarlyWarning:
    learner_id: int
    name: str
    reasons: tuple[str, ...]
    absences_in_a_row: int
    last_attended_at: datetime | None
    idle_days: int | None  # days since the last attended session


def warnings(
    actor: User, filters: Filters | None = None, now: datetime | None = None
) -> list[EarlyWarning]:
    """Return the active learners at risk of dropping out, most at risk first.

    A learner is flagged after missing their last planned sessions (ATTENDANCE_WARNING_
    MISSED_IN_A_ROW, 2) or when they have attended no session for ATTENDANCE_WARNING_IDLE_DAYS
    (14) days, or none at all since they were registered that long ago. Reads where each
    learner stands today (kept by the sweep and by status changes); the learner and tutor
    filters apply, the dates do not.
    """
    now = now or utcnow()
    filters = filters or Filters()
    config = current_app.config
    in_a_row = config["ATTENDANCE_WARNING_MISSED_IN_A_ROW"]
    idle = timedelta(days=config["ATTENDANCE_WARNING_IDLE_DAYS"])
    query = (
        select(
            Learner.id,
            Learner.name,
            Learner.created_at,
            LearnerStanding.last_attended_at,
            LearnerStanding.absences_in_a_row,
        )
        .select_from(Learner)
        .outerjoin(LearnerStanding, LearnerStanding.learner_id == Learner.id)
        .where(
            Learner.role == Role.LEARNER,
            Learner.active.is_(True),
            _learner_scope(actor),
            or_(
                LearnerStanding.absences_in_a_row >= in_a_row,
                LearnerStanding.last_attended_at.is_(None),
                LearnerStanding.last_attended_at < now - idle,
            ),
        )
    )
    if filters.learner_id is not None:
        query = query.where(Learner.id == filters.learner_id)
    if filters.tutor_id is not None:
        query = query.where(
            Learner.id.in_(
                select(TutorAssignment.learner_id).where(
                    TutorAssignment.tutor_id == filters.tutor_id
                )
            )
        )
    found = []
    for learner_id, name, created_at, last_attended, row_count in db.session.execute(query):
        reasons = []
        missed = int(row_count or 0)
        if missed >= in_a_row:
            reasons.append(Reason.MISSED_IN_A_ROW)
        if last_attended is not None and now - last_attended > idle:
            reasons.append(Reason.IDLE)
        elif last_attended is None and now - created_at > idle:
            reasons.append(Reason.NEVER)
        if reasons:
            found.append(
                EarlyWarning(
                    learner_id,
                    name,
                    tuple(reasons),
                    missed,
                    last_attended,
                    (now - last_attended).days if last_attended else None,
                )
            )
    found.sort(key=lambda w: (-w.absences_in_a_row, -(w.idle_days or 10_000), w.name))
    return found


# A learner's own history


@dataclass(frozen=True)
class OwnTotals:
    attended: int
    missed: int
    excused: int
    last_attended_at: datetime | None

    @property
    def rate(self) -> float | None:
        counted = self.attended + self.missed
        return self.attended / counted if counted else None


def own_history(
    learner: User, *, page: int, per_page: int, now: datetime | None = None
) -> tuple[Page, OwnTotals]:
    """Return a learner's own sessions that have started (newest first) and their totals."""
    now = now or utcnow()
    filters = replace(Filters(), learner_id=learner.id)
    history = log_page(learner, filters, page=page, per_page=per_page, now=now)
    totals = db.session.execute(
        select(
            func.sum(case((Attendance.status.in_(ATTENDED), 1), else_=0)),
            func.sum(case((Attendance.status == AttendanceStatus.ABSENT, 1), else_=0)),
            func.sum(case((Attendance.status == AttendanceStatus.EXCUSED, 1), else_=0)),
            func.max(case((Attendance.status.in_(ATTENDED), S.starts_at))),
        )
        .select_from(S)
        .join(Attendance, and_(Attendance.session_id == S.id, Attendance.user_id == learner.id))
        .where(S.learner_id == learner.id, S.status != Status.CANCELLED, S.ends_at <= now)
    ).one()
    return history, OwnTotals(
        int(totals[0] or 0), int(totals[1] or 0), int(totals[2] or 0), _aware(totals[3])
    )

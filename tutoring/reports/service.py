"""The program report: every figure computed from sessions and records, never typed in.

Definitions (docs/report.md says the same for coordinators):

- Only held sessions count (status `held`): cancelled, no-show and unmarked ones do not.
  A session belongs to the period its start falls in, in the program's zone.
- Consultations (学習相談): held sessions of kind consultation, plus consultation records
  (`consultations`) dated in the period that are not tied to a held consultation session;
  a record tied to one is the same meeting and counts once, through the session.
- A learner took part when they had a held session of either kind or a consultation record
  in the period. Continuing: took part, and joined before the period began. New: joined in
  the period. Joined is `enrolled_on`, else the day the account was made.
- Active at the end: joined by the last day and whose support status on that day was
  active (the status history, else the profile's status).
- Exam: the attempts in rounds whose exam day falls in the period. Takers sat a round;
  passers obtained the certificate (高卒認定合格, 合格証書); subject passers passed at least
  one subject.
- Outcomes: learners with an outcome of that kind dated in the period, each once per kind.
- Attendance rate: held study sessions over the study sessions that were settled (held or
  no-show). Average minutes: over held study sessions, the learner's minutes in the room
  when the room recorded presence, else the session's booked length.

Each person counts once in every unique figure; an erased learner keeps their anonymous row
and still counts. The figures come from a handful of aggregate queries whatever the size of
the program; the per-learner facts behind them are kept so that every figure can be listed.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, case, func, literal, not_, or_, select
from sqlalchemy.orm import aliased

from tutoring.attendance.models import Attendance
from tutoring.extensions import db
from tutoring.i18n import program_zone
from tutoring.partners.service import learners_referred_out_between
from tutoring.people.models import LearnerProfile, LearnerStatus, Role, User
from tutoring.records.models import (
    Consultation,
    ExamAttempt,
    ExamAttemptSubject,
    ExamRound,
    ExamSubject,
    Outcome,
    OutcomeKind,
    StatusChange,
    SubjectResult,
)
from tutoring.reports.periods import Period
from tutoring.scheduling.models import Kind, Mode, Status, TutoringSession, Venue

S = TutoringSession


# What the report holds


@dataclass(frozen=True)
class VenueFigure:
    venue_id: int
    name: str
    total: int
    unique_learners: int


@dataclass(frozen=True)
class MonthFigure:
    month: date  # the first day of the month
    total: int  # held study sessions
    online: int
    consultations: int  # held consultation sessions


@dataclass(frozen=True)
class RoundFigure:
    round_id: int
    year: int
    number: int
    exam_on: date
    takers: int
    passers: int
    subject_passers: int
    subjects_passed: int


@dataclass
class LearnerFacts:
    """What the report knows of one learner: the row behind every learner figure."""

    learner_id: int
    name: str = ""
    erased: bool = False
    joined_on: date | None = None
    status_at_end: LearnerStatus | None = None
    study_sessions: int = 0
    consultations: int = 0
    took_part: bool = False
    continuing: bool = False
    new: bool = False
    active_at_end: bool = False
    exam_rounds: int = 0
    subjects_passed: int = 0
    certificate: bool = False
    outcomes: set[OutcomeKind] = field(default_factory=set)

    @property
    def sat_exam(self) -> bool:
        return self.exam_rounds > 0


@dataclass
class Report:
    period: Period
    consultations_total: int
    consultations_unique: int
    study_total: int
    study_unique: int
    online: int
    by_venue: list[VenueFigure]
    by_month: list[MonthFigure]
    exam_rounds: list[RoundFigure]
    subjects: list[tuple[str, int]]  # subject name, passes
    outcomes: dict[OutcomeKind, int]
    settled: int  # study sessions held or no-show
    no_show: int
    average_minutes: float | None
    learners: dict[int, LearnerFacts]

    @property
    def online_share(self) -> float | None:
        return round(self.online / self.study_total, 4) if self.study_total else None

    @property
    def in_person(self) -> int:
        return self.study_total - self.online

    @property
    def attendance_rate(self) -> float | None:
        return round(self.study_total / self.settled, 4) if self.settled else None

    def count(self, flag: str) -> int:
        """Return how many learners have a flag of LearnerFacts set (took_part, new, ...)."""
        return sum(1 for facts in self.learners.values() if getattr(facts, flag))

    @property
    def took_part(self) -> int:
        return self.count("took_part")

    @property
    def continuing(self) -> int:
        return self.count("continuing")

    @property
    def new(self) -> int:
        return self.count("new")

    @property
    def active_at_end(self) -> int:
        return self.count("active_at_end")

    @property
    def takers(self) -> int:
        return self.count("sat_exam")

    @property
    def passers(self) -> int:
        return self.count("certificate")

    @property
    def subject_passers(self) -> int:
        return sum(1 for facts in self.learners.values() if facts.subjects_passed)

    @property
    def subjects_passed(self) -> int:
        return sum(passes for _name, passes in self.subjects)

    @property
    def certificates(self) -> int:
        return self.passers


# Learner figures the report can list, by the name used in links and exports.
LEARNER_FIGURES = (
    "took_part",
    "continuing",
    "new",
    "active_at_end",
    "consultations",
    "study_sessions",
    "sat_exam",
    "subject_passers",
    "certificate",
)


def learners_for(report: Report, figure: str) -> list[LearnerFacts]:
    """Return the learners behind a figure: a LEARNER_FIGURES name or `outcome:<kind>`."""
    if figure.startswith("outcome:"):
        kind = OutcomeKind(figure.removeprefix("outcome:"))
        chosen = [f for f in report.learners.values() if kind in f.outcomes]
    elif figure == "subject_passers":
        chosen = [f for f in report.learners.values() if f.subjects_passed]
    elif figure in LEARNER_FIGURES:
        chosen = [f for f in report.learners.values() if getattr(f, figure)]
    else:
        raise ValueError(figure)
    return sorted(chosen, key=lambda f: f.learner_id)


# The one place referrals out are counted


def referred_out_learners(first_day: date, last_day: date) -> set[int]:
    """Return the learners referred to another agency in the period, each once.

    Two records say so: an outcome of kind referral on the learner's record, and a
    referral-out record (Partners, *Referral to another agency*); the report and its lists
    take their union.
    """
    return learners_referred_out_between(first_day, last_day) | set(
        db.session.scalars(
            select(Outcome.learner_id)
            .where(
                Outcome.kind == OutcomeKind.REFERRAL,
                Outcome.occurred_on.between(first_day, last_day),
            )
            .distinct()
        )
    )


def count_referrals_out(first_day: date, last_day: date) -> int:
    """Return how many learners were referred to another agency in the period."""
    return len(referred_out_learners(first_day, last_day))


# Computing


def _in_period(period: Period) -> ColumnElement[bool]:
    return and_(S.starts_at >= period.start, S.starts_at < period.end)


def _month_index(period: Period) -> ColumnElement[int]:
    """Return the index of the month a session starts in, as one CASE (no zone maths in SQL)."""
    zone = program_zone()
    bounds = [datetime.combine(m, datetime.min.time(), tzinfo=zone) for m in period.months()]
    whens = [(S.starts_at < bound, index - 1) for index, bound in enumerate(bounds[1:], 1)]
    if not whens:
        return literal(0)
    return case(*whens, else_=len(bounds) - 1)


def _minutes(dialect: str) -> ColumnElement[float]:
    """Return a session's booked length in minutes."""
    if dialect == "postgresql":
        return func.extract("epoch", S.ends_at - S.starts_at) / 60
    return (func.julianday(S.ends_at) - func.julianday(S.starts_at)) * 1440


def _session_figures(period: Period, report_learners: dict[int, LearnerFacts]) -> dict:
    """Return the session figures; fill the learners' session counts."""
    month = _month_index(period).label("month")
    counts = db.session.execute(
        select(S.kind, S.mode, S.venue_id, month, func.count())
        .where(S.status == Status.HELD, _in_period(period))
        .group_by(S.kind, S.mode, S.venue_id, month)
    ).all()
    months = period.months()
    per_month = {i: Counter() for i in range(len(months))}
    venue_totals: Counter[int] = Counter()
    totals: Counter[tuple[Kind, Mode]] = Counter()
    for kind, mode, venue_id, index, n in counts:
        totals[(kind, mode)] += n
        if kind is Kind.STUDY:
            per_month[index]["total"] += n
            if mode is Mode.ONLINE:
                per_month[index]["online"] += n
            elif venue_id is not None:
                venue_totals[venue_id] += n
        else:
            per_month[index]["consultations"] += n

    people = db.session.execute(
        select(S.learner_id, S.kind, S.mode, S.venue_id, func.count())
        .where(S.status == Status.HELD, _in_period(period))
        .group_by(S.learner_id, S.kind, S.mode, S.venue_id)
    ).all()
    venue_learners: dict[int, set[int]] = defaultdict(set)
    study_learners: set[int] = set()
    for learner_id, kind, mode, venue_id, n in people:
        facts = report_learners.setdefault(learner_id, LearnerFacts(learner_id))
        if kind is Kind.STUDY:
            facts.study_sessions += n
            study_learners.add(learner_id)
            if mode is Mode.IN_PERSON and venue_id is not None:
                venue_learners[venue_id].add(learner_id)
        else:
            facts.consultations += n

    names = dict(
        db.session.execute(select(Venue.id, Venue.name).where(Venue.id.in_(venue_totals))).all()
    )
    by_venue = sorted(
        (
            VenueFigure(venue_id, names.get(venue_id, ""), n, len(venue_learners[venue_id]))
            for venue_id, n in venue_totals.items()
        ),
        key=lambda v: (v.name, v.venue_id),
    )
    settled = dict(
        db.session.execute(
            select(S.status, func.count())
            .where(
                S.kind == Kind.STUDY,
                S.status.in_((Status.HELD, Status.NO_SHOW)),
                _in_period(period),
            )
            .group_by(S.status)
        ).all()
    )
    # The learner's minutes in the room when recorded, else the booked length.
    booked = _minutes(db.session.get_bind().dialect.name)
    minutes = case(
        (func.coalesce(Attendance.minutes_present, 0) > 0, Attendance.minutes_present),
        else_=booked,
    )
    total_minutes, held_study = db.session.execute(
        select(func.sum(minutes), func.count())
        .select_from(S)
        .outerjoin(
            Attendance, and_(Attendance.session_id == S.id, Attendance.user_id == S.learner_id)
        )
        .where(S.kind == Kind.STUDY, S.status == Status.HELD, _in_period(period))
    ).one()
    study_total = sum(n for (kind, _mode), n in totals.items() if kind is Kind.STUDY)
    return {
        "study_total": study_total,
        "study_unique": len(study_learners),
        "online": totals[(Kind.STUDY, Mode.ONLINE)],
        "consultation_sessions": sum(
            n for (kind, _mode), n in totals.items() if kind is Kind.CONSULTATION
        ),
        "by_venue": by_venue,
        "by_month": [
            MonthFigure(
                month,
                per_month[i]["total"],
                per_month[i]["online"],
                per_month[i]["consultations"],
            )
            for i, month in enumerate(months)
        ],
        "settled": settled.get(Status.HELD, 0) + settled.get(Status.NO_SHOW, 0),
        "no_show": settled.get(Status.NO_SHOW, 0),
        "average_minutes": round(float(total_minutes) / held_study, 1) if held_study else None,
    }


def _consultation_records(period: Period, report_learners: dict[int, LearnerFacts]) -> int:
    """Count consultation records not already counted as a held consultation session."""
    linked = aliased(TutoringSession)
    rows = db.session.execute(
        select(Consultation.learner_id, func.count())
        .outerjoin(linked, linked.id == Consultation.session_id)
        .where(
            Consultation.held_on.between(period.first_day, period.last_day),
            or_(
                Consultation.session_id.is_(None),
                linked.id.is_(None),
                not_(and_(linked.kind == Kind.CONSULTATION, linked.status == Status.HELD)),
            ),
        )
        .group_by(Consultation.learner_id)
    ).all()
    for learner_id, n in rows:
        report_learners.setdefault(learner_id, LearnerFacts(learner_id)).consultations += n
    return sum(n for _learner, n in rows)


def _learner_standing(period: Period, report_learners: dict[int, LearnerFacts]) -> None:
    """Fill who joined when, who is new or continuing, and who was active on the last day."""
    rows = db.session.execute(
        select(
            User.id,
            User.name,
            User.created_at,
            LearnerProfile.enrolled_on,
            LearnerProfile.status,
            LearnerProfile.erased_at,
        )
        .outerjoin(LearnerProfile, LearnerProfile.user_id == User.id)
        .where(User.role == Role.LEARNER)
    ).all()
    changes: dict[int, list[tuple[date, int, LearnerStatus]]] = defaultdict(list)
    for learner_id, status, since, change_id in db.session.execute(
        select(StatusChange.learner_id, StatusChange.status, StatusChange.since, StatusChange.id)
    ):
        changes[learner_id].append((since, change_id, status))
    zone = program_zone()
    for learner_id, name, created_at, enrolled_on, status, erased_at in rows:
        joined = enrolled_on or created_at.astimezone(zone).date()
        if joined > period.last_day:
            status_at_end = None
        elif learner_id in changes:
            earlier = [c for c in changes[learner_id] if c[0] <= period.last_day]
            # Before the first change the learner had the default status, active.
            status_at_end = max(earlier)[2] if earlier else LearnerStatus.ACTIVE
        else:
            status_at_end = status or LearnerStatus.ACTIVE
        new = period.first_day <= joined <= period.last_day
        active = status_at_end is LearnerStatus.ACTIVE
        facts = report_learners.get(learner_id)
        if facts is None:
            if not (new or active):
                continue
            facts = report_learners[learner_id] = LearnerFacts(learner_id)
        facts.name, facts.erased, facts.joined_on = name, erased_at is not None, joined
        facts.status_at_end = status_at_end
        facts.took_part = bool(facts.study_sessions or facts.consultations)
        facts.new = new
        facts.continuing = facts.took_part and joined < period.first_day
        facts.active_at_end = active


def _exam_figures(period: Period, report_learners: dict[int, LearnerFacts]) -> dict:
    in_period = ExamRound.exam_on.between(period.first_day, period.last_day)
    passed = (
        select(func.count())
        .where(
            ExamAttemptSubject.attempt_id == ExamAttempt.id,
            ExamAttemptSubject.result == SubjectResult.PASSED,
        )
        .scalar_subquery()
    )
    attempts = db.session.execute(
        select(
            ExamAttempt.learner_id,
            ExamRound.id,
            ExamRound.year,
            ExamRound.number,
            ExamRound.exam_on,
            ExamAttempt.certificate_obtained,
            passed,
        )
        .join(ExamRound, ExamRound.id == ExamAttempt.round_id)
        .where(in_period)
    ).all()
    rounds: dict[int, dict] = {}
    for learner_id, round_id, year, number, exam_on, certificate, n_passed in attempts:
        facts = report_learners.setdefault(learner_id, LearnerFacts(learner_id))
        facts.exam_rounds += 1
        facts.subjects_passed += n_passed
        facts.certificate = facts.certificate or certificate
        figure = rounds.setdefault(
            round_id,
            {"round": (round_id, year, number, exam_on), "takers": set(), "passers": set()},
        )
        figure["takers"].add(learner_id)
        figure.setdefault("subject_passers", set())
        figure.setdefault("subjects_passed", 0)
        if certificate:
            figure["passers"].add(learner_id)
        if n_passed:
            figure["subject_passers"].add(learner_id)
            figure["subjects_passed"] += n_passed
    subjects = db.session.execute(
        select(ExamSubject.name, func.count())
        .select_from(ExamAttemptSubject)
        .join(ExamAttempt, ExamAttempt.id == ExamAttemptSubject.attempt_id)
        .join(ExamRound, ExamRound.id == ExamAttempt.round_id)
        .join(ExamSubject, ExamSubject.id == ExamAttemptSubject.subject_id)
        .where(in_period, ExamAttemptSubject.result == SubjectResult.PASSED)
        .group_by(ExamSubject.id, ExamSubject.name, ExamSubject.position)
        .order_by(ExamSubject.position, ExamSubject.id)
    ).all()
    return {
        "exam_rounds": sorted(
            (
                RoundFigure(
                    *figure["round"],
                    takers=len(figure["takers"]),
                    passers=len(figure["passers"]),
                    subject_passers=len(figure["subject_passers"]),
                    subjects_passed=figure["subjects_passed"],
                )
                for figure in rounds.values()
            ),
            key=lambda r: (r.exam_on, r.round_id),
        ),
        "subjects": [(name, n) for name, n in subjects],
    }


def _outcome_figures(period: Period, report_learners: dict[int, LearnerFacts]) -> dict:
    rows = db.session.execute(
        select(Outcome.learner_id, Outcome.kind)
        .where(
            Outcome.occurred_on.between(period.first_day, period.last_day),
            Outcome.kind != OutcomeKind.REFERRAL,
        )
        .distinct()
    ).all()
    referred = referred_out_learners(period.first_day, period.last_day)
    rows = [*rows, *((learner_id, OutcomeKind.REFERRAL) for learner_id in referred)]
    counts = Counter(kind for _learner, kind in rows)
    for learner_id, kind in rows:
        report_learners.setdefault(learner_id, LearnerFacts(learner_id)).outcomes.add(kind)
    return {"outcomes": {kind: counts.get(kind, 0) for kind in OutcomeKind}}


def program_report(period: Period) -> Report:
    """Compute the report of a period from the sessions and records."""
    learners: dict[int, LearnerFacts] = {}
    sessions = _session_figures(period, learners)
    records = _consultation_records(period, learners)
    exam = _exam_figures(period, learners)
    outcomes = _outcome_figures(period, learners)
    _learner_standing(period, learners)
    consulted = sum(1 for facts in learners.values() if facts.consultations)
    return Report(
        period=period,
        consultations_total=sessions["consultation_sessions"] + records,
        consultations_unique=consulted,
        study_total=sessions["study_total"],
        study_unique=sessions["study_unique"],
        online=sessions["online"],
        by_venue=sessions["by_venue"],
        by_month=sessions["by_month"],
        settled=sessions["settled"],
        no_show=sessions["no_show"],
        average_minutes=sessions["average_minutes"],
        learners=learners,
        **exam,
        **outcomes,
    )


# The sessions behind a figure


SESSION_FIGURES = ("study", "consultation", "online", "venue")


@dataclass(frozen=True)
class SessionRow:
    session_id: int
    starts_at: datetime
    ends_at: datetime
    kind: Kind
    mode: Mode
    venue_name: str | None
    learner_id: int
    learner_name: str
    tutor_name: str
    minutes_present: int | None


def _session_query(period: Period, kind: Kind | None, mode: Mode | None, venue_id: int | None):
    learner, tutor = aliased(User), aliased(User)
    query = (
        select(
            S.id,
            S.starts_at,
            S.ends_at,
            S.kind,
            S.mode,
            Venue.name,
            S.learner_id,
            learner.name,
            tutor.name,
            Attendance.minutes_present,
        )
        .join(learner, learner.id == S.learner_id)
        .join(tutor, tutor.id == S.tutor_id)
        .outerjoin(Venue, Venue.id == S.venue_id)
        .outerjoin(
            Attendance, and_(Attendance.session_id == S.id, Attendance.user_id == S.learner_id)
        )
        .where(S.status == Status.HELD, _in_period(period))
    )
    if kind is not None:
        query = query.where(S.kind == kind)
    if mode is not None:
        query = query.where(S.mode == mode)
    if venue_id is not None:
        query = query.where(S.venue_id == venue_id, S.mode == Mode.IN_PERSON)
    return query


def held_sessions(
    period: Period,
    *,
    kind: Kind | None = None,
    mode: Mode | None = None,
    venue_id: int | None = None,
    page: int | None = None,
    per_page: int = 200,
) -> Iterator[SessionRow]:
    """Yield the held sessions of the period, oldest first (a page of them when asked)."""
    query = _session_query(period, kind, mode, venue_id).order_by(S.starts_at, S.id)
    if page is not None:
        query = query.limit(per_page).offset((page - 1) * per_page)
    for row in db.session.execute(query):
        yield SessionRow(*row)


def count_held_sessions(
    period: Period,
    *,
    kind: Kind | None = None,
    mode: Mode | None = None,
    venue_id: int | None = None,
) -> int:
    query = _session_query(period, kind, mode, venue_id).with_only_columns(func.count(S.id))
    return db.session.scalar(query.order_by(None)) or 0

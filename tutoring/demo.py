"""The demo program loaded by `flask --app wsgi demo`: a believable small program.

Each feature adds its part in a function called from load_demo; every part is idempotent.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select

from tutoring.auth import passwords
from tutoring.database import utcnow
from tutoring.extensions import db
from tutoring.i18n import program_zone
from tutoring.people.models import Role, User
from tutoring.scheduling import service as scheduling
from tutoring.scheduling.models import Kind, Mode, Status, TutoringSession, Venue
from tutoring.validation import ValidationError

DEMO_PASSWORD = "manabi-demo-2026"  # noqa: S105 (printed by the demo command)

DEMO_PEOPLE = [
    ("coordinator@example.org", "佐藤 恵美", Role.COORDINATOR),
    ("admin@example.org", "管理者 太郎", Role.ADMIN),
    ("tutor1@example.org", "鈴木 健一", Role.TUTOR),
    ("tutor2@example.org", "高橋 美咲", Role.TUTOR),
    ("learner1@example.org", "田中 陽向", Role.LEARNER),
    ("learner2@example.org", "伊藤 蓮", Role.LEARNER),
    ("learner3@example.org", "渡辺 結衣", Role.LEARNER),
    ("learner4@example.org", "山本 湊", Role.LEARNER),
    ("liaison@example.org", "山田 先生（みどり高校）", Role.LIAISON),
]


def _people() -> list[User]:
    users = []
    for email, name, role in DEMO_PEOPLE:
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(email=email, name=name, role=role)
            user.password_hash = passwords.hash_password(DEMO_PASSWORD)
            db.session.add(user)
        users.append(user)
    db.session.flush()
    return users


def database_is_empty() -> bool:
    """Tell whether no account exists yet."""
    return db.session.scalar(select(User.id).limit(1)) is None


def demo_accounts() -> list[User]:
    """Return the demo accounts that exist."""
    emails = [email for email, _name, _role in DEMO_PEOPLE]
    found = {u.email: u for u in db.session.scalars(select(User).where(User.email.in_(emails)))}
    return [found[e] for e in emails if e in found]


DEMO_VENUES = [
    ("中央公民館 学習室", "東京都多摩市中央1-2-3 2階"),
    ("駅前ユースセンター", "東京都多摩市駅前4-5-6"),
]

# learner e-mail, tutor e-mail, weekday (0 = Monday), local start, online or venue index
DEMO_SERIES = [
    ("learner1@example.org", "tutor1@example.org", 1, time(16, 0), None),
    ("learner2@example.org", "tutor1@example.org", 3, time(14, 0), 0),
    ("learner3@example.org", "tutor2@example.org", 2, time(19, 0), None),
    ("learner4@example.org", "tutor2@example.org", 5, time(10, 0), 1),
]


def _venues() -> list[Venue]:
    venues = []
    for name, address in DEMO_VENUES:
        venue = db.session.scalar(select(Venue).where(Venue.name == name))
        venues.append(
            venue
            or scheduling.save_venue(None, name=name, address=address, online=False, active=True)
        )
    return venues


def _sessions(people: dict[str, User], venues: list[Venue], coordinator: User) -> None:
    """Give each demo learner a weekly series from four weeks ago to eight weeks ahead."""
    zone = program_zone()
    today = datetime.now(zone).date()
    for learner_email, tutor_email, weekday, clock, venue_index in DEMO_SERIES:
        learner, tutor = people[learner_email], people[tutor_email]
        if db.session.scalar(
            select(TutoringSession.id).where(TutoringSession.learner_id == learner.id).limit(1)
        ):
            continue
        first_day = today - timedelta(weeks=4) + timedelta(days=(weekday - today.weekday()) % 7)
        # The first meeting of each learner was a learning consultation (学習相談).
        scheduling.book_sessions(
            coordinator,
            learner=learner,
            tutor=tutor,
            starts_at=scheduling.at_local(first_day - timedelta(days=2), time(15, 0)),
            duration_minutes=60,
            kind=Kind.CONSULTATION,
            mode=Mode.IN_PERSON,
            venue=venues[0],
        )
        series = scheduling.book_sessions(
            coordinator,
            learner=learner,
            tutor=tutor,
            starts_at=scheduling.at_local(first_day, clock),
            duration_minutes=120,
            kind=Kind.STUDY,
            mode=Mode.ONLINE if venue_index is None else Mode.IN_PERSON,
            venue=None if venue_index is None else venues[venue_index],
            weekly_until=today + timedelta(weeks=8),
        )
        now = utcnow()
        for session in series:
            if session.ends_at < now:
                session.status = Status.HELD
        past = [s for s in series if s.ends_at < now]
        if learner_email == "learner3@example.org" and past:
            past[-1].status = Status.NO_SHOW
    # A session open right now, so the room can be tried straight after `make run`.
    learner, tutor = people["learner1@example.org"], people["tutor1@example.org"]
    now = utcnow()
    starts = now.replace(minute=0, second=0, microsecond=0)
    try:
        scheduling.book_sessions(
            coordinator,
            learner=learner,
            tutor=tutor,
            starts_at=starts,
            duration_minutes=120,
            kind=Kind.STUDY,
            mode=Mode.ONLINE,
        )
    except ValidationError:
        pass  # already booked, or it would clash with the weekly series: the demo keeps what it has


def _attendance(people: dict[str, User]) -> None:
    """Give the demo's ended sessions presence from the room or a tutor's mark, then sweep.

    Online sessions get the room's join and leave reports (one late start, one reconnect);
    sessions in person are marked by their tutor. Learner 3 missed the last two sessions, so
    the early warnings show something. Sessions that have any attendance already are skipped.
    """
    from tutoring.attendance import service as attendance
    from tutoring.attendance.models import (
        Attendance,
        AttendanceStatus,
        PresenceEvent,
        PresenceKind,
        PresenceSource,
    )

    now = utcnow()
    learners = [people[email] for email, _tutor, _day, _clock, _venue in DEMO_SERIES]
    sessions = db.session.scalars(
        select(TutoringSession)
        .where(
            TutoringSession.learner_id.in_([learner.id for learner in learners]),
            TutoringSession.ends_at < now,
            TutoringSession.status != Status.CANCELLED,
        )
        .order_by(TutoringSession.starts_at)
    ).all()
    touched = set(db.session.scalars(select(PresenceEvent.session_id))) | set(
        db.session.scalars(select(Attendance.session_id))
    )
    missing_learner = people["learner3@example.org"]
    learner3_sessions = [s for s in sessions if s.learner_id == missing_learner.id]
    missed = {s.id for s in learner3_sessions[-2:] if s.kind is Kind.STUDY}

    def visit(session: TutoringSession, user: User, joined: int, left: int) -> None:
        """Report joining `joined` minutes after the start and leaving `left` minutes after it."""
        for source in (PresenceSource.VIDEO, PresenceSource.WHITEBOARD):
            for kind, minutes in ((PresenceKind.JOINED, joined), (PresenceKind.LEFT, left)):
                attendance.record_presence(
                    user,
                    session,
                    source=source,
                    kind=kind,
                    client_id=f"demo-{user.id}",
                    now=session.starts_at + timedelta(minutes=minutes),
                )

    for index, session in enumerate(sessions):
        if session.id in touched:
            continue
        if session.mode is Mode.ONLINE:
            visit(session, session.tutor, -3, 121)
            if session.id in missed:
                continue
            if index % 5 == 2:
                visit(session, session.learner, 18, 120)  # late
            elif index % 5 == 4:
                visit(session, session.learner, 1, 45)  # a dropped connection...
                visit(session, session.learner, 46, 119)  # ...and back within a minute
            else:
                visit(session, session.learner, 0, 120)
            continue
        status, note = AttendanceStatus.PRESENT, None
        if index % 7 == 3:
            status = AttendanceStatus.LATE
        elif index % 7 == 5 and session.kind is Kind.STUDY:
            status, note = AttendanceStatus.EXCUSED, "体調不良のため事前に連絡あり"
        attendance.set_status(
            session.tutor,
            session,
            session.learner_id,
            status,
            note,
            now=session.starts_at + timedelta(minutes=10),
        )
    while attendance.sweep(now, backfill=True).more:
        pass


def load_demo() -> list[User]:
    """Create whatever of the demo program is missing; return the demo accounts."""
    from tutoring.records import demo as records_demo

    accounts = _people()
    people = {user.email: user for user in accounts}
    venues = _venues()
    # Profiles and guardian consent first: minors are booked only with consent.
    records_demo.load_profiles(people, people["coordinator@example.org"])
    _sessions(people, venues, people["coordinator@example.org"])
    records_demo.load_records(people, people["coordinator@example.org"])
    db.session.flush()
    _attendance(people)
    db.session.flush()
    from tutoring.notify import demo as notify_demo

    notify_demo.load(people)
    from tutoring.partners import demo as partners_demo

    partners_demo.load(people)
    return accounts

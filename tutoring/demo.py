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
    from tutoring.notify import demo as notify_demo

    notify_demo.load(people)
    return accounts

"""Attendance tests: the program fixtures of tests/conftest.py, presence at chosen times."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event

from tests.conftest import TOKYO, Program, bearer, tokyo  # noqa: F401
from tutoring.attendance import service
from tutoring.attendance.models import AttendanceStatus, PresenceKind, PresenceSource
from tutoring.extensions import db
from tutoring.people.models import User
from tutoring.scheduling.models import TutoringSession

# A fixed past session: Tuesday 10 November 2026, 16:00–18:00 in Tokyo.
START = tokyo(2026, 11, 10, 16, 0)
END = START + timedelta(hours=2)


def at(minutes: float) -> datetime:
    """Return the instant `minutes` after START (negative: before)."""
    return START + timedelta(minutes=minutes)


@pytest.fixture
def past_session(book):
    return book(START)[0]


@pytest.fixture
def presence(app):
    """Return presence(session_id, account, source, kind, minutes, client_id="c1")."""

    def record(session_id, account, source, kind, minutes, client_id="c1") -> None:
        with app.app_context():
            service.record_presence(
                db.session.get(User, account.id),
                db.session.get(TutoringSession, session_id),
                source=PresenceSource(source),
                kind=PresenceKind(kind),
                client_id=client_id,
                now=at(minutes),
            )
            db.session.commit()

    return record


@pytest.fixture
def sweep(app):
    """Return sweep(minutes) running the sweep as if at START + minutes; returns its result."""

    def run(minutes: float):
        from tutoring.attendance.tasks import sweep_all

        with app.app_context():
            return sweep_all(at(minutes))

    return run


@pytest.fixture
def tokens(program, make_token) -> dict[str, str]:
    return {
        name: make_token(getattr(program, name))
        for name in ("coordinator", "tutor", "other_tutor", "learner", "other_learner")
    }


class QueryCounter:
    """Counts the SQL statements an engine runs while active."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.statements: list[str] = []

    def _count(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.statements.append(statement)

    def __enter__(self) -> QueryCounter:
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc) -> None:
        event.remove(self.engine, "before_cursor_execute", self._count)

    @property
    def count(self) -> int:
        return len(self.statements)


@dataclass
class History:
    """Weekly online sessions of the learner (the last two missed) and in-person ones of the other."""

    learner_sessions: list[int]
    other_sessions: list[int]


@pytest.fixture
def history(app, program, book) -> History:
    """Six past weeks: the learner came four times then missed two; the other learner came thrice."""
    from tutoring.attendance.tasks import sweep_all
    from tutoring.database import utcnow
    from tutoring.scheduling.models import Mode

    now = utcnow().replace(second=0, microsecond=0)
    first = now - timedelta(weeks=6, hours=3)
    learner_ids = book(first, weekly_until=(first + timedelta(weeks=5)).astimezone(TOKYO).date())
    other_ids = book(
        first + timedelta(days=2),
        learner=program.other_learner,
        tutor=program.other_tutor,
        mode=Mode.IN_PERSON,
        venue_id=program.venue_id,
        weekly_until=(first + timedelta(days=2, weeks=2)).astimezone(TOKYO).date(),
    )
    with app.app_context():
        for index, session_id in enumerate(learner_ids):
            session = db.session.get(TutoringSession, session_id)
            people = [session.tutor] if index >= 4 else [session.tutor, session.learner]
            for person in people:
                late = 15 if (person.id == session.learner_id and index == 1) else 0
                for kind, minutes in ((PresenceKind.JOINED, late), (PresenceKind.LEFT, 120)):
                    service.record_presence(
                        person,
                        session,
                        source=PresenceSource.VIDEO,
                        kind=kind,
                        client_id="browser",
                        now=session.starts_at + timedelta(minutes=minutes),
                    )
        for session_id in other_ids:
            session = db.session.get(TutoringSession, session_id)
            service.set_status(
                session.tutor,
                session,
                session.learner_id,
                AttendanceStatus.PRESENT,
                now=session.starts_at + timedelta(minutes=5),
            )
        db.session.commit()
        sweep_all(now, backfill=True)
    return History(learner_ids, other_ids)

"""Helpers for scheduling tests: a small program and a booking shortcut."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import Account
from tutoring.extensions import db
from tutoring.people.models import User
from tutoring.scheduling import service
from tutoring.scheduling.models import Kind, Mode, TutoringSession, Venue

TOKYO = ZoneInfo("Asia/Tokyo")


def tokyo(*args) -> datetime:
    """Return an aware datetime in Asia/Tokyo."""
    return datetime(*args, tzinfo=TOKYO)


@dataclass
class Program:
    coordinator: Account
    tutor: Account
    other_tutor: Account
    learner: Account
    other_learner: Account
    venue_id: int


@pytest.fixture
def program(app, make_user) -> Program:
    with app.app_context():
        venue = service.save_venue(
            None, name="中央公民館", address="多摩市中央1-2-3", online=False, active=True
        )
        db.session.commit()
        venue_id = venue.id
    return Program(
        coordinator=make_user("coordinator", name="佐藤 恵美"),
        tutor=make_user("tutor", name="鈴木 健一"),
        other_tutor=make_user("tutor", name="高橋 美咲"),
        learner=make_user("learner", name="田中 陽向"),
        other_learner=make_user("learner", name="伊藤 蓮"),
        venue_id=venue_id,
    )


@pytest.fixture
def book(app, program):
    """Return book(starts_at, learner=..., tutor=..., minutes=120, weekly_until=None, ...) -> ids."""

    def book_(
        starts_at,
        *,
        learner=None,
        tutor=None,
        minutes=120,
        weekly_until=None,
        kind=Kind.STUDY,
        mode=Mode.ONLINE,
        venue_id=None,
    ) -> list[int]:
        with app.app_context():
            sessions = service.book_sessions(
                db.session.get(User, program.coordinator.id),
                learner=db.session.get(User, (learner or program.learner).id),
                tutor=db.session.get(User, (tutor or program.tutor).id),
                starts_at=starts_at,
                duration_minutes=minutes,
                kind=kind,
                mode=mode,
                venue=db.session.get(Venue, venue_id) if venue_id else None,
                weekly_until=weekly_until,
            )
            db.session.commit()
            return [s.id for s in sessions]

    return book_


def session_count(app) -> int:
    with app.app_context():
        return db.session.query(TutoringSession).count()

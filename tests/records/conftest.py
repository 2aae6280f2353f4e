"""Records tests: the program of tests/conftest.py with subjects, assignments and helpers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from tests.conftest import Account, Program, bearer, csrf_token, tokyo  # noqa: F401
from tutoring.extensions import db
from tutoring.people.models import TutorAssignment, User
from tutoring.records import service
from tutoring.records.models import ExamSubject


def user(account: Account) -> User:
    """Return the ORM user of an account (inside an app context)."""
    return db.session.get(User, account.id)


def subject(name: str) -> ExamSubject:
    return db.session.query(ExamSubject).filter_by(name=name).one()


@pytest.fixture(autouse=True)
def english(client):
    """Pages in English: the new strings are translated to Japanese when the branch is merged,
    so these tests do not depend on the catalogue."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@dataclass
class World:
    """The program, with subjects seeded and each learner assigned a tutor.

    tutor → learner, other_tutor → other_learner.
    """

    program: Program
    coordinator: Account
    tutor: Account
    other_tutor: Account
    learner: Account
    other_learner: Account
    admin: Account


@pytest.fixture
def world(app, program, make_user) -> World:
    admin = make_user("admin", name="管理者 花子")
    with app.app_context():
        service.seed_subjects()
        db.session.add(TutorAssignment(learner_id=program.learner.id, tutor_id=program.tutor.id))
        db.session.add(
            TutorAssignment(learner_id=program.other_learner.id, tutor_id=program.other_tutor.id)
        )
        db.session.commit()
    return World(
        program,
        program.coordinator,
        program.tutor,
        program.other_tutor,
        program.learner,
        program.other_learner,
        admin,
    )


@pytest.fixture
def make_round(app, world):
    """Return make_round(year, number, exam_on=None) -> round id."""

    def make(year: int, number: int, exam_on: date | None = None) -> int:
        with app.app_context():
            exam_round = service.save_round(
                user(world.coordinator),
                None,
                year=year,
                number=number,
                exam_on=exam_on or service.default_exam_on(year, number),
            )
            db.session.commit()
            return exam_round.id

    return make


@pytest.fixture
def api(client, make_token):
    """Return api(account, method, path, json=None) using a bearer token per account."""
    tokens: dict[int, str] = {}

    def call(account: Account, method: str, path: str, json=None):
        if account.id not in tokens:
            tokens[account.id] = make_token(account)
        return client.open(path, method=method, json=json, headers=bearer(tokens[account.id]))

    return call


def form_post(client, page: str, data: dict, action: str | None = None):
    """Post a form with a CSRF token taken from the page it lives on."""
    return client.post(action or page, data={"csrf_token": csrf_token(client, page), **data})

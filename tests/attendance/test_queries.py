"""Pages and API answer with a fixed number of SQL queries, whatever the page size."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.attendance.conftest import TOKYO, QueryCounter, bearer
from tutoring.attendance.tasks import sweep_all
from tutoring.database import utcnow
from tutoring.extensions import db


@pytest.fixture
def busy_program(app, program, make_user, book):
    """Five learners with ten weekly sessions each, half of them online, swept."""
    now = utcnow().replace(second=0, microsecond=0)
    first = now - timedelta(weeks=10, hours=5)
    learners = [program.learner, program.other_learner] + [
        make_user("learner", name=f"学習者 {n}") for n in range(3)
    ]
    for index, learner in enumerate(learners):
        book(
            first + timedelta(hours=index * 3),
            learner=learner,
            tutor=program.tutor if index % 2 else program.other_tutor,
            weekly_until=(first + timedelta(weeks=9)).astimezone(TOKYO).date(),
        )
    with app.app_context():
        sweep_all(now, backfill=True)
    return learners


def count(app, client, url, **kwargs) -> int:
    with app.app_context():
        engine = db.engine
    with QueryCounter(engine) as counter:
        response = client.get(url, **kwargs)
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        response.get_data()  # a streamed body runs its queries while it is read
    return counter.count


@pytest.mark.parametrize(
    "path",
    [
        "/attendance?from=2000-01-01&to=2100-01-01&per_page={n}",
        "/attendance/learners?from=2000-01-01&to=2100-01-01&per_page={n}",
    ],
)
def test_review_pages_use_the_same_queries_for_any_page_size(
    app, client, login_as, program, busy_program, path
):
    login_as(program.coordinator)
    small = count(app, client, path.format(n=2))
    large = count(app, client, path.format(n=50))
    assert small == large
    assert small <= 12


def test_the_learners_page_too(app, client, login_as, busy_program):
    login_as(busy_program[0])
    assert count(app, client, "/attendance/me?page=1") == count(app, client, "/attendance/me")


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_the_api_uses_the_same_queries_for_any_page_size(app, client, tokens, busy_program, fmt):
    headers = bearer(tokens["coordinator"])
    client.get("/api/v1/me", headers=headers)  # the token's first use is recorded once
    small = count(app, client, f"/api/v1/attendance?format={fmt}&per_page=3", headers=headers)
    large = count(app, client, f"/api/v1/attendance?format={fmt}&per_page=200", headers=headers)
    assert small == large
    assert small <= 8


def test_the_tutor_review_too(app, client, login_as, program, busy_program):
    login_as(program.tutor)
    path = "/attendance?from=2000-01-01&to=2100-01-01&per_page={n}"
    assert count(app, client, path.format(n=1)) == count(app, client, path.format(n=100))

"""Every page and endpoint of records and notes, for every role: 403 for a role without the
right, 404 for a learner the caller may not see."""

from __future__ import annotations

import pytest

from tests.conftest import csrf_token
from tests.records.conftest import user
from tutoring.extensions import db
from tutoring.notes import service as notes
from tutoring.notes.models import Visibility

ROLES = ("coordinator", "admin", "tutor", "other_tutor", "learner", "other_learner")
READ = (200, 200, 200, 404, 403, 403)  # staff of the learner
PLAN = (200, 200, 200, 404, 403, 403)  # goals, plan, exam attempts, notes
MANAGE = (200, 200, 403, 404, 403, 403)  # profile, consent, consultations, outcomes, reviews
PROGRAM = (200, 200, 200, 200, 403, 403)  # pages about no single learner
ADMIN = (403, 200, 403, 403, 403, 403)

PAGES = [
    ("/learners", PROGRAM),
    ("/learners/{L}", READ),
    ("/learners/{L}/notes", READ),
    ("/learners/{L}/notes/{N}", READ),
    ("/learners/{L}/exams", READ),
    ("/learners/{L}/profile", MANAGE),
    ("/learners/{L}/consent", MANAGE),
    ("/learners/{L}/consultations/new", MANAGE),
    ("/learners/{L}/credits/new", MANAGE),
    ("/learners/{L}/outcomes/new", MANAGE),
    ("/learners/{L}/reviews/new", MANAGE),
    ("/learners/{L}/goals/new", PLAN),
    ("/learners/{L}/plan/new", PLAN),
    ("/learners/{L}/exams/new", PLAN),
    ("/learners/{L}/notes/new", PLAN),
    ("/learners/{L}/notes/{N}/edit", MANAGE),  # its author (a coordinator here) or a coordinator
    ("/reviews", PROGRAM),
    ("/exam-rounds", PROGRAM),
    ("/subjects", PROGRAM),
    ("/admin/audit", ADMIN),
    ("/admin/learners/{L}/export", ADMIN),
    ("/admin/learners/{L}/export.json", ADMIN),
    ("/admin/learners/{L}/erase", ADMIN),
]

# Form posts: (path, expected per role). A valid CSRF token is sent; the data may be empty,
# since the permission is checked before the input.
POSTS = [
    ("/learners/{L}/status", (200, 200, 403, 404, 403, 403)),
    ("/learners/{L}/profile", MANAGE),
    ("/learners/{L}/consent", MANAGE),
    ("/learners/{L}/outcomes/new", MANAGE),
    ("/learners/{L}/reviews/new", MANAGE),
    ("/learners/{L}/goals/new", PLAN),
    ("/learners/{L}/notes/new", PLAN),
    ("/exam-rounds", (200, 200, 403, 403, 403, 403)),
    ("/subjects", (200, 200, 403, 403, 403, 403)),
    ("/admin/learners/{L}/erase", ADMIN),
]


@pytest.fixture
def note_id(app, world) -> int:
    with app.app_context():
        note = notes.create_note(
            user(world.coordinator),
            user(world.learner),
            notes.NoteInput(subject="数学", body="x", visibility=Visibility.LEARNER),
        )
        db.session.commit()
        return note.id


def account(world, role):
    return getattr(world, role)


@pytest.mark.parametrize(("path", "expected"), PAGES)
def test_pages(client, login_as, world, note_id, path, expected):
    url = path.format(L=world.learner.id, N=note_id)
    for role, status in zip(ROLES, expected, strict=True):
        login_as(account(world, role))
        assert client.get(url).status_code == status, (role, url)


@pytest.mark.parametrize(("path", "expected"), POSTS)
def test_form_posts(client, login_as, world, path, expected):
    url = path.format(L=world.learner.id)
    for role, status in zip(ROLES, expected, strict=True):
        login_as(account(world, role))
        token = csrf_token(client, "/settings")
        got = client.post(url, data={"csrf_token": token}).status_code
        # A permitted post with empty data shows the form again with its errors (200).
        assert got == status, (role, url, got)


def test_my_record_is_the_learners_own_page(client, login_as, world):
    login_as(world.learner)
    assert client.get("/my/record").status_code == 200
    login_as(world.tutor)
    assert client.get("/my/record").headers["Location"] == "/learners"


API = [
    ("GET", "/api/v1/learners/{L}", None, (200, 200, 200, 404, 200, 404)),
    ("GET", "/api/v1/learners/{L}/notes", None, (200, 200, 200, 404, 200, 404)),
    ("GET", "/api/v1/learners/{L}/notes/{N}", None, (200, 200, 200, 404, 200, 404)),
    ("GET", "/api/v1/learners/{L}/notes/{N}/revisions", None, (200, 200, 200, 404, 403, 404)),
    (
        "POST",
        "/api/v1/learners/{L}/notes",
        {"subject": "数学", "body": "x", "visibility": "staff"},
        (201, 201, 201, 404, 403, 404),
    ),
    ("PATCH", "/api/v1/learners/{L}/notes/{N}", {"body": "y"}, (200, 200, 403, 404, 403, 404)),
]


@pytest.mark.parametrize(("method", "path", "body", "expected"), API)
def test_api(world, api, note_id, method, path, body, expected):
    url = path.format(L=world.learner.id, N=note_id)
    for role, status in zip(ROLES, expected, strict=True):
        response = api(account(world, role), method, url, body)
        assert response.status_code == status, (role, method, url)


def test_api_needs_a_sign_in(client, world):
    assert client.get(f"/api/v1/learners/{world.learner.id}").status_code == 401
    assert client.get(f"/learners/{world.learner.id}").status_code == 302


def test_a_tutor_reads_case_reviews_of_their_learner_but_does_not_write_them(
    app, client, login_as, world
):
    from datetime import date

    with app.app_context():
        review = notes.save_case_review(
            user(world.coordinator),
            user(world.learner),
            None,
            held_on=date(2026, 9, 1),
            participants="佐藤",
            situation="状況",
            decisions="決定",
        )
        db.session.commit()
        review_id = review.id
    url = f"/learners/{world.learner.id}/reviews/{review_id}"
    login_as(world.tutor)
    assert "状況" in client.get(url).get_data(as_text=True)
    assert client.post(url, data={"csrf_token": csrf_token(client, "/settings")}).status_code == 403
    login_as(world.other_tutor)
    assert client.get(url).status_code == 404
    login_as(world.learner)
    assert client.get(url).status_code == 403
    login_as(world.coordinator)
    assert client.get(f"/learners/{world.other_learner.id}/reviews/{review_id}").status_code == 404


@pytest.fixture
def items(app, world, make_round) -> dict[str, int]:
    """One of each deletable row of the learner's record."""
    from datetime import date

    from tests.records.conftest import subject
    from tutoring.records import service
    from tutoring.records.models import ConsentMethod, CreditSource, OutcomeKind, SubjectResult

    round_id = make_round(2026, 1)
    with app.app_context():
        coordinator, learner = user(world.coordinator), user(world.learner)
        from tutoring.records.models import ExamRound

        found = {
            "consent": service.record_consent(
                coordinator,
                learner,
                given_by="母",
                given_on=date(2026, 4, 1),
                method=ConsentMethod.PAPER,
            ),
            "plan": service.save_plan_item(
                coordinator, learner, subject=subject("数学"), materials="", plan_text=""
            ),
            "credit": service.save_credit(
                coordinator, learner, subject=subject("英語"), source=CreditSource.SCHOOL
            ),
            "outcome": service.add_outcome(
                coordinator, learner, kind=OutcomeKind.JOB_SEEKING, occurred_on=date(2026, 5, 1)
            ),
            "attempt": service.save_attempt(
                coordinator,
                learner,
                None,
                exam_round=db.session.get(ExamRound, round_id),
                results={subject("国語").id: SubjectResult.PENDING},
            ),
        }
        db.session.commit()
        return {name: item.id for name, item in found.items()}


DELETES = [
    ("/learners/{L}/consent/{consent}/withdraw", (302, 302, 403, 404, 403, 403)),
    ("/learners/{L}/outcomes/{outcome}/delete", (302, 302, 403, 404, 403, 403)),
    ("/learners/{L}/credits/{credit}/delete", (302, 302, 403, 404, 403, 403)),
    ("/learners/{L}/plan/{plan}/delete", (302, 302, 302, 404, 403, 403)),
    ("/learners/{L}/exams/{attempt}/delete", (302, 302, 302, 404, 403, 403)),
]


@pytest.mark.parametrize(
    ("path", "role", "status"),
    [
        (path, role, status)
        for path, expected in DELETES
        for role, status in zip(ROLES, expected, strict=True)
    ],
)
def test_deleting_and_withdrawing(client, login_as, world, items, path, role, status):
    url = path.format(L=world.learner.id, **items)
    login_as(account(world, role))
    data = {"csrf_token": csrf_token(client, "/settings"), "withdrawn_on": "2026-10-01"}
    assert client.post(url, data=data).status_code == status
    if status == 302:  # the row belongs to this learner: under another learner it is not found
        other = path.format(L=world.other_learner.id, **items)
        assert client.post(other, data=data).status_code == 404

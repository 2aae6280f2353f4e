"""Case reviews: staff only, and the list of learners due for one around each exam round."""

from __future__ import annotations

from datetime import date

import pytest

from tests.records.conftest import form_post, user
from tutoring.extensions import db
from tutoring.notes import service
from tutoring.people.models import LearnerStatus
from tutoring.records import service as records
from tutoring.validation import ValidationError


def review(app, world, learner, held_on: date) -> None:
    with app.app_context():
        service.save_case_review(
            user(world.coordinator),
            user(learner),
            None,
            held_on=held_on,
            participants="佐藤、鈴木",
            situation="安定して参加",
            decisions="継続",
        )
        db.session.commit()


def due(app, actor, on: date) -> list[tuple[str, str, int]]:
    with app.app_context():
        return [
            (d.learner.name, d.when, d.exam_round.number)
            for d in service.reviews_due(user(actor), on)
        ]


@pytest.fixture
def rounds(make_round):
    make_round(2026, 1, date(2026, 8, 1))
    make_round(2026, 2, date(2026, 11, 7))


def test_before_a_round_learners_without_a_review_since_the_last_round_are_due(app, world, rounds):
    review(app, world, world.learner, date(2026, 7, 20))  # before the last round: does not count
    assert due(app, world.coordinator, date(2026, 10, 1)) == [
        ("伊藤 蓮", "before", 2),
        ("田中 陽向", "before", 2),
    ]
    review(app, world, world.learner, date(2026, 9, 15))
    assert due(app, world.coordinator, date(2026, 10, 1)) == [("伊藤 蓮", "before", 2)]


def test_nothing_is_due_before_the_six_week_window_except_after_the_last_round(app, world, rounds):
    # 2026-09-01: the November round is 9 weeks away; the August round has passed.
    assert {w for _n, w, _r in due(app, world.coordinator, date(2026, 9, 1))} == {"after"}
    review(app, world, world.learner, date(2026, 8, 20))
    review(app, world, world.other_learner, date(2026, 8, 21))
    assert due(app, world.coordinator, date(2026, 9, 1)) == []


def test_after_a_round_everyone_is_due_again(app, world, rounds):
    review(app, world, world.learner, date(2026, 10, 1))
    review(app, world, world.other_learner, date(2026, 10, 2))
    assert due(app, world.coordinator, date(2026, 11, 1)) == []
    assert due(app, world.coordinator, date(2026, 11, 20)) == [
        ("伊藤 蓮", "after", 2),
        ("田中 陽向", "after", 2),
    ]


@pytest.mark.parametrize("app_config", [{"CASE_REVIEW_WEEKS_BEFORE_EXAM": 2}])
def test_the_window_is_configurable(app, world, rounds):
    review(app, world, world.learner, date(2026, 8, 10))
    review(app, world, world.other_learner, date(2026, 8, 10))
    assert due(app, world.coordinator, date(2026, 10, 1)) == []  # no round within 2 weeks


def test_ended_learners_and_other_tutors_learners_are_not_listed(app, world, rounds):
    with app.app_context():
        records.set_status(
            user(world.coordinator),
            user(world.other_learner),
            LearnerStatus.ENDED,
            date(2026, 9, 1),
        )
        db.session.commit()
    assert due(app, world.coordinator, date(2026, 10, 1)) == [("田中 陽向", "before", 2)]
    assert due(app, world.other_tutor, date(2026, 10, 1)) == []
    assert due(app, world.tutor, date(2026, 10, 1)) == [("田中 陽向", "before", 2)]


def test_no_rounds_nothing_due(app, world):
    assert due(app, world.coordinator, date(2026, 10, 1)) == []


def test_review_validation(app, world):
    with app.app_context():
        coordinator, learner = user(world.coordinator), user(world.learner)
        for fields, field in (
            ({"held_on": None}, "held_on"),
            ({"held_on": date(2099, 1, 1)}, "held_on"),
            ({"held_on": date(2026, 9, 1), "next_review_on": date(2026, 8, 1)}, "next_review_on"),
            ({"held_on": date(2026, 9, 1), "situation": "", "decisions": ""}, "situation"),
        ):
            values = {"participants": "", "situation": "x", "decisions": "", **fields}
            with pytest.raises(ValidationError) as bad:
                service.save_case_review(coordinator, learner, None, **values)
            assert bad.value.field == field


def test_reviews_page_and_form(app, client, login_as, world, make_round):
    with app.app_context():
        today = records.today()
    make_round(today.year + 1, 1, date(today.year + 1, 8, 1))
    login_as(world.coordinator)
    page = client.get("/reviews").get_data(as_text=True)
    assert "No review is due now." in page
    done = form_post(
        client,
        f"/learners/{world.learner.id}/reviews/new",
        {
            "held_on": today.isoformat(),
            "participants": "佐藤",
            "situation": "夜型の生活",
            "decisions": "午後の時間帯へ変更",
            "next_review_on": "",
        },
    )
    assert done.status_code == 302
    page = client.get("/reviews").get_data(as_text=True)
    assert "田中 陽向" in page.split("recent-heading")[-1]
    record = client.get(f"/learners/{world.learner.id}").get_data(as_text=True)
    assert "午後の時間帯へ変更" in record


def test_a_learner_never_sees_case_reviews(app, client, login_as, world, api):
    review(app, world, world.learner, date(2026, 9, 1))
    login_as(world.learner)
    for page in ("/my/record", "/", "/reviews", f"/learners/{world.learner.id}"):
        assert "安定して参加" not in client.get(page).get_data(as_text=True), page
    for path in ("", "/notes"):
        text = api(world.learner, "GET", f"/api/v1/learners/{world.learner.id}{path}").get_data(
            as_text=True
        )
        assert "安定して参加" not in text
        assert "case_review" not in text

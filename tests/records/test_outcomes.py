"""Outcomes: what happened after support, each with its own date; ending also sets the status."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.records.conftest import form_post, user
from tutoring.extensions import db
from tutoring.people.models import LearnerProfile, LearnerStatus
from tutoring.records import service
from tutoring.records.models import Outcome, OutcomeKind
from tutoring.validation import ValidationError


def add(app, world, kind: OutcomeKind, on: date, note: str = "") -> None:
    with app.app_context():
        service.add_outcome(
            user(world.coordinator), user(world.learner), kind=kind, occurred_on=on, note=note
        )
        db.session.commit()


def test_outcomes_keep_their_dates_newest_first(app, world):
    add(app, world, OutcomeKind.JOB_SEEKING, date(2026, 4, 1))
    add(app, world, OutcomeKind.EMPLOYMENT_NON_REGULAR, date(2026, 7, 15))
    add(app, world, OutcomeKind.FURTHER_EDUCATION, date(2026, 4, 10))
    with app.app_context():
        found = [(o.kind, o.occurred_on) for o in service.outcomes(user(world.learner))]
    assert found == [
        (OutcomeKind.EMPLOYMENT_NON_REGULAR, date(2026, 7, 15)),
        (OutcomeKind.FURTHER_EDUCATION, date(2026, 4, 10)),
        (OutcomeKind.JOB_SEEKING, date(2026, 4, 1)),
    ]
    with app.app_context():  # a plain date: no shift through time zones when read back
        stored = db.session.query(Outcome).filter_by(kind=OutcomeKind.JOB_SEEKING).one()
        assert stored.occurred_on == date(2026, 4, 1)
        assert type(stored.occurred_on) is date


def test_ending_support_or_a_referral_sets_the_status_from_that_date(app, world):
    past = date.today() - timedelta(days=3)
    add(app, world, OutcomeKind.REFERRAL, past, note="若者サポートステーション")
    with app.app_context():
        learner_profile = db.session.get(LearnerProfile, world.learner.id)
        assert learner_profile.status is LearnerStatus.REFERRED
        assert learner_profile.status_since == past
    add(app, world, OutcomeKind.SUPPORT_ENDED, past + timedelta(days=1))
    with app.app_context():
        assert db.session.get(LearnerProfile, world.learner.id).status is LearnerStatus.ENDED


def test_a_future_outcome_leaves_the_status_alone(app, world):
    add(app, world, OutcomeKind.SUPPORT_ENDED, date.today() + timedelta(days=30))
    with app.app_context():
        assert db.session.get(LearnerProfile, world.learner.id) is None


@pytest.mark.parametrize("on", [None, date(1999, 12, 31), date.today() + timedelta(days=400)])
def test_outcome_dates_out_of_range_are_refused(app, world, on):
    with app.app_context(), pytest.raises(ValidationError) as refused:
        service.add_outcome(
            user(world.coordinator),
            user(world.learner),
            kind=OutcomeKind.JOB_SEEKING,
            occurred_on=on,
        )
    assert refused.value.field == "occurred_on"


def test_outcome_form_and_timeline(client, login_as, world):
    login_as(world.coordinator)
    page = f"/learners/{world.learner.id}/outcomes/new"
    bad = form_post(client, page, {"kind": "employment_regular", "occurred_on": ""})
    assert 'id="occurred_on-error"' in bad.get_data(as_text=True)
    done = form_post(client, page, {"kind": "employment_welfare", "occurred_on": "2026-10-01"})
    assert done.status_code == 302
    record = client.get(f"/learners/{world.learner.id}").get_data(as_text=True)
    assert "Welfare employment" in record
    assert 'datetime="2026-10-01"' in record
    login_as(world.tutor)
    assert client.get(page).status_code == 403

"""Minors need a guardian's consent before sessions are booked; the profile says who is a minor."""

from __future__ import annotations

from datetime import date

import pytest

from tests.api.test_auth_and_errors import assert_error
from tests.records.conftest import form_post, user
from tests.scheduling.conftest import session_count, tokyo
from tutoring.extensions import db
from tutoring.people.models import AgeBand, LearnerProfile
from tutoring.records import service
from tutoring.records.models import ConsentMethod, GuardianConsent
from tutoring.validation import ValidationError

THIS_YEAR = date.today().year


def profile(**fields) -> LearnerProfile:
    return LearnerProfile(**fields)


@pytest.mark.parametrize(
    ("fields", "minor"),
    [
        ({}, None),
        ({"birth_year": THIS_YEAR - 16}, True),
        ({"birth_year": THIS_YEAR - 17}, True),
        # Turning 18 this year: maybe still 17, so a minor unless the age band says otherwise.
        ({"birth_year": THIS_YEAR - 18}, True),
        ({"birth_year": THIS_YEAR - 18, "age_band": AgeBand.FROM_18_TO_19}, False),
        ({"birth_year": THIS_YEAR - 19}, False),
        # The birth year wins over a stale age band.
        ({"birth_year": THIS_YEAR - 25, "age_band": AgeBand.UNDER_18}, False),
        ({"age_band": AgeBand.UNDER_18}, True),
        ({"age_band": AgeBand.TWENTIES}, False),
    ],
)
def test_who_is_a_minor(app, fields, minor):
    with app.app_context():
        assert service.is_minor(profile(**fields), date(THIS_YEAR, 6, 1)) is minor


def set_profile(app, world, **fields):
    with app.app_context():
        service.save_profile(
            user(world.coordinator), user(world.learner), name="田中 陽向", **fields
        )
        db.session.commit()


def give_consent(app, world) -> int:
    with app.app_context():
        consent = service.record_consent(
            user(world.coordinator),
            user(world.learner),
            given_by="母 田中 由美",
            given_on=date.today(),
            method=ConsentMethod.PAPER,
        )
        db.session.commit()
        return consent.id


def test_booking_a_minor_without_consent_is_refused_with_a_clear_message(app, world, book):
    set_profile(app, world, birth_year=THIS_YEAR - 16)
    with pytest.raises(ValidationError) as refused:
        book(tokyo(2026, 12, 1, 16, 0))
    assert refused.value.field == "learner_id"
    assert "minor" in str(refused.value.message)
    assert "guardian" in str(refused.value.message)
    assert session_count(app) == 0

    give_consent(app, world)
    assert len(book(tokyo(2026, 12, 1, 16, 0))) == 1


def test_withdrawn_consent_refuses_again(app, world, book):
    set_profile(app, world, age_band=AgeBand.UNDER_18)
    consent_id = give_consent(app, world)
    with app.app_context():
        service.withdraw_consent(
            user(world.coordinator),
            user(world.learner),
            db.session.get(GuardianConsent, consent_id),
            date.today(),
        )
        db.session.commit()
        assert service.consent_missing(user(world.learner))
    with pytest.raises(ValidationError):
        book(tokyo(2026, 12, 1, 16, 0))


@pytest.mark.parametrize(
    "fields", [{}, {"birth_year": THIS_YEAR - 20}, {"age_band": AgeBand.TWENTIES}]
)
def test_adults_and_unknown_ages_book_without_consent(app, world, book, fields):
    if fields:
        set_profile(app, world, **fields)
    assert len(book(tokyo(2026, 12, 1, 16, 0))) == 1


@pytest.mark.parametrize("app_config", [{"REQUIRE_GUARDIAN_CONSENT": False}])
def test_the_rule_can_be_switched_off(app, world, book):
    set_profile(app, world, birth_year=THIS_YEAR - 16)
    assert len(book(tokyo(2026, 12, 1, 16, 0))) == 1


def test_api_and_form_refuse_a_minor_naming_the_learner(app, client, login_as, world, api):
    set_profile(app, world, birth_year=THIS_YEAR - 15)
    response = api(
        world.coordinator,
        "POST",
        "/api/v1/sessions",
        {
            "learner_id": world.learner.id,
            "tutor_id": world.tutor.id,
            "starts_at": "2026-12-01T16:00:00+09:00",
        },
    )
    error = assert_error(response, 400, "invalid")
    assert error["field"] == "learner_id"
    assert "guardian consent" in error["message"]
    login_as(world.coordinator)
    page = form_post(
        client,
        "/sessions/new",
        {
            "learner_id": str(world.learner.id),
            "tutor_id": str(world.tutor.id),
            "kind": "study",
            "mode": "online",
            "day": "2026-12-01",
            "start_time": "16:00",
            "duration_minutes": "120",
        },
    ).get_data(as_text=True)
    assert 'id="learner_id-error"' in page
    assert "no guardian consent is recorded" in page
    assert session_count(app) == 0


def test_record_shows_the_missing_consent_and_the_consent_page_records_it(
    app, client, login_as, world
):
    set_profile(app, world, birth_year=THIS_YEAR - 16)
    login_as(world.coordinator)
    record = client.get(f"/learners/{world.learner.id}").get_data(as_text=True)
    assert "no guardian consent is recorded" in record
    page = f"/learners/{world.learner.id}/consent"
    bad = form_post(client, page, {"given_by": "", "given_on": "", "method": "paper"})
    assert 'id="given_by-error"' in bad.get_data(as_text=True)
    assert 'id="given_on-error"' in bad.get_data(as_text=True)
    future = form_post(
        client, page, {"given_by": "母", "given_on": "2099-01-01", "method": "paper"}
    )
    assert 'id="given_on-error"' in future.get_data(as_text=True)
    done = form_post(
        client,
        page,
        {"given_by": "母 田中 由美", "given_on": date.today().isoformat(), "method": "online"},
    )
    assert done.status_code == 302
    with app.app_context():
        consent = service.current_consent(user(world.learner))
        assert consent.given_by == "母 田中 由美"
        assert consent.method is ConsentMethod.ONLINE
        assert consent.recorded_by_id == world.coordinator.id
    record = client.get(f"/learners/{world.learner.id}").get_data(as_text=True)
    assert "no guardian consent is recorded" not in record
    assert "Given by 母 田中 由美" in record


def test_profile_validation_names_the_field(app, client, login_as, world):
    login_as(world.coordinator)
    page = f"/learners/{world.learner.id}/profile"
    base = {"name": "田中 陽向", "furigana": "たなか ひなた", "age_band": "", "school_situation": "",
            "coordinator_id": "", "preferred_contact": "", "contact_detail": ""}  # fmt: skip
    for field, value in (("furigana", "Tanaka"), ("birth_year", "1900"), ("name", "")):
        response = form_post(client, page, {**base, field: value})
        assert response.status_code == 200
        assert f'id="{field}-error"' in response.get_data(as_text=True), field
    ok = form_post(
        client,
        page,
        {**base, "birth_year": str(THIS_YEAR - 17), "school_situation": "on_leave",
         "preferred_contact": "line", "coordinator_id": str(world.coordinator.id)},
    )  # fmt: skip
    assert ok.status_code == 302
    with app.app_context():
        saved = db.session.get(LearnerProfile, world.learner.id)
        assert saved.furigana == "たなか ひなた"
        assert saved.school_situation.value == "on_leave"
        assert saved.coordinator_id == world.coordinator.id


def test_status_changes_keep_their_dates(app, client, login_as, world):
    login_as(world.coordinator)
    page = f"/learners/{world.learner.id}"
    form_post(client, page, {"status": "paused", "since": "2026-09-01"}, f"{page}/status")
    form_post(client, page, {"status": "active", "since": "2026-10-15"}, f"{page}/status")
    with app.app_context():
        history = service.status_history(user(world.learner))
        assert [(c.status.value, c.since) for c in history] == [
            ("active", date(2026, 10, 15)),
            ("paused", date(2026, 9, 1)),
        ]
        assert db.session.get(LearnerProfile, world.learner.id).status_since == date(2026, 10, 15)

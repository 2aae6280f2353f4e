"""The rules of referrals: life cycle with history, acceptance, consent to share, referrals out."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tutoring.extensions import db
from tutoring.validation import ValidationError


def get(model, id_):
    return db.session.get(model, id_)


def users(*accounts):
    from tutoring.people.models import User

    return [db.session.get(User, a.id) for a in accounts]


def test_life_cycle_keeps_every_step_with_its_message(app, program, partners, submit):
    from tutoring.partners import service
    from tutoring.partners.models import Referral, ReferralStatus
    from tutoring.people.models import LearnerStatus, Role, SchoolSituation
    from tutoring.records import service as records

    referral_id = submit(partners.liaison)
    with app.app_context():
        coordinator, liaison = users(program.coordinator, partners.liaison)
        referral = get(Referral, referral_id)
        service.ask_for_more(coordinator, referral, "本人は来られそうですか？")
        service.add_information(liaison, referral, "オンラインなら参加できそうです。")
        learner = service.accept(coordinator, referral, "初回面談を調整します。")
        db.session.commit()
        steps = [(e.status, e.message) for e in service.history(referral)]
        assert steps == [
            (ReferralStatus.SUBMITTED, ""),
            (ReferralStatus.MORE_INFO, "本人は来られそうですか？"),
            (ReferralStatus.SUBMITTED, "オンラインなら参加できそうです。"),
            (ReferralStatus.ACCEPTED, "初回面談を調整します。"),
        ]
        assert referral.status is ReferralStatus.ACCEPTED
        assert learner.role is Role.LEARNER
        assert learner.name == "青木 翔"
        profile = records.profile_of(learner)
        assert profile.school_situation is SchoolSituation.ENROLLED_AT_RISK
        assert profile.status is LearnerStatus.ACTIVE
        assert referral.learner_id == learner.id
        # Decided: no second decision.
        with pytest.raises(ValidationError) as error:
            service.decline(coordinator, referral, "重複")
        assert error.value.field == "status"


def test_declining_needs_a_reason_and_creates_no_learner(app, program, partners, submit):
    from tutoring.partners import service
    from tutoring.partners.models import Referral, ReferralStatus
    from tutoring.people.models import User

    referral_id = submit(partners.liaison)
    with app.app_context():
        coordinator, liaison = users(program.coordinator, partners.liaison)
        referral = get(Referral, referral_id)
        before = db.session.query(User).count()
        with pytest.raises(ValidationError) as error:
            service.decline(coordinator, referral, "  ")
        assert error.value.field == "message"
        service.decline(coordinator, referral, "対象年齢外のため、地域若者サポートステーションへ。")
        assert referral.status is ReferralStatus.DECLINED
        assert db.session.query(User).count() == before
        assert service.history(referral)[-1].message.startswith("対象年齢外")
        # The liaison cannot answer a question nobody asked.
        with pytest.raises(ValidationError):
            service.add_information(liaison, referral, "追加")


def test_only_coordinators_decide_and_only_liaisons_refer(app, program, partners, submit):
    from tutoring.partners import service
    from tutoring.partners.models import GuardianConsentStatus, Referral
    from tutoring.records.access import AccessDenied

    referral_id = submit(partners.liaison)
    with app.app_context():
        tutor, liaison, coordinator = users(program.tutor, partners.liaison, program.coordinator)
        with pytest.raises(AccessDenied):
            service.accept(liaison, get(Referral, referral_id))
        with pytest.raises(AccessDenied):
            service.accept(tutor, get(Referral, referral_id))
        data = service.ReferralInput(
            student_name="x",
            situation="y",
            contact_route="z",
            guardian_consent=GuardianConsentStatus.PENDING,
        )
        with pytest.raises(AccessDenied):
            service.submit_referral(coordinator, data)


def test_bad_referral_names_the_field(app, partners):
    from tutoring.partners import service
    from tutoring.partners.models import GuardianConsentStatus, Referral

    with app.app_context():
        [liaison] = users(partners.liaison)
        for values, field in (
            ({"student_name": ""}, "student_name"),
            ({"situation": "x" * 2001}, "situation"),
            ({"contact_route": " "}, "contact_route"),
            ({"guardian_consent": None}, "guardian_consent"),
        ):
            data = service.ReferralInput(
                student_name="青木",
                situation="欠席",
                contact_route="担任",
                guardian_consent=GuardianConsentStatus.GIVEN,
            )
            for key, value in values.items():
                setattr(data, key, value)
            with pytest.raises(ValidationError) as error:
                service.submit_referral(liaison, data)
            assert error.value.field == field
        assert db.session.query(Referral).count() == 0


def accepted(app, program, partners, submit, *, birth_year=None):
    """Submit and accept a referral; return (referral id, learner id)."""
    from tutoring.partners import service
    from tutoring.partners.models import Referral
    from tutoring.records import service as records

    referral_id = submit(partners.liaison)
    with app.app_context():
        [coordinator] = users(program.coordinator)
        referral = get(Referral, referral_id)
        learner = service.accept(coordinator, referral)
        if birth_year is not None:
            records.profile_for_update(learner).birth_year = birth_year
        db.session.commit()
        return referral_id, learner.id


def test_liaison_sees_only_consented_fields_and_nothing_after_withdrawal(
    app, program, partners, submit
):
    from tutoring.partners import service
    from tutoring.partners.models import Referral
    from tutoring.records.models import AuditEntry

    referral_id, _ = accepted(app, program, partners, submit, birth_year=date.today().year - 20)
    with app.app_context():
        coordinator, liaison = users(program.coordinator, partners.liaison)
        referral = get(Referral, referral_id)
        assert service.shared_view(liaison, referral) is None  # no consent yet
        consent = service.record_sharing(
            coordinator, referral, fields=["back_at_school"], learner_agreed_on=date.today()
        )
        db.session.commit()
        shared = service.referral_json(liaison, referral)["shared"]
        assert shared == {"consented": ["back_at_school"], "back_at_school": False}
        assert "learner_id" not in service.referral_json(liaison, referral)
        assert db.session.query(AuditEntry).filter_by(target="partner_view").count() >= 1
        service.withdraw_sharing(coordinator, consent)
        db.session.commit()
        assert service.shared_view(liaison, referral) is None
        assert service.referral_json(liaison, referral)["shared"] is None


def test_a_minor_shares_nothing_without_the_guardian(app, program, partners, submit):
    from tutoring.partners import service
    from tutoring.partners.models import Referral

    referral_id, _ = accepted(app, program, partners, submit, birth_year=date.today().year - 16)
    with app.app_context():
        coordinator, liaison = users(program.coordinator, partners.liaison)
        referral = get(Referral, referral_id)
        with pytest.raises(ValidationError) as error:
            service.record_sharing(
                coordinator, referral, fields=["exam_progress"], learner_agreed_on=date.today()
            )
        assert error.value.field == "guardian_name"
        service.record_sharing(
            coordinator,
            referral,
            fields=["exam_progress", "attendance_rate"],
            learner_agreed_on=date.today(),
            guardian_name="母",
            guardian_agreed_on=date.today(),
        )
        view = service.shared_view(liaison, referral)
        assert view.consented == ["attendance_rate", "exam_progress"]
        assert set(view.as_json()) == {"consented", "attendance_rate", "exam_progress"}


def test_back_at_school_follows_the_latest_outcome(app, program, partners, submit):
    from tutoring.partners import service
    from tutoring.partners.models import Referral
    from tutoring.records import service as records
    from tutoring.records.models import OutcomeKind

    referral_id, learner_id = accepted(
        app, program, partners, submit, birth_year=date.today().year - 20
    )
    with app.app_context():
        coordinator, liaison = users(program.coordinator, partners.liaison)
        referral = get(Referral, referral_id)
        service.record_sharing(
            coordinator, referral, fields=["back_at_school"], learner_agreed_on=date.today()
        )
        records.add_outcome(
            coordinator,
            referral.learner,
            kind=OutcomeKind.RETURN_TO_SCHOOL,
            occurred_on=date.today(),
            note="",
        )
        assert service.shared_view(liaison, referral).back_at_school is True


def test_outreach_and_referral_out_reach_the_timeline(app, program, partners, submit):
    from tutoring.partners import service
    from tutoring.partners.models import OutreachWay, Referral
    from tutoring.records import timeline

    referral_id, learner_id = accepted(app, program, partners, submit)
    with app.app_context():
        [coordinator] = users(program.coordinator)
        referral = get(Referral, referral_id)
        service.record_outreach(
            coordinator,
            referral,
            contacted_on=date.today(),
            way=OutreachWay.VISIT,
            who="佐藤（担任と同行）",
            outcome="本人と会えた",
        )
        service.record_referral_out(
            coordinator,
            referral.learner,
            agency="地域若者サポートステーション",
            referred_on=date.today(),
            reason="就労の相談を希望",
        )
        kinds = [e.kind for e in timeline.timeline(coordinator, referral.learner)]
        assert "outreach" in kinds
        assert "referral_out" in kinds
        with pytest.raises(ValidationError) as error:
            service.record_outreach(
                coordinator,
                referral,
                contacted_on=date.today() + timedelta(days=2),
                way=OutreachWay.PHONE,
                who="佐藤",
                outcome="",
            )
        assert error.value.field == "contacted_on"


def test_learners_referred_out_between_counts_the_days_inclusive(app, program, make_user):
    from tutoring.partners import service
    from tutoring.people.models import User

    with app.app_context():
        coordinator = db.session.get(User, program.coordinator.id)
        learner = db.session.get(User, program.learner.id)
        for day in (
            date(2025, 3, 31),
            date(2025, 4, 1),
            date(2025, 10, 5),
            date(2026, 3, 31),
            date(2026, 4, 1),
        ):
            service.record_referral_out(
                coordinator, learner, agency="福祉事務所", referred_on=day, reason="生活支援"
            )
        db.session.commit()
        other = db.session.get(User, program.other_learner.id)
        service.record_referral_out(
            coordinator, other, agency="ハローワーク", referred_on=date(2026, 3, 31), reason="就労"
        )
        db.session.commit()
        between = service.learners_referred_out_between
        # Three referrals of one learner and one of another in FY2025: two learners.
        assert between(date(2025, 4, 1), date(2026, 3, 31)) == {learner.id, other.id}
        assert between(date(2024, 4, 1), date(2025, 3, 31)) == {learner.id}
        assert between(date(2030, 4, 1), date(2031, 3, 31)) == set()


def test_council_lists_referrals_of_schools_with_changes_since(app, program, partners, submit):
    from tutoring.partners import service
    from tutoring.partners.models import OrganisationKind, Referral

    first = submit(partners.liaison)
    submit(partners.other_liaison, student_name="森 結")
    with app.app_context():
        [coordinator] = users(program.coordinator)
        service.accept(coordinator, get(Referral, first))
        db.session.commit()
        rows = service.council(coordinator, date.today(), (OrganisationKind.SCHOOL,))
        assert {r.referral.student_name for r in rows} == {"青木 翔", "森 結"}
        mine = next(r for r in rows if r.referral.id == first)
        assert [e.status.value for e in mine.changes] == ["submitted", "accepted"]
        later = service.council(
            coordinator, date.today() + timedelta(days=1), (OrganisationKind.SCHOOL,)
        )
        assert all(r.changes == [] for r in later)
        assert service.council(coordinator, date.today(), (OrganisationKind.OTHER,)) == []


def test_erasing_the_learner_erases_the_referral_story_and_closes_the_view(
    app, program, partners, submit, make_user
):
    from tutoring.partners import service
    from tutoring.partners.models import OutreachWay, Referral, SharingConsent
    from tutoring.people.models import User
    from tutoring.records import privacy

    referral_id, learner_id = accepted(
        app, program, partners, submit, birth_year=date.today().year - 20
    )
    admin_account = make_user("admin")
    with app.app_context():
        coordinator, liaison = users(program.coordinator, partners.liaison)
        admin = db.session.get(User, admin_account.id)
        referral = get(Referral, referral_id)
        service.record_sharing(
            coordinator, referral, fields=["exam_progress"], learner_agreed_on=date.today()
        )
        service.record_outreach(
            coordinator,
            referral,
            contacted_on=date.today(),
            way=OutreachWay.PHONE,
            who="佐藤",
            outcome="母親と話せた",
        )
        db.session.commit()
        exported = privacy.export_learner(admin, referral.learner)["partners"]
        assert exported["referrals"][0]["situation"].startswith("5月から")
        assert exported["outreach"][0]["outcome"] == "母親と話せた"
        pseudonym = privacy.erase_learner(admin, referral.learner, confirmation="青木 翔")
        db.session.commit()
        referral = get(Referral, referral_id)
        assert referral.student_name == pseudonym
        assert referral.situation == ""
        assert referral.contact_route == ""
        assert service.outreach_of(referral.learner)[0].outcome == ""
        assert db.session.query(SharingConsent).count() == 0
        assert service.shared_view(liaison, referral) is None

"""Demo partners: one high school with a liaison, one referral waiting and one accepted.

The accepted referral is that of a demo learner already in the program (渡辺 結衣), so the
demo keeps its four learners.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tutoring.extensions import db
from tutoring.partners import service
from tutoring.partners.models import (
    GuardianConsentStatus,
    Liaison,
    Organisation,
    OrganisationKind,
    OutreachWay,
    Referral,
    ReferralEvent,
    ReferralStatus,
)
from tutoring.people.models import User

SCHOOL = "都立みどり高校"


def load(people: dict[str, User]) -> None:
    """Add the demo school, link its liaison and make its two referrals, once."""
    coordinator = people["coordinator@example.org"]
    liaison = people["liaison@example.org"]
    school = db.session.scalar(select(Organisation).where(Organisation.name == SCHOOL))
    if school is None:
        school = service.save_organisation(
            coordinator, None, name=SCHOOL, kind=OrganisationKind.SCHOOL
        )
    if db.session.get(Liaison, liaison.id) is None:
        db.session.add(Liaison(user_id=liaison.id, organisation_id=school.id))
        db.session.flush()
    if db.session.scalar(select(Referral.id).where(Referral.organisation_id == school.id)):
        return
    learner = people["learner3@example.org"]
    accepted = service.submit_referral(
        liaison,
        service.ReferralInput(
            student_name=learner.name,
            school_year="全日制2年",
            situation="5月の連休明けから欠席が続き、休学中。夜型の生活。"
            "本人は勉強を続けたい気持ちはある。",
            tried="担任の家庭訪問（2回）、スクールカウンセラーとの面談",
            contact_route="担任経由。母親の携帯電話に連絡可。",
            guardian_consent=GuardianConsentStatus.GIVEN,
        ),
    )
    # Accepted onto the existing learner's record (service.accept would make a new account).
    accepted.status = ReferralStatus.ACCEPTED
    accepted.learner_id = learner.id
    db.session.add(
        ReferralEvent(
            referral_id=accepted.id,
            actor_id=coordinator.id,
            status=ReferralStatus.ACCEPTED,
            message="まず訪問で本人と会います。",
        )
    )
    db.session.flush()
    service.record_outreach(
        coordinator,
        accepted,
        contacted_on=service.today() - timedelta(days=7),
        way=OutreachWay.VISIT,
        who="佐藤（担任と同行）",
        outcome="本人と会えた。オンラインなら週1回参加してみたいとのこと。",
    )
    service.record_sharing(
        coordinator,
        accepted,
        fields=["attendance_rate", "back_at_school"],
        learner_agreed_on=service.today() - timedelta(days=7),
        guardian_name="母",
        guardian_agreed_on=service.today() - timedelta(days=7),
    )
    service.submit_referral(
        liaison,
        service.ReferralInput(
            student_name="森 結",
            school_year="定時制1年",
            situation="アルバイトとの両立が難しく、欠席が増えている。",
            contact_route="本人のLINE（担任が仲介）",
            guardian_consent=GuardianConsentStatus.PENDING,
        ),
    )
    db.session.flush()

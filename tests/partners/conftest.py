"""Fixtures of partners: two schools, each with a liaison, and the program's coordinator."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.conftest import PASSWORD, Account
from tutoring.extensions import db


@dataclass
class Partners:
    school_id: int
    other_school_id: int
    liaison: Account
    other_liaison: Account


def make_liaison(app, organisation_id: int, email: str, name: str) -> Account:
    from tutoring.partners import service
    from tutoring.partners.models import Organisation

    with app.app_context():
        organisation = db.session.get(Organisation, organisation_id)
        user = service.create_liaison(
            _admin(), organisation, name=name, email=email, password=PASSWORD
        )
        db.session.commit()
        return Account(
            user.id, user.email, None, user.name, "liaison", PASSWORD, user.session_version
        )


def _admin():
    """Return an admin account for set-up (services take an actor)."""
    from sqlalchemy import select

    from tutoring.people.models import Role, User

    return db.session.scalar(select(User).where(User.role == Role.ADMIN))


@pytest.fixture
def partners(app, program, make_user) -> Partners:
    from tutoring.partners import service
    from tutoring.partners.models import OrganisationKind

    make_user("admin", name="管理 者")
    with app.app_context():
        admin = _admin()
        school = service.save_organisation(
            admin, None, name="都立みどり高校", kind=OrganisationKind.SCHOOL
        )
        other = service.save_organisation(
            admin, None, name="ひかり特別支援学校", kind=OrganisationKind.SCHOOL
        )
        db.session.commit()
        school_id, other_id = school.id, other.id
    return Partners(
        school_id=school_id,
        other_school_id=other_id,
        liaison=make_liaison(app, school_id, "liaison@midori.example.org", "山田 先生"),
        other_liaison=make_liaison(app, other_id, "liaison@hikari.example.org", "川口 先生"),
    )


REFERRAL = {
    "student_name": "青木 翔",
    "school_year": "2年",
    "situation": "5月から欠席が続いている。夜型の生活。",
    "tried": "担任の家庭訪問",
    "contact_route": "担任経由、母親の電話",
    "guardian_consent": "given",
}


@pytest.fixture
def submit(app):
    """Return submit(liaison_account, **fields) -> referral id, through the service."""
    from tutoring.partners import service
    from tutoring.partners.models import GuardianConsentStatus
    from tutoring.people.models import User

    def submit_(account: Account, **fields) -> int:
        values = {**REFERRAL, **fields}
        values["guardian_consent"] = GuardianConsentStatus(values["guardian_consent"])
        with app.app_context():
            referral = service.submit_referral(
                db.session.get(User, account.id), service.ReferralInput(**values)
            )
            db.session.commit()
            return referral.id

    return submit_

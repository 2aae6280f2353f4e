"""Partner organisations, their liaisons, referrals in and out, outreach and sharing consent."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tutoring.crypto import EncryptedText
from tutoring.database import enum_column, utcnow
from tutoring.extensions import db
from tutoring.people.models import User


class OrganisationKind(enum.StrEnum):
    SCHOOL = "school"  # 高校, 特別支援学校
    YOUTH_SUPPORT_STATION = "youth_station"  # 地域若者サポートステーション
    WELFARE_OFFICE = "welfare_office"  # 福祉事務所, 教育委員会など
    OTHER = "other"


class ReferralStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    MORE_INFO = "more_info"  # the coordinator asked the liaison for more
    ACCEPTED = "accepted"
    DECLINED = "declined"


class GuardianConsentStatus(enum.StrEnum):
    """What the referring organisation says about the guardian's consent to the referral."""

    GIVEN = "given"
    PENDING = "pending"
    NOT_NEEDED = "not_needed"  # an adult student
    REFUSED = "refused"


class OutreachWay(enum.StrEnum):
    VISIT = "visit"
    PHONE = "phone"
    LINE = "line"
    ONLINE = "online"


class Organisation(db.Model):
    """A partner school or agency that refers students and may see their consented progress."""

    __tablename__ = "partner_organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[OrganisationKind] = mapped_column(enum_column(OrganisationKind))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Liaison(db.Model):
    """A liaison account's organisation: each liaison belongs to exactly one."""

    __tablename__ = "partner_liaisons"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("partner_organisations.id", ondelete="CASCADE"), index=True
    )

    user: Mapped[User] = relationship()
    organisation: Mapped[Organisation] = relationship()


class Referral(db.Model):
    """A student at risk handed to the program by a partner; the free text is encrypted."""

    __tablename__ = "partner_referrals"
    __table_args__ = (Index("ix_partner_referrals_org_status", "organisation_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("partner_organisations.id", ondelete="CASCADE")
    )
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    student_name: Mapped[str] = mapped_column(String(100))
    school_year: Mapped[str] = mapped_column(String(30), default="")
    situation: Mapped[str] = mapped_column(EncryptedText)
    tried: Mapped[str] = mapped_column(EncryptedText, default="")
    contact_route: Mapped[str] = mapped_column(EncryptedText, default="")
    guardian_consent: Mapped[GuardianConsentStatus] = mapped_column(
        enum_column(GuardianConsentStatus)
    )
    status: Mapped[ReferralStatus] = mapped_column(
        enum_column(ReferralStatus), default=ReferralStatus.SUBMITTED
    )
    # The learner account made when the referral was accepted.
    learner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # The council meeting's agreed support plan: a case review with external participants.
    plan_review_id: Mapped[int | None] = mapped_column(
        ForeignKey("case_reviews.id", ondelete="SET NULL")
    )
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    organisation: Mapped[Organisation] = relationship()
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    learner: Mapped[User | None] = relationship(foreign_keys=[learner_id])


class ReferralEvent(db.Model):
    """One step of a referral's life: submitted, more asked, more given, accepted, declined."""

    __tablename__ = "partner_referral_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(
        ForeignKey("partner_referrals.id", ondelete="CASCADE"), index=True
    )
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[ReferralStatus] = mapped_column(enum_column(ReferralStatus))
    # The question, the answer or the reason for declining: shared with the liaison.
    message: Mapped[str] = mapped_column(EncryptedText, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)

    actor: Mapped[User | None] = relationship()


class OutreachContact(db.Model):
    """A contact the program made with a referred student: when, how, who, what came of it."""

    __tablename__ = "partner_outreach"

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    contacted_on: Mapped[date]
    way: Mapped[OutreachWay] = mapped_column(enum_column(OutreachWay))
    # Who made the contact, as written (staff, or e.g. "担任と同行").
    who: Mapped[str] = mapped_column(String(100))
    outcome: Mapped[str] = mapped_column(EncryptedText, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReferralOut(db.Model):
    """The program referred a learner on to another agency."""

    __tablename__ = "partner_referrals_out"

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    agency: Mapped[str] = mapped_column(String(100))
    referred_on: Mapped[date] = mapped_column(index=True)
    reason: Mapped[str] = mapped_column(EncryptedText)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SharingConsent(db.Model):
    """What a learner (and a minor's guardian) agreed the referring organisation may see."""

    __tablename__ = "partner_sharing_consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("partner_organisations.id", ondelete="CASCADE")
    )
    attendance_rate: Mapped[bool] = mapped_column(default=False)
    back_at_school: Mapped[bool] = mapped_column(default=False)
    exam_progress: Mapped[bool] = mapped_column(default=False)
    learner_agreed_on: Mapped[date]
    # For minors: the guardian's agreement too (who, when).
    guardian_name: Mapped[str | None] = mapped_column(String(100))
    guardian_agreed_on: Mapped[date | None]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None]
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])

    @property
    def fields(self) -> list[str]:
        """Return the names of the shared fields."""
        return [name for name in SHARED_FIELDS if getattr(self, name)]


SHARED_FIELDS = ("attendance_rate", "back_at_school", "exam_progress")

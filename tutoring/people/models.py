"""User accounts."""

from __future__ import annotations

import enum
from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tutoring.database import enum_column, utcnow
from tutoring.extensions import db


class Role(enum.StrEnum):
    LEARNER = "learner"
    # A partner school's or agency's contact person (tutoring/partners): not staff, ranks
    # below tutors, and confined to the partners pages (tutoring/partners/access.py).
    LIAISON = "liaison"
    TUTOR = "tutor"
    COORDINATOR = "coordinator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        """Return how much this role may do; a user may only create roles up to their own."""
        return list(Role).index(self)

    @property
    def is_staff(self) -> bool:
        return self not in (Role.LEARNER, Role.LIAISON)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Learners often have no e-mail: they sign in with a login name chosen on invitation.
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    login_name: Mapped[str | None] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[Role] = mapped_column(enum_column(Role))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # Shown to the other person in video rooms; None shows `name`. Learners may prefer a nickname.
    room_display_name: Mapped[str | None] = mapped_column(String(50))
    # None: follow the browser's Accept-Language.
    locale: Mapped[str | None] = mapped_column(String(5))
    active: Mapped[bool] = mapped_column(default=True)
    # Second factor (TOTP, RFC 6238): the shared secret once enrolment is confirmed, and the
    # last time step accepted, so a code cannot be used twice.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_last_step: Mapped[int | None]
    # Bumped on password change or "sign out everywhere"; part of the session id.
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def get_id(self) -> str:
        return f"{self.id}.{self.session_version}"

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def has_second_factor(self) -> bool:
        return self.totp_secret is not None

    @property
    def shown_in_rooms(self) -> str:
        return self.room_display_name or self.name

    @property
    def sign_in_name(self) -> str:
        return self.email or self.login_name or ""

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role.value}>"


class TutorAssignment(db.Model):
    """A tutor assigned to support a learner; a learner may have several tutors."""

    __tablename__ = "tutor_assignments"
    __table_args__ = (UniqueConstraint("learner_id", "tutor_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    tutor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)

    learner: Mapped[User] = relationship(foreign_keys=[learner_id])
    tutor: Mapped[User] = relationship(foreign_keys=[tutor_id])


class AgeBand(enum.StrEnum):
    """A learner's age, when the exact birth year is not recorded (or to settle the year of 18)."""

    UNDER_18 = "under_18"
    FROM_18_TO_19 = "18_19"
    TWENTIES = "20s"
    THIRTIES_AND_OVER = "30_plus"


class SchoolSituation(enum.StrEnum):
    DROPPED_OUT = "dropped_out"  # 中途退学
    ON_LEAVE = "on_leave"  # 休学中
    NOT_ATTENDING = "not_attending"  # 在籍しているが不登校
    NEVER_ENROLLED = "never_enrolled"  # 高校に進学していない
    ENROLLED_AT_RISK = "enrolled_at_risk"  # 在籍中だが中退のおそれ (referred by a partner school)


class LearnerStatus(enum.StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"
    REFERRED = "referred"
    ENDED = "ended"


class ContactMethod(enum.StrEnum):
    LINE = "line"
    EMAIL = "email"
    PHONE = "phone"


class LearnerProfile(db.Model):
    """What support needs to know about a learner beyond the account, and nothing more."""

    __tablename__ = "learner_profiles"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    # The coordinator responsible for this learner's support.
    coordinator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The reading of the learner's name (ふりがな); the display name is users.name.
    furigana: Mapped[str | None] = mapped_column(String(100))
    # A birth year, not a date of birth: enough to know whether guardian consent is needed.
    birth_year: Mapped[int | None]
    age_band: Mapped[AgeBand | None] = mapped_column(enum_column(AgeBand))
    school_situation: Mapped[SchoolSituation | None] = mapped_column(enum_column(SchoolSituation))
    # The day the learner joined the program (a plain date in the program's calendar).
    enrolled_on: Mapped[date | None]
    status: Mapped[LearnerStatus] = mapped_column(
        enum_column(LearnerStatus), default=LearnerStatus.ACTIVE, server_default="active"
    )
    status_since: Mapped[date | None]
    preferred_contact: Mapped[ContactMethod | None] = mapped_column(enum_column(ContactMethod))
    # A phone number or LINE name when the program contacts the learner that way.
    contact_detail: Mapped[str | None] = mapped_column(String(100))
    # Set when an admin erased the learner's personal data; the account is then a pseudonym.
    erased_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    coordinator: Mapped[User | None] = relationship(foreign_keys=[coordinator_id])

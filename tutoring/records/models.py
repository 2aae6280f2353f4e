"""Learner records: consent, status history, consultations, goals, plans, exams, outcomes, audit."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tutoring.database import enum_column, utcnow
from tutoring.extensions import db
from tutoring.people.models import LearnerStatus, User


class SubjectKind(enum.StrEnum):
    """How a subject counts toward the 高卒認定 certificate (rules since 令和6年度)."""

    REQUIRED = "required"  # 国語, 地理, 歴史, 公共, 数学, 英語
    SCIENCE_CORE = "science_core"  # 科学と人間生活: with one 基礎 subject, science is done
    SCIENCE_BASIC = (
        "science_basic"  # 物理基礎, 化学基礎, 生物基礎, 地学基礎: three, or one with the core
    )
    OTHER = "other"  # studied, but not counted toward the certificate


class ConsentMethod(enum.StrEnum):
    PAPER = "paper"
    ONLINE = "online"


class CreditSource(enum.StrEnum):
    """Where a subject credit comes from, when it was not passed in a round recorded here."""

    EARLIER_EXAM = "earlier_exam"  # passed in a round before the learner joined
    SCHOOL = "school"  # high-school credits (単位修得による免除)
    QUALIFICATION = "qualification"  # e.g. 英検 (技能審査の合格による免除)


class GoalStatus(enum.StrEnum):
    OPEN = "open"
    ACHIEVED = "achieved"
    DROPPED = "dropped"


class SubjectResult(enum.StrEnum):
    PENDING = "pending"
    PASSED = "passed"
    FAILED = "failed"


class OutcomeKind(enum.StrEnum):
    """The outcome kinds of the program's yearly report."""

    EMPLOYMENT_REGULAR = "employment_regular"  # 一般就労 (正規)
    EMPLOYMENT_NON_REGULAR = "employment_non_regular"  # 一般就労 (非正規)
    EMPLOYMENT_WELFARE = "employment_welfare"  # 福祉就労
    FURTHER_EDUCATION = "further_education"  # 進学
    RETURN_TO_SCHOOL = "return_to_school"  # 復学
    JOB_SEEKING = "job_seeking"  # 求職中
    REFERRAL = "referral"  # 他機関へのつなぎ
    SUPPORT_ENDED = "support_ended"  # 支援終了


class ExamSubject(db.Model):
    """A subject of the 高卒認定 exam; the program may rename, add, order or retire subjects."""

    __tablename__ = "exam_subjects"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    kind: Mapped[SubjectKind] = mapped_column(enum_column(SubjectKind))
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ExamRound(db.Model):
    """One sitting of the exam: 第1回 (August) or 第2回 (November) of a year."""

    __tablename__ = "exam_rounds"
    __table_args__ = (
        UniqueConstraint("year", "number"),
        CheckConstraint("number IN (1, 2)", name="number_first_or_second"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int]
    number: Mapped[int]
    # The first day of the exam: a plain date, as printed in the official schedule.
    exam_on: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ExamAttempt(db.Model):
    """A learner's sitting of one exam round: the subjects taken and their results."""

    __tablename__ = "exam_attempts"
    __table_args__ = (UniqueConstraint("learner_id", "round_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("exam_rounds.id", ondelete="RESTRICT"))
    # The certificate (合格証書) was obtained with this round's results.
    certificate_obtained: Mapped[bool] = mapped_column(default=False)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    round: Mapped[ExamRound] = relationship()
    subjects: Mapped[list[ExamAttemptSubject]] = relationship(
        back_populates="attempt", cascade="all, delete-orphan", order_by="ExamAttemptSubject.id"
    )


class ExamAttemptSubject(db.Model):
    __tablename__ = "exam_attempt_subjects"
    __table_args__ = (UniqueConstraint("attempt_id", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("exam_attempts.id", ondelete="CASCADE"))
    subject_id: Mapped[int] = mapped_column(ForeignKey("exam_subjects.id", ondelete="RESTRICT"))
    result: Mapped[SubjectResult] = mapped_column(
        enum_column(SubjectResult), default=SubjectResult.PENDING
    )

    attempt: Mapped[ExamAttempt] = relationship(back_populates="subjects")
    subject: Mapped[ExamSubject] = relationship()


class SubjectCredit(db.Model):
    """A subject counted as done without a round recorded here (earlier round, school, 英検)."""

    __tablename__ = "subject_credits"
    __table_args__ = (UniqueConstraint("learner_id", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("exam_subjects.id", ondelete="RESTRICT"))
    source: Mapped[CreditSource] = mapped_column(enum_column(CreditSource))
    # When the credit was earned (e.g. the round's year); a plain date, optional.
    earned_on: Mapped[date | None]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    subject: Mapped[ExamSubject] = relationship()


class GuardianConsent(db.Model):
    """A guardian's consent to support for a minor; withdrawn consent is kept, marked."""

    __tablename__ = "guardian_consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # Who gave it, as the program writes it on its consent form (e.g. "母 田中 由美").
    given_by: Mapped[str] = mapped_column(String(100))
    given_on: Mapped[date]
    method: Mapped[ConsentMethod] = mapped_column(enum_column(ConsentMethod))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_on: Mapped[date | None]
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])

    @property
    def valid(self) -> bool:
        return self.withdrawn_on is None


class StatusChange(db.Model):
    """A learner's support status from a date on: the history behind learner_profiles.status."""

    __tablename__ = "learner_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[LearnerStatus] = mapped_column(enum_column(LearnerStatus))
    since: Mapped[date]
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    changed_by: Mapped[User | None] = relationship(foreign_keys=[changed_by_id])


class Consultation(db.Model):
    """A learning consultation (学習相談): the learner's own words about their future."""

    __tablename__ = "consultations"

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The consultation session on the schedule, when it was booked as one.
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id", ondelete="SET NULL"))
    held_on: Mapped[date]
    own_words: Mapped[str] = mapped_column(Text, default="")
    # What staff noted: situation, wishes, worries (staff only).
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])


class Goal(db.Model):
    """A goal agreed with the learner, with a target date and whether it was reached."""

    __tablename__ = "learner_goals"

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    consultation_id: Mapped[int | None] = mapped_column(
        ForeignKey("consultations.id", ondelete="SET NULL")
    )
    text: Mapped[str] = mapped_column(String(300))
    target_on: Mapped[date | None]
    status: Mapped[GoalStatus] = mapped_column(enum_column(GoalStatus), default=GoalStatus.OPEN)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PlanItem(db.Model):
    """The learning plan for one subject: materials chosen and how to get there."""

    __tablename__ = "learning_plan_items"
    __table_args__ = (UniqueConstraint("learner_id", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("exam_subjects.id", ondelete="RESTRICT"))
    materials: Mapped[str] = mapped_column(String(300), default="")
    plan: Mapped[str] = mapped_column(Text, default="")
    # The round the learner aims to sit this subject in.
    target_round_id: Mapped[int | None] = mapped_column(
        ForeignKey("exam_rounds.id", ondelete="SET NULL")
    )
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    subject: Mapped[ExamSubject] = relationship()
    target_round: Mapped[ExamRound | None] = relationship()


class Outcome(db.Model):
    """Where a learner went: work, school, another agency, or the end of support, from a date."""

    __tablename__ = "learner_outcomes"

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[OutcomeKind] = mapped_column(enum_column(OutcomeKind, length=30))
    # The date the outcome took effect (a plain date: the first working day, the referral...).
    occurred_on: Mapped[date]
    # e.g. the agency a learner was referred to; erased with the learner's personal data.
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEntry(db.Model):
    """Who read or changed which part of a learner's record, and when; never the text itself."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_learner_at", "learner_id", "at"),
        Index("ix_audit_log_actor_at", "actor_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Kept as text: the role at the time, even if the account changes later.
    actor_role: Mapped[str] = mapped_column(String(20), default="")
    action: Mapped[str] = mapped_column(String(20))  # read, create, update, delete, export, erase
    target: Mapped[str] = mapped_column(String(30))  # record, notes, note, case_review, ...
    target_id: Mapped[int | None]
    learner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    request_id: Mapped[str] = mapped_column(String(64), default="")
    # The names of the fields changed, never their values.
    fields: Mapped[list | None] = mapped_column(JSON)

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    learner: Mapped[User | None] = relationship(foreign_keys=[learner_id])

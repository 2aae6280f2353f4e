"""Study notes of sessions, their edit history, and case reviews."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tutoring.crypto import EncryptedJSON, EncryptedText
from tutoring.database import enum_column, utcnow
from tutoring.extensions import db
from tutoring.people.models import User


class Visibility(enum.StrEnum):
    LEARNER = "learner"  # the learner reads it (with the homework) on their record
    STAFF = "staff"  # tutors and coordinators only; never reaches the learner


class StudyNote(db.Model):
    """What was studied in a session, the homework and next steps, written by the tutor."""

    __tablename__ = "study_notes"
    __table_args__ = (Index("ix_study_notes_learner_created", "learner_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("sessions.id", ondelete="SET NULL"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    subject: Mapped[str] = mapped_column(String(50))
    material: Mapped[str] = mapped_column(String(200), default="")
    pages: Mapped[str] = mapped_column(String(50), default="")
    # Markdown; shown only through notes.markdown.render (markdown-it-py, then nh3).
    # What a young person studied and struggled with: encrypted at rest (tutoring/crypto.py).
    body: Mapped[str] = mapped_column(EncryptedText)
    homework: Mapped[str] = mapped_column(EncryptedText, default="")
    next_steps: Mapped[str] = mapped_column(EncryptedText, default="")
    visibility: Mapped[Visibility] = mapped_column(enum_column(Visibility))
    # A whiteboard page snapshot attached to the note. The snapshots feature is built
    # separately; this is a plain reference until its table exists (then a foreign key).
    whiteboard_snapshot_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    author: Mapped[User | None] = relationship(foreign_keys=[author_id])


class NoteRevision(db.Model):
    """A note as it was before an edit: who changed it and when."""

    __tablename__ = "study_note_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    note_id: Mapped[int] = mapped_column(
        ForeignKey("study_notes.id", ondelete="CASCADE"), index=True
    )
    editor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The note's editable fields before the edit.
    before: Mapped[dict] = mapped_column(EncryptedJSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    editor: Mapped[User | None] = relationship(foreign_keys=[editor_id])


class CaseReview(db.Model):
    """A case review (ケース検討) of a learner's support; staff only."""

    __tablename__ = "case_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    held_on: Mapped[date]
    participants: Mapped[str] = mapped_column(String(500), default="")
    situation: Mapped[str] = mapped_column(EncryptedText, default="")
    decisions: Mapped[str] = mapped_column(EncryptedText, default="")
    next_review_on: Mapped[date | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    learner: Mapped[User] = relationship(foreign_keys=[learner_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])

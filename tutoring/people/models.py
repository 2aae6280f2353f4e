"""User accounts."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Enum, String
from sqlalchemy.orm import Mapped, mapped_column

from tutoring.database import utcnow
from tutoring.extensions import db


class Role(enum.StrEnum):
    LEARNER = "learner"
    TUTOR = "tutor"
    COORDINATOR = "coordinator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        """Return how much this role may do; a user may only create roles up to their own."""
        return list(Role).index(self)

    @property
    def is_staff(self) -> bool:
        return self is not Role.LEARNER


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Learners often have no e-mail: they sign in with a login name chosen on invitation.
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    login_name: Mapped[str | None] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=20, values_callable=lambda e: [r.value for r in e])
    )
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # None: follow the browser's Accept-Language.
    locale: Mapped[str | None] = mapped_column(String(5))
    active: Mapped[bool] = mapped_column(default=True)
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
    def sign_in_name(self) -> str:
        return self.email or self.login_name or ""

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role.value}>"

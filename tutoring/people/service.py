"""Rules for user accounts: creation, lookup, own settings."""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from tutoring.auth import passwords
from tutoring.extensions import db
from tutoring.people.models import Role, User
from tutoring.validation import ValidationError

LOGIN_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,31}$")


def normalise_email(email: str, field: str = "email") -> str:
    """Return the e-mail address in canonical form, or raise ValidationError."""
    try:
        result = validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        raise ValidationError(field, _l("Enter a valid e-mail address.")) from None
    return result.normalized.lower()


def normalise_login_name(login_name: str, field: str = "login_name") -> str:
    """Return the login name lower-cased, or raise ValidationError."""
    value = login_name.strip().lower()
    if not LOGIN_NAME.match(value):
        raise ValidationError(
            field,
            _l(
                "3 to 32 letters, digits, dots, hyphens or underscores, starting with a letter or digit."
            ),
        )
    return value


def parse_role(value: object, field: str = "role") -> Role:
    """Return the Role named by value, or raise ValidationError."""
    try:
        return Role(value)
    except ValueError:
        raise ValidationError(field, _l("Unknown role.")) from None


def can_create_role(actor: User, role: Role) -> bool:
    """Tell whether actor may create an account of this role: staff only, never above themselves."""
    return actor.role in (Role.COORDINATOR, Role.ADMIN) and role.rank <= actor.role.rank


def find_by_sign_in_name(identifier: str) -> User | None:
    """Return the user whose e-mail or login name is identifier (case-insensitive)."""
    value = identifier.strip().lower()
    if not value:
        return None
    return db.session.scalar(
        select(User).where(or_(func.lower(User.email) == value, User.login_name == value))
    )


def _check_unique(email: str | None, login_name: str | None, exclude_id: int | None = None) -> None:
    for field, column, value in (
        ("email", User.email, email),
        ("login_name", User.login_name, login_name),
    ):
        if value is None:
            continue
        query = select(User.id).where(column == value)
        if exclude_id is not None:
            query = query.where(User.id != exclude_id)
        if db.session.scalar(query) is not None:
            raise ValidationError(field, _l("Already used by another account."), code="conflict")


def create_user(
    actor: User | None,
    *,
    name: str,
    role: Role,
    email: str | None = None,
    login_name: str | None = None,
    password: str | None = None,
) -> User:
    """Create an account; actor None means the command line, which may create any role."""
    if actor is not None and not can_create_role(actor, role):
        raise ValidationError("role", _l("You may not create accounts with this role."))
    name = name.strip()
    if not name:
        raise ValidationError("name", _l("This field is required."))
    if len(name) > 100:
        raise ValidationError("name", _l("At most %(n)d characters.", n=100))
    email = normalise_email(email) if email else None
    login_name = normalise_login_name(login_name) if login_name else None
    if role is not Role.LEARNER and email is None:
        raise ValidationError("email", _l("Staff accounts need an e-mail address."))
    _check_unique(email, login_name)
    user = User(name=name, role=role, email=email, login_name=login_name)
    if password:
        passwords.check_policy(password, personal=(name, email or "", login_name or ""))
        user.password_hash = passwords.hash_password(password)
    db.session.add(user)
    db.session.flush()
    current_app.logger.info("user %s created with role %s", user.id, role.value)
    return user


_UNCHANGED = object()


def update_settings(
    user: User,
    *,
    name: str,
    locale: str | None,
    room_display_name: str | None | object = _UNCHANGED,
) -> None:
    """Change a user's own name, language (None follows the browser) and name shown in rooms."""
    name = name.strip()
    if not name:
        raise ValidationError("name", _l("This field is required."))
    if locale is not None and locale not in current_app.config["LANGUAGES"]:
        raise ValidationError("locale", _l("Unknown language."))
    user.name = name[:100]
    user.locale = locale
    if room_display_name is not _UNCHANGED:
        user.room_display_name = (room_display_name or "").strip()[:50] or None
    db.session.flush()


def set_active(actor: User, user: User, active: bool) -> None:
    """Enable or disable an account; disabling ends its sign-in sessions."""
    if user.id == actor.id:
        raise ValidationError("active", _l("You cannot disable your own account."))
    if not can_create_role(actor, user.role):
        raise ValidationError("active", _l("You may not change accounts with this role."))
    user.active = active
    if not active:
        user.session_version += 1
    db.session.flush()


def list_users(role: Role | None = None) -> list[User]:
    """Return accounts ordered by role then name."""
    query = select(User).order_by(User.role, User.name)
    if role is not None:
        query = query.where(User.role == role)
    return list(db.session.scalars(query))

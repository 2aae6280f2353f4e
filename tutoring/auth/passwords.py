"""Password hashing with argon2, and the password policy."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import lazy_gettext as _l
from zxcvbn import zxcvbn

from tutoring.validation import ValidationError


@cache
def _hasher_for(profile: str) -> PasswordHasher:
    return PasswordHasher.from_parameters(getattr(profiles, profile))


def _hasher() -> PasswordHasher:
    # ARGON2_PROFILE names one of argon2.profiles; hashes made with others are rehashed.
    return _hasher_for(current_app.config["ARGON2_PROFILE"])


@cache
def _dummy_hash(profile: str) -> str:
    # Verified against when the account does not exist, so both cases take the same time.
    return _hasher_for(profile).hash("manabi-timing-equaliser")


def hash_password(password: str) -> str:
    """Return the argon2 hash of a password."""
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Tell whether the password matches; an account without a password never matches."""
    try:
        dummy = _dummy_hash(current_app.config["ARGON2_PROFILE"])
        return _hasher().verify(password_hash or dummy, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Tell whether the hash was made with older argon2 parameters."""
    return _hasher().check_needs_rehash(password_hash)


def check_policy(password: str, field: str = "password", personal: tuple[str, ...] = ()) -> None:
    """Raise ValidationError for a password that is too short, too long or easy to guess.

    "Easy to guess" is zxcvbn's estimate below 3 of 4: common passwords, keyboard runs,
    repeats, and the person's own name or e-mail (`personal`) all count against it.
    """
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        raise ValidationError(field, _l("Use at least %(n)d characters.", n=minimum))
    if len(password) > 256:
        raise ValidationError(field, _l("At most %(n)d characters.", n=256))
    words = [
        part
        for value in personal
        if value
        for part in value.replace("@", " ").replace(".", " ").split()
    ]
    if zxcvbn(password[:100], user_inputs=words)["score"] < 3:
        raise ValidationError(
            field, _l("This password is too easy to guess. Try a few unrelated words together.")
        )

"""Second factor for sign-in: TOTP codes from an authenticator app, and recovery codes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

import pyotp
import segno
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from tutoring.auth.models import RecoveryCode
from tutoring.database import utcnow
from tutoring.extensions import db
from tutoring.people.models import User
from tutoring.validation import ValidationError

RECOVERY_CODES = 10
STEP_SECONDS = 30


def required_for(user: User) -> bool:
    """Tell whether the user's role must sign in with a second factor (configurable)."""
    return user.role.value in current_app.config["TWO_FACTOR_REQUIRED_ROLES"]


def new_secret() -> str:
    """Return a fresh base32 TOTP secret (160 bits)."""
    return pyotp.random_base32(32)


def provisioning_svg(user: User, secret: str) -> str:
    """Return the enrolment QR code (otpauth:// URI) as inline SVG markup."""
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.sign_in_name, issuer_name="Manabi")
    return segno.make(uri, error="m").svg_inline(scale=5, dark="#000000", light="#ffffff")


def _matching_step(secret: str, code: str, now: float) -> int | None:
    """Return the time step the code belongs to (now, or one step either side), or None."""
    code = code.replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = int(now // STEP_SECONDS)
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def enrol(user: User, secret: str, code: str, now: float | None = None) -> list[str]:
    """Turn the second factor on once a code from the app proves the secret; return recovery codes."""
    step = _matching_step(secret, code, now or time.time())
    if step is None:
        raise ValidationError(
            "code", _l("The code is not correct. Check the time on your phone and try again.")
        )
    user.totp_secret = secret
    user.totp_last_step = step
    user.session_version += 1  # sessions from before enrolment end
    codes = _new_recovery_codes(user)
    db.session.flush()
    return codes


def disable(user: User) -> None:
    """Turn the second factor off (when the role does not require it)."""
    user.totp_secret = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.flush()


def _digest(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").replace(" ", "").lower().encode()).hexdigest()


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = secrets.token_hex(5)
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_digest(raw)))
    return codes


def verify(user: User, code: str, now: float | None = None) -> bool:
    """Check a TOTP or recovery code for sign-in; each is accepted only once."""
    if not user.totp_secret:
        return False
    step = _matching_step(user.totp_secret, code, now or time.time())
    if step is not None:
        if user.totp_last_step is not None and step <= user.totp_last_step:
            return False  # replayed, or older than one already used
        user.totp_last_step = step
        db.session.flush()
        return True
    recovery = db.session.scalar(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _digest(code),
            RecoveryCode.used_at.is_(None),
        )
    )
    if recovery is None:
        return False
    recovery.used_at = utcnow()
    db.session.flush()
    return True


def recovery_codes_left(user: User) -> int:
    """Return how many unused recovery codes the user has."""
    return len(
        db.session.scalars(
            select(RecoveryCode.id).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        ).all()
    )

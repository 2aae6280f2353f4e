"""Rules for signing in, invitations and personal API tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from tutoring.auth import passwords
from tutoring.auth.models import ApiToken, ExternalIdentity, Invitation
from tutoring.auth.signals import identity_linked
from tutoring.database import utcnow
from tutoring.extensions import db
from tutoring.people import service as people
from tutoring.people.models import User
from tutoring.validation import ValidationError

TOKEN_PREFIX = "mnb_"  # noqa: S105 (a marker, not a secret)


def _digest(raw: str) -> str:
    # The raw values carry 256 random bits, so a plain SHA-256 is enough to store them.
    return hashlib.sha256(raw.encode()).hexdigest()


def authenticate(identifier: str, password: str) -> User | None:
    """Return the active user with these credentials, or None (same answer for every failure)."""
    user = people.find_by_sign_in_name(identifier)
    if not passwords.verify_password(user.password_hash if user else None, password):
        return None
    if user is None or not user.active:
        return None
    if passwords.needs_rehash(user.password_hash or ""):
        user.password_hash = passwords.hash_password(password)
        db.session.flush()
    return user


def change_password(user: User, current: str, new: str) -> None:
    """Set a new password after checking the current one; other sign-ins end."""
    if not passwords.verify_password(user.password_hash, current):
        raise ValidationError("current_password", _l("The current password is not correct."))
    passwords.check_policy(
        new, field="new_password", personal=(user.name, user.email or "", user.login_name or "")
    )
    user.password_hash = passwords.hash_password(new)
    user.session_version += 1
    db.session.flush()


def sign_out_everywhere(user: User) -> None:
    """End every sign-in session of the user, this one included."""
    user.session_version += 1
    db.session.flush()


# Invitations


def create_invitation(
    actor: User, user: User, now: datetime | None = None
) -> tuple[Invitation, str]:
    """Make a single-use invitation link token for user; the raw token is returned only here."""
    if not people.can_create_role(actor, user.role):
        raise ValidationError("user_id", _l("You may not invite accounts with this role."))
    now = now or utcnow()
    raw = secrets.token_urlsafe(32)
    invitation = Invitation(
        user=user,
        token_hash=_digest(raw),
        created_by_id=actor.id,
        created_at=now,
        expires_at=now + timedelta(hours=current_app.config["INVITATION_TTL_HOURS"]),
    )
    db.session.add(invitation)
    db.session.flush()
    return invitation, raw


@dataclass(frozen=True)
class InvitationLookup:
    invitation: Invitation | None
    problem: str | None  # None, "unknown", "used", "expired"


def find_invitation(raw: str, now: datetime | None = None) -> InvitationLookup:
    """Return the invitation for a raw token and why it cannot be used, if so."""
    invitation = db.session.scalar(select(Invitation).where(Invitation.token_hash == _digest(raw)))
    if invitation is None or not invitation.user.active:
        return InvitationLookup(None, "unknown")
    if invitation.used_at is not None:
        return InvitationLookup(invitation, "used")
    if invitation.expires_at <= (now or utcnow()):
        return InvitationLookup(invitation, "expired")
    return InvitationLookup(invitation, None)


def accept_invitation(
    invitation: Invitation, *, password: str, login_name: str | None, now: datetime | None = None
) -> User:
    """Set the invitee's password (and login name when they have no e-mail); the link is spent."""
    user = invitation.user
    if user.email is None and user.login_name is None:
        if not login_name:
            raise ValidationError("login_name", _l("This field is required."))
        login_name = people.normalise_login_name(login_name)
        if people.find_by_sign_in_name(login_name) is not None:
            raise ValidationError(
                "login_name", _l("Already used by another account."), code="conflict"
            )
        user.login_name = login_name
    passwords.check_policy(password, personal=(user.name, user.email or "", user.login_name or ""))
    user.password_hash = passwords.hash_password(password)
    user.session_version += 1
    invitation.used_at = now or utcnow()
    # Older links of the same person stop working once one has been used.
    for other in db.session.scalars(
        select(Invitation).where(Invitation.user_id == user.id, Invitation.used_at.is_(None))
    ):
        other.used_at = invitation.used_at
    db.session.flush()
    return user


# Personal API tokens


def create_token(user: User, name: str) -> tuple[ApiToken, str]:
    """Create a personal API token; the raw token is returned only here."""
    name = name.strip()[:100] or "API"
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name, token_hash=_digest(raw), prefix=raw[:12])
    db.session.add(token)
    db.session.flush()
    return token, raw


def user_for_token(raw: str, now: datetime | None = None) -> User | None:
    """Return the active user owning this unrevoked token, or None."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(raw)))
    if token is None or token.revoked or not token.user.active:
        return None
    now = now or utcnow()
    # Written at most once a minute so a busy script does not write on every call.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = now
        db.session.flush()
    return token.user


def list_tokens(user: User) -> list[ApiToken]:
    """Return the user's tokens, newest first."""
    return list(
        db.session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
        )
    )


def revoke_token(user: User, token_id: int) -> bool:
    """Revoke one of the user's own tokens; False when it is not theirs."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        return False
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.flush()
    return True


# External identities (OpenID Connect)


class IdentityRefused(Exception):
    """No account may be signed in with this external identity."""


def sign_in_external(
    *, provider: str, claims: dict, invitation_token: str | None = None, now: datetime | None = None
) -> User:
    """Return the account an OIDC identity signs into, linking it when that is allowed.

    Allowed links: through a valid invitation the person opened first, or when the provider
    vouches for an e-mail (email_verified) that belongs to exactly one account. There is no
    self-registration.
    """
    now = now or utcnow()
    issuer, subject = str(claims.get("iss") or ""), str(claims.get("sub") or "")
    if not issuer or not subject:
        raise IdentityRefused("the provider sent no issuer or subject")
    identity = db.session.scalar(
        select(ExternalIdentity).where(
            ExternalIdentity.issuer == issuer, ExternalIdentity.subject == subject
        )
    )
    if identity is not None:
        if not identity.user.active:
            raise IdentityRefused("the account is disabled")
        identity.last_used_at = now
        db.session.flush()
        return identity.user
    user = None
    if invitation_token:
        lookup = find_invitation(invitation_token, now)
        if lookup.problem is None:
            user = lookup.invitation.user
            lookup.invitation.used_at = now
    email = claims.get("email")
    if user is None and email and claims.get("email_verified") is True:
        user = people.find_by_sign_in_name(str(email))
        if user is not None and user.email != str(email).lower():
            user = None  # a login name that looks like the e-mail is not a verified match
    if user is None or not user.active:
        raise IdentityRefused("no account is linked to this identity")
    db.session.add(
        ExternalIdentity(
            user_id=user.id,
            provider=provider,
            issuer=issuer,
            subject=subject,
            email=str(email) if email else None,
            last_used_at=now,
        )
    )
    db.session.flush()
    settings = current_app.extensions.get("oidc_providers", {}).get(provider, {})
    identity_linked.send(
        user, provider=provider, preset=settings.get("preset", provider), subject=subject
    )
    return user


def list_identities(user: User) -> list[ExternalIdentity]:
    """Return the external identities linked to an account."""
    return list(
        db.session.scalars(select(ExternalIdentity).where(ExternalIdentity.user_id == user.id))
    )


def unlink_identity(user: User, identity_id: int) -> bool:
    """Remove one external identity of the account; False when it is not theirs."""
    identity = db.session.get(ExternalIdentity, identity_id)
    if identity is None or identity.user_id != user.id:
        return False
    db.session.delete(identity)
    db.session.flush()
    return True

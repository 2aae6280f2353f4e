"""JSON API v1: authentication, and the endpoints of the foundation."""

from __future__ import annotations

import hashlib

from flask import Blueprint, abort, current_app, g, jsonify, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from tutoring.auth import service as auth_service
from tutoring.auth.permissions import managers_only
from tutoring.extensions import csrf, db, limiter
from tutoring.i18n import select_locale
from tutoring.partners.access import confine_liaison
from tutoring.people import service as people
from tutoring.people.models import Role, User
from tutoring.validation import ValidationError, text

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Token requests need no CSRF token; session requests are checked in authenticate().
csrf.exempt(bp)


def _limit_key() -> str:
    """Key API limits by caller: the limiter runs before authenticate(), so read the credential."""
    header = request.headers.get("Authorization")
    if header:
        return "api-token:" + hashlib.sha256(header.encode()).hexdigest()[:32]
    if current_user.is_authenticated:
        return f"api-user:{current_user.id}"
    return f"api-address:{request.remote_addr}"


limiter.limit(lambda: current_app.config["API_TOKEN_LIMIT"], key_func=_limit_key)(bp)


@bp.before_request
def authenticate():
    """Accept `Authorization: Bearer <token>`, or the browser session with a CSRF header."""
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, raw = header.partition(" ")
        user = auth_service.user_for_token(raw.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            abort(401)
        db.session.commit()  # keep last_used_at even when the request writes nothing
        # Flask-Login's per-request user slot: the token signs in this request only, no cookie.
        g._login_user = user
        confine_liaison(user)
        return None
    if not current_user.is_authenticated:
        abort(401)
    confine_liaison(current_user)
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.protect()
    return None


def json_body() -> dict:
    """Return the request's JSON object, or answer 400."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationError("body", _l("Send a JSON object with Content-Type: application/json."))
    return data


def user_json(user: User) -> dict:
    """Return the public shape of an account."""
    return {
        "id": user.id,
        "name": user.name,
        "role": user.role.value,
        "email": user.email,
        "login_name": user.login_name,
        "locale": user.locale,
        "active": user.active,
        "created_at": user.created_at.isoformat(),
    }


@bp.get("/me")
def me():
    """Return the caller's id, name, role and effective language."""
    return jsonify(
        {
            "id": current_user.id,
            "name": current_user.name,
            "role": current_user.role.value,
            "locale": select_locale(),
        }
    )


@bp.get("/users")
@managers_only
def list_users():
    """List accounts; `role` filters."""
    role = request.args.get("role")
    parsed = people.parse_role(role) if role else None
    return jsonify({"users": [user_json(u) for u in people.list_users(parsed)]})


@bp.post("/users")
@managers_only
def create_user():
    """Create an account: {email, name, role, password?}."""
    data = json_body()
    if data.get("role") == Role.LIAISON.value:
        # A liaison belongs to an organisation: POST /partners/organisations/<id>/liaisons.
        raise ValidationError("role", _l("Create liaison accounts from the partner's page."))
    password = data.get("password")
    if password is not None and not isinstance(password, str):
        raise ValidationError("password", _l("Must be text."))
    user = people.create_user(
        current_user,
        name=text(data, "name", max_length=100),
        role=people.parse_role(data.get("role")),
        email=text(data, "email", max_length=254, required=False),
        login_name=text(data, "login_name", max_length=32, required=False),
        password=password or None,
    )
    db.session.commit()
    return jsonify(user_json(user)), 201


# Feature endpoints register themselves on the blueprint above.
from tutoring.api import (  # noqa: E402, F401
    attendance,
    records,
    reports,
    rooms,
    sessions,
    whiteboard,
)
from tutoring.notify import api as notify_api  # noqa: E402, F401
from tutoring.partners import api as partners_api  # noqa: E402, F401

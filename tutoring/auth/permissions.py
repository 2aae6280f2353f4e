"""Permission checks: the one place views and API endpoints ask who may do what.

Pages for a role the user does not have answer 403; a single resource the user may not
see answers 404 (its existence is not revealed).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from flask import abort
from flask_login import current_user, login_required

from tutoring.people.models import Role

F = TypeVar("F", bound=Callable)

STAFF_MANAGERS = (Role.COORDINATOR, Role.ADMIN)


def roles_required(*roles: Role) -> Callable[[F], F]:
    """Let only signed-in users with one of these roles call the view."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return login_required(wrapped)  # type: ignore[return-value]

    return decorator


def managers_only(view: F) -> F:
    """Let only coordinators and admins call the view."""
    return roles_required(*STAFF_MANAGERS)(view)

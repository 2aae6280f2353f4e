"""The home page of each role."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required
from sqlalchemy import func, select

from tutoring.extensions import db
from tutoring.people.models import Role, User

bp = Blueprint("dashboard", __name__)


def _accounts_by_role() -> dict[Role, int]:
    rows = db.session.execute(
        select(User.role, func.count()).where(User.active.is_(True)).group_by(User.role)
    )
    counts = dict.fromkeys(Role, 0)
    counts.update({role: count for role, count in rows})
    return counts


@bp.get("/")
@login_required
def index():
    """Show the signed-in user's dashboard."""
    counts = _accounts_by_role() if current_user.role in (Role.COORDINATOR, Role.ADMIN) else None
    return render_template("dashboard/index.html", counts=counts)

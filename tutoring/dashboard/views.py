"""The home page of each role."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select

from tutoring.database import utcnow
from tutoring.extensions import db
from tutoring.people.models import Role, User
from tutoring.scheduling import service as scheduling

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
    """Show the signed-in user's dashboard: the next session first, then what is coming."""
    if current_user.role is Role.LIAISON:
        return redirect(url_for("partners.index"))
    now = utcnow()
    context: dict = {"now": now}
    if current_user.role in (Role.COORDINATOR, Role.ADMIN):
        context["counts"] = _accounts_by_role()
        context["today"] = scheduling.list_sessions(
            current_user, start=now, end=now + timedelta(hours=24), include_cancelled=False
        )
    else:
        own = (
            {"learner_id": current_user.id}
            if current_user.role is Role.LEARNER
            else {"tutor_id": current_user.id}
        )
        upcoming = scheduling.list_sessions(
            current_user, start=now, end=now + timedelta(days=28), **own
        )
        next_session = scheduling.next_session(current_user, now)
        context.update(
            next_session=next_session,
            room_open=next_session is not None and scheduling.room_is_open(next_session, now),
            window=scheduling.join_window(next_session) if next_session else None,
            upcoming=[s for s in upcoming if next_session is None or s.id != next_session.id],
            past=list(
                reversed(
                    scheduling.list_sessions(
                        current_user, start=now - timedelta(days=60), end=now, **own
                    )
                )
            )[:10],
        )
    return render_template("dashboard/index.html", **context)

"""Pages: the attendance review for staff, a learner's own history, marking on the session page."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from tutoring.attendance import labels, review, service
from tutoring.attendance.chart import bar_chart
from tutoring.attendance.tasks import start_background_sweep
from tutoring.auth.permissions import roles_required
from tutoring.database import utcnow
from tutoring.extensions import db
from tutoring.people.models import Role, TutorAssignment, User
from tutoring.scheduling import service as scheduling
from tutoring.scheduling.models import Status, TutoringSession
from tutoring.validation import ValidationError

bp = Blueprint("attendance", __name__)
STAFF = (Role.TUTOR, Role.COORDINATOR, Role.ADMIN)


@bp.before_app_request
def _sweeper() -> None:
    """Start this process's background sweep with the first request it serves."""
    start_background_sweep()


@bp.app_context_processor
def _template_helpers() -> dict:
    return {
        "attendance_panel": session_panel,
        "attendance_status_label": labels.status_label,
        "attendance_outcome_label": labels.outcome_label,
    }


def session_panel(session: TutoringSession) -> dict | None:
    """Return what templates/attendance/_session_attendance.html shows on the session page."""
    if not current_user.is_authenticated:
        return None
    now = utcnow()
    if session.status is Status.CANCELLED:
        return {"cancelled": True}
    participants = service.session_attendance(session, now)
    staff = service.sees_notes(current_user)
    if not staff:
        participants = [p for p in participants if p.user.id == current_user.id]
    return {
        "cancelled": False,
        "participants": [
            {
                "p": p,
                "can_set": service.can_set_status(current_user, session, p.user.id),
            }
            for p in participants
        ],
        "ended": now >= session.ends_at,
        "marking_open": now >= service.marking_opens(session),
        "opens": service.marking_opens(session),
        "history": service.history(session) if staff else [],
        "staff": staff,
        "choices": list(labels.STATUS_LABELS.items()),
    }


# Review for staff


def _people(role: Role, *, assigned_to: User | None = None) -> list:
    """Return (id, name) rows for a filter's choices; only what the select shows."""
    query = select(User.id, User.name).where(User.role == role).order_by(User.name, User.id)
    if assigned_to is not None:
        query = query.where(
            User.id.in_(
                select(TutorAssignment.learner_id).where(TutorAssignment.tutor_id == assigned_to.id)
            )
        )
    return list(db.session.execute(query))


def _filter_lists() -> dict:
    managing = current_user.role in (Role.COORDINATOR, Role.ADMIN)
    return {
        "managing": managing,
        "learners": _people(
            Role.LEARNER, assigned_to=None if managing else current_user._get_current_object()
        ),
        "tutors": _people(Role.TUTOR) if managing else [],
        "venues": scheduling.list_venues(),
        "status_choices": labels.status_filter_choices(),
    }


def _filters_or_errors() -> tuple[review.Filters | None, dict[str, str]]:
    try:
        return review.parse_filters(request.args, default_weeks=review.DEFAULT_WEEKS), {}
    except ValidationError as error:
        return None, {error.field: str(error.message)}


@bp.get("/attendance")
@roles_required(*STAFF)
def log():
    """Show the attendance log with filters, early warnings and the weekly chart."""
    filters, errors = _filters_or_errors()
    context = {"tab": "log", "errors": errors, "filters": filters, **_filter_lists()}
    if filters is None:
        return render_template("attendance/review.html", **context), 400
    try:
        page, per_page = review.page_arguments(
            request.args, current_app.config["ATTENDANCE_PAGE_SIZE"]
        )
    except ValidationError as error:
        context["errors"] = {error.field: str(error.message)}
        return render_template("attendance/review.html", **context), 400
    now = utcnow()
    weeks = review.weekly(current_user, filters, now)
    context.update(
        page=review.log_page(current_user, filters, page=page, per_page=per_page, now=now),
        warnings=review.warnings(current_user, filters, now),
        all_warnings=request.args.get("warnings") == "all",
        weeks=weeks,
        chart=bar_chart(weeks),
        reason_label=labels.reason_label,
    )
    return render_template("attendance/review.html", **context)


@bp.get("/attendance/learners")
@roles_required(*STAFF)
def learners():
    """Show per-learner figures: sessions planned and attended, rate, absences in a row."""
    filters, errors = _filters_or_errors()
    context = {"tab": "learners", "errors": errors, "filters": filters, **_filter_lists()}
    sort = "rate" if request.args.get("sort") == "rate" else "name"
    context["sort"] = sort
    if filters is None:
        return render_template("attendance/learners.html", **context), 400
    try:
        page, per_page = review.page_arguments(
            request.args, current_app.config["ATTENDANCE_PAGE_SIZE"]
        )
    except ValidationError as error:
        context["errors"] = {error.field: str(error.message)}
        return render_template("attendance/learners.html", **context), 400
    context["page"] = review.learner_summaries(
        current_user, filters, page=page, per_page=per_page, sort=sort
    )
    return render_template("attendance/learners.html", **context)


# A learner's own history


@bp.get("/attendance/me")
@roles_required(Role.LEARNER)
def mine():
    """Show the learner their own sessions with their attendance, newest first."""
    try:
        page, _per_page = review.page_arguments(request.args, 20)
    except ValidationError:
        abort(404)
    history, totals = review.own_history(current_user, page=page, per_page=20)
    return render_template("attendance/mine.html", page=history, totals=totals)


# Marking on the session page


@bp.post("/sessions/<int:session_id>/attendance/<int:user_id>")
@login_required
def mark(session_id: int, user_id: int):
    """Set a participant's status from the session page: one tap per learner."""
    session = scheduling.visible_session(current_user, session_id)
    if session is None or user_id not in (session.learner_id, session.tutor_id):
        abort(404)
    if not service.can_set_status(current_user, session, user_id):
        abort(403)
    try:
        status = service.parse_status(request.form.get("status"))
        note = service.parse_note(request.form.get("note"))
        service.set_status(current_user, session, user_id, status, note)
    except ValidationError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return redirect(url_for("scheduling.detail", session_id=session_id, _anchor="attendance"))
    db.session.commit()
    person = db.session.get(User, user_id)
    flash(
        _(
            "Attendance saved: %(name)s, %(status)s.",
            name=person.name,
            status=labels.status_label(status),
        ),
        "success",
    )
    return redirect(url_for("scheduling.detail", session_id=session_id, _anchor="attendance"))

"""JSON API v1 for attendance: one session's participants, setting a status, the log and exports."""

from __future__ import annotations

from datetime import datetime

from flask import Response, abort, current_app, jsonify, request, stream_with_context
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from tutoring.api.views import bp, json_body
from tutoring.attendance import exports, review, service
from tutoring.attendance.labels import reason_label
from tutoring.auth.permissions import roles_required
from tutoring.database import utcnow
from tutoring.extensions import db
from tutoring.i18n import to_local
from tutoring.people.models import Role
from tutoring.scheduling import service as scheduling
from tutoring.scheduling.models import TutoringSession
from tutoring.validation import ValidationError

STAFF = (Role.TUTOR, Role.COORDINATOR, Role.ADMIN)
FORMATS = ("json", "csv", "xlsx")


def _time(moment: datetime | None) -> str | None:
    return to_local(moment).isoformat() if moment else None


def participant_json(participant: service.Participant, *, with_note: bool) -> dict:
    """Return the contract's shape of one participant's attendance."""
    body = {
        "user_id": participant.user.id,
        "name": participant.user.name,
        "role": participant.role.value,
        "status": participant.status.value if participant.status else None,
        "derived_status": (
            participant.derived_status.value if participant.derived_status else None
        ),
        "overridden": participant.overridden,
        "minutes_present": participant.minutes_present,
        "first_joined_at": _time(participant.first_joined_at),
        "last_left_at": _time(participant.last_left_at),
        "intervals": [
            {"joined_at": _time(span.joined_at), "left_at": _time(span.left_at)}
            for span in participant.spans
        ],
    }
    if with_note:
        body["note"] = participant.note
    return body


def _side_json(side: review.Side, role: str) -> dict:
    return {
        "user_id": side.user_id,
        "name": side.name,
        "role": role,
        "status": side.status.value if side.status else None,
        "overridden": side.overridden,
        "minutes_present": side.minutes_present or 0,
        "first_joined_at": _time(side.first_joined_at),
        "last_left_at": _time(side.last_left_at),
    }


def log_row_json(row: review.LogRow) -> dict:
    """Return one session of the attendance log."""
    return {
        "session_id": row.session_id,
        "starts_at": _time(row.starts_at),
        "ends_at": _time(row.ends_at),
        "kind": row.kind.value,
        "mode": row.mode.value,
        "venue_id": row.venue_id,
        "venue_name": row.venue_name,
        "session_status": row.session_status.value,
        "outcome": row.outcome.value,
        "participants": [_side_json(row.learner, "learner"), _side_json(row.tutor, "tutor")],
    }


def _visible_session(session_id: int) -> TutoringSession:
    session = scheduling.visible_session(current_user, session_id)
    if session is None:
        abort(404)
    return session


@bp.get("/sessions/<int:session_id>/attendance")
def session_attendance(session_id: int):
    """Return the learner's and the tutor's attendance: status, minutes, merged intervals."""
    session = _visible_session(session_id)
    staff = service.sees_notes(current_user)
    participants = service.session_attendance(session)
    return jsonify({"attendance": [participant_json(p, with_note=staff) for p in participants]})


@bp.put("/sessions/<int:session_id>/attendance/<int:user_id>")
def set_attendance(session_id: int, user_id: int):
    """Set a participant's status: {status: present|late|left_early|absent|excused, note?}."""
    session = _visible_session(session_id)
    if user_id not in (session.learner_id, session.tutor_id):
        abort(404)
    if not service.can_set_status(current_user, session, user_id):
        abort(403)
    data = json_body()
    status = service.parse_status(data.get("status"))
    note = service.parse_note(data.get("note"))
    service.set_status(current_user, session, user_id, status, note)
    db.session.commit()
    [participant] = [p for p in service.session_attendance(session) if p.user.id == user_id]
    return jsonify(participant_json(participant, with_note=True))


@bp.get("/sessions/<int:session_id>/attendance/changes")
@roles_required(*STAFF)
def attendance_changes(session_id: int):
    """Return every status change of the session: who, when, before, after, note."""
    session = _visible_session(session_id)
    return jsonify(
        {
            "changes": [
                {
                    "user_id": change.user_id,
                    "actor_id": change.actor_id,
                    "actor_name": change.actor.name if change.actor else None,
                    "at": _time(change.created_at),
                    "before": change.before.value if change.before else None,
                    "after": change.after.value if change.after else None,
                    "note": change.note,
                }
                for change in service.history(session)
            ]
        }
    )


def _format() -> str:
    value = request.args.get("format") or "json"
    if value not in FORMATS:
        raise ValidationError(
            "format", _l("Must be one of: %(allowed)s.", allowed=", ".join(FORMATS))
        )
    return value


def _filename(filters: review.Filters, extension: str) -> str:
    args = dict(filters.raw)
    span = "-".join(part for part in (args.get("from"), args.get("to")) if part) or "all"
    return f"attendance-{span[:45].replace(':', '')}.{extension}"


@bp.get("/attendance")
@roles_required(*STAFF)
def attendance_log():
    """The attendance log of the sessions the caller may see; `format=csv|xlsx` exports it all.

    Query: from, to, learner_id, tutor_id, venue_id, mode, status; JSON pages with page and
    per_page (newest first).
    """
    filters = review.parse_filters(request.args)
    kind = _format()
    if kind == "csv":
        rows = review.iter_log(current_user, filters)
        response = Response(
            stream_with_context(exports.csv_lines(rows)), mimetype="text/csv; charset=utf-8"
        )
        response.headers["Content-Disposition"] = (
            f'attachment; filename="{_filename(filters, "csv")}"'
        )
        return response
    if kind == "xlsx":
        body = exports.xlsx_bytes(
            review.iter_log(current_user, filters), title=str(_l("Attendance"))
        )
        response = Response(
            body, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        response.headers["Content-Disposition"] = (
            f'attachment; filename="{_filename(filters, "xlsx")}"'
        )
        return response
    page, per_page = review.page_arguments(request.args, 100)
    result = review.log_page(current_user, filters, page=page, per_page=per_page)
    return jsonify(
        {
            "attendance": [log_row_json(row) for row in result.rows],
            "page": result.page,
            "per_page": result.per_page,
            "total": result.total,
        }
    )


@bp.get("/attendance/warnings")
@roles_required(*STAFF)
def attendance_warnings():
    """Return the learners flagged by the early warnings (learner_id and tutor_id filter)."""
    filters = review.parse_filters(request.args)
    now = utcnow()
    return jsonify(
        {
            "warnings": [
                {
                    "learner_id": warning.learner_id,
                    "name": warning.name,
                    "reasons": list(warning.reasons),
                    "messages": [
                        reason_label(
                            reason,
                            in_a_row=warning.absences_in_a_row,
                            idle_days=warning.idle_days,
                        )
                        for reason in warning.reasons
                    ],
                    "absences_in_a_row": warning.absences_in_a_row,
                    "last_attended_at": _time(warning.last_attended_at),
                }
                for warning in review.warnings(current_user, filters, now)
            ],
            "checked_at": _time(now),
            "settings": {
                "missed_in_a_row": current_app.config["ATTENDANCE_WARNING_MISSED_IN_A_ROW"],
                "idle_days": current_app.config["ATTENDANCE_WARNING_IDLE_DAYS"],
            },
        }
    )

"""JSON API v1 for sessions, venues and tutor assignments."""

from __future__ import annotations

from flask import abort, jsonify, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from tutoring.api.views import bp, json_body
from tutoring.auth.permissions import managers_only
from tutoring.extensions import db
from tutoring.i18n import to_local
from tutoring.people.models import Role, User
from tutoring.scheduling import schema, service
from tutoring.scheduling.models import TutoringSession, Venue
from tutoring.validation import MAX_ROW_ID, ValidationError


def session_json(session: TutoringSession) -> dict:
    """Return the contract's shape of a session, times in the program's zone."""
    return {
        "id": session.id,
        "learner_id": session.learner_id,
        "tutor_id": session.tutor_id,
        "kind": session.kind.value,
        "mode": session.mode.value,
        "venue_id": session.venue_id,
        "starts_at": to_local(session.starts_at).isoformat(),
        "ends_at": to_local(session.ends_at).isoformat(),
        "duration_minutes": session.duration_minutes,
        "status": session.status.value,
        "cancel_reason": session.cancel_reason,
        "series_id": session.series_id,
        "learner_name": session.learner.name,
        "tutor_name": session.tutor.name,
        "venue_name": session.venue.name if session.venue else None,
    }


def venue_json(venue: Venue) -> dict:
    return {
        "id": venue.id,
        "name": venue.name,
        "address": venue.address,
        "online": venue.online,
        "active": venue.active,
    }


def _optional_id(name: str) -> int | None:
    value = request.args.get(name)
    if value is None or value == "":
        return None
    if not value.isdigit() or len(value) > 10:
        raise ValidationError(name, _l("Must be a whole number."))
    return int(value)


def _session_or_404(session_id: int) -> TutoringSession:
    session = service.visible_session(current_user, session_id)
    if session is None:
        abort(404)
    return session


def _changeable_session(session_id: int) -> TutoringSession:
    session = _session_or_404(session_id)
    if not service.can_change(current_user, session):
        abort(403)
    return session


@bp.get("/sessions")
def list_sessions():
    """List the sessions the caller may see; `from`, `to`, `learner_id`, `tutor_id`, `venue_id` filter."""
    start = schema.range_bound(request.args.get("from"), "from", end=False)
    end = schema.range_bound(request.args.get("to"), "to", end=True)
    if start and end and end <= start:
        raise ValidationError("to", _l("Must be after `from`."))
    sessions = service.list_sessions(
        current_user,
        start=start,
        end=end,
        learner_id=_optional_id("learner_id"),
        tutor_id=_optional_id("tutor_id"),
        venue_id=_optional_id("venue_id"),
    )
    return jsonify({"sessions": [session_json(s) for s in sessions]})


@bp.post("/sessions")
def create_sessions():
    """Book a session, or a weekly series with `weekly_until`; 409 lists every clash."""
    if not service.can_book(current_user):
        abort(403)
    sessions = service.book_sessions(current_user, **schema.booking(json_body()))
    db.session.commit()
    return jsonify({"sessions": [session_json(s) for s in sessions]}), 201


@bp.get("/sessions/<int:session_id>")
def get_session(session_id: int):
    """Return one visible session."""
    return jsonify(session_json(_session_or_404(session_id)))


@bp.patch("/sessions/<int:session_id>")
def reschedule_session(session_id: int):
    """Reschedule: {starts_at?, duration_minutes?, tutor_id?, mode?, venue_id?, scope?: this|following}."""
    session = _changeable_session(session_id)
    changed = service.reschedule(current_user, session, **schema.changes(json_body()))
    db.session.commit()
    body = session_json(session)
    if len(changed) > 1:
        body["changed_sessions"] = [s.id for s in changed]
    return jsonify(body)


@bp.post("/sessions/<int:session_id>/cancel")
def cancel_session(session_id: int):
    """Cancel with {reason, scope?: this|following}."""
    session = _changeable_session(session_id)
    cancelled = service.cancel(current_user, session, **schema.cancellation(json_body()))
    db.session.commit()
    body = session_json(session)
    if len(cancelled) > 1:
        body["changed_sessions"] = [s.id for s in cancelled]
    return jsonify(body)


@bp.get("/sessions/<int:session_id>/changes")
def session_changes(session_id: int):
    """Return who changed the session when, with what it was before and after."""
    session = _session_or_404(session_id)
    return jsonify(
        {
            "changes": [
                {
                    "action": change.action,
                    "actor_id": change.actor_id,
                    "at": to_local(change.created_at).isoformat(),
                    "before": change.before,
                    "after": change.after,
                    "reason": change.reason,
                }
                for change in service.history(session)
            ]
        }
    )


@bp.get("/venues")
def list_venues():
    """List venues (active ones only for learners)."""
    venues = service.list_venues(active_only=current_user.role is Role.LEARNER)
    return jsonify({"venues": [venue_json(v) for v in venues]})


@bp.put("/learners/<int:learner_id>/tutors")
@managers_only
def set_tutors(learner_id: int):
    """Set a learner's assigned tutors: {"tutor_ids": [...]}."""
    learner = db.session.get(User, learner_id)
    if learner is None or learner.role is not Role.LEARNER:
        abort(404)
    ids = json_body().get("tutor_ids")
    if (
        not isinstance(ids, list)
        or len(ids) > 20
        or not all(
            isinstance(i, int) and not isinstance(i, bool) and 0 < i <= MAX_ROW_ID for i in ids
        )
    ):
        raise ValidationError("tutor_ids", _l("Give a list of tutor ids."))
    tutors = [db.session.get(User, i) for i in dict.fromkeys(ids)]
    if any(t is None for t in tutors):
        raise ValidationError("tutor_ids", _l("Choose an active tutor."))
    assigned = service.set_assigned_tutors(current_user, learner, tutors)
    db.session.commit()
    return jsonify({"learner_id": learner.id, "tutor_ids": [t.id for t in assigned]})

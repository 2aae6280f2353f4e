"""JSON API v1 for rooms: joining details and presence reports from the room page."""

from __future__ import annotations

from flask import abort, jsonify
from flask_babel import gettext as _
from flask_login import current_user

from tutoring.api.views import bp, json_body
from tutoring.attendance import service as attendance
from tutoring.attendance.models import PresenceKind, PresenceSource
from tutoring.errors import json_error
from tutoring.extensions import db
from tutoring.rooms import service
from tutoring.scheduling import service as scheduling
from tutoring.scheduling.models import TutoringSession
from tutoring.validation import ValidationError, choice


def _room_session(session_id: int) -> TutoringSession:
    session = db.session.get(TutoringSession, session_id)
    if session is None or not service.may_enter(current_user, session):
        abort(404)
    return session


def _room_closed():
    return json_error(403, _("The room is not open now."), "room_closed")


@bp.get("/sessions/<int:session_id>/room")
def room(session_id: int):
    """Return the Jitsi room and token and the whiteboard address; 403 room_closed outside the window."""
    session = _room_session(session_id)
    try:
        details = service.room_details(current_user, session)
    except service.RoomClosed:
        return _room_closed()
    response = jsonify(details)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/sessions/<int:session_id>/presence")
def presence(session_id: int):
    """Record what the room page saw: {source: video|page, kind: joined|left|heartbeat, client_id?}."""
    session = _room_session(session_id)
    data = json_body()
    source = choice(data, "source", PresenceSource)
    if source is PresenceSource.WHITEBOARD:  # reported by the socket server itself
        raise ValidationError("source", _("Must be one of: %(allowed)s.", allowed="video, page"))
    kind = choice(data, "kind", PresenceKind)
    client_id = data.get("client_id", "")
    if not isinstance(client_id, str) or len(client_id) > 64:
        raise ValidationError("client_id", _("At most %(n)d characters.", n=64))
    if not scheduling.room_is_open(session):
        return _room_closed()
    attendance.record_presence(current_user, session, source=source, kind=kind, client_id=client_id)
    db.session.commit()
    return jsonify({"ok": True}), 201

"""The whiteboard's pictures (photos on pages, snapshots), served to the room's participants."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, send_file
from flask_login import current_user, login_required

from tutoring.extensions import db
from tutoring.scheduling import service as scheduling
from tutoring.scheduling.models import TutoringSession
from tutoring.whiteboard import images, service
from tutoring.whiteboard.strings import client_strings

bp = Blueprint("whiteboard", __name__)


@bp.get("/whiteboard/images/<int:session_id>/<name>")
@login_required
def image(session_id: int, name: str):
    """Send a stored picture of a session's board to its participants; 404 to anyone else."""
    session = db.session.get(TutoringSession, session_id)
    if session is None or not service.may_view(current_user, session):
        abort(404)
    # The name is checked against the pattern of the names we make: no path ever gets in.
    path = images.stored_path(service.storage_root(), session_id, name)
    if path is None:
        abort(404)
    response = send_file(path, mimetype=images.content_type(name), conditional=True, etag=True)
    # Only this browser may keep it, and it asks again each time (a 304 while unchanged),
    # so a learner removed from the session, or signed out, is not shown it from a cache.
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/sessions/<int:session_id>/board")
@login_required
def board(session_id: int):
    """Show a session's board read only, e.g. last week's, with the learner's other boards."""
    session = db.session.get(TutoringSession, session_id)
    if session is None or not service.may_view(current_user, session):
        abort(404)
    live = scheduling.next_session(session.learner) if current_user.role.is_staff else None
    can_copy = (
        live is not None
        and live.id != session.id
        and scheduling.room_is_open(live)
        and service.may_clear(current_user, live)
    )
    return render_template(
        "whiteboard/board.html",
        session=session,
        boards=service.earlier_boards(current_user, session.learner_id),
        copy_target=live if can_copy else None,
        whiteboard_strings=client_strings(),
    )

"""The room page of a session."""

from __future__ import annotations

from functools import partial

from flask import Blueprint, abort, current_app, g, render_template
from flask_login import current_user, login_required

from tutoring.database import utcnow
from tutoring.extensions import db
from tutoring.rooms import service
from tutoring.scheduling import service as scheduling
from tutoring.scheduling.models import TutoringSession
from tutoring.whiteboard.replay import warm_board_later
from tutoring.whiteboard.service import earlier_boards
from tutoring.whiteboard.strings import client_strings

bp = Blueprint("rooms", __name__)


def room_session_or_404(session_id: int) -> TutoringSession:
    """Return the session if the current user belongs in its room, else 404."""
    session = db.session.get(TutoringSession, session_id)
    if session is None or not service.may_enter(current_user, session):
        abort(404)
    return session


@bp.get("/sessions/<int:session_id>/room")
@login_required
def room(session_id: int):
    """Show the room (video and whiteboard) inside the join window, otherwise when it opens."""
    session = room_session_or_404(session_id)
    now = utcnow()
    opens, closes = scheduling.join_window(session)
    try:
        details = service.room_details(current_user, session, now)
    except service.RoomClosed:
        details = None
    else:
        g.embeds_jitsi = True  # lets the CSP allow the Jitsi domain on this page only
    response = current_app.make_response(
        render_template(
            "rooms/room.html",
            session=session,
            details=details,
            opens=opens,
            closes=closes,
            too_early=now < opens,
            moderator=service.is_moderator(current_user, session),
            whiteboard_strings=client_strings(),
            earlier=earlier_boards(current_user, session.learner_id, before=session)[:1]
            if details
            else [],
        )
    )
    response.headers["Cache-Control"] = "no-store"  # the page holds a room token
    if details is not None:
        # The browser joins the board as soon as the page has loaded: read the board into
        # the replay cache meanwhile, in the background once the page has gone out.
        response.call_on_close(
            partial(warm_board_later, current_app._get_current_object(), session.id)
        )
    return response

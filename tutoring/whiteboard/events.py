"""The /whiteboard Socket.IO namespace: join a session's board, draw, undo, clear, point.

Every client event answers through its acknowledgement, `{"ok": true, ...}` or
`{"ok": false, "error": {"code", "message"}}`; nothing a client sends raises.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, Namespace, join_room, leave_room
from sqlalchemy import bindparam, select

from tutoring.attendance import service as attendance
from tutoring.attendance.models import PresenceKind, PresenceSource
from tutoring.auth.service import user_for_token
from tutoring.auth.signals import sessions_ended
from tutoring.extensions import db
from tutoring.partners.access import may_use_whiteboard
from tutoring.people.models import User
from tutoring.rooms import service as rooms
from tutoring.scheduling import service as scheduling
from tutoring.scheduling.models import TutoringSession
from tutoring.validation import ValidationError
from tutoring.whiteboard import schema, service
from tutoring.whiteboard.flood import FloodGuard, StallMeter
from tutoring.whiteboard.wire import RawJSON

NAMESPACE = "/whiteboard"
# Events relayed as they are, never stored: cheap, and checked against the DB less often.
# They are most of the traffic (about 20 a second per person drawing), so they are handled
# without Flask's contexts whenever nothing needs them (see WhiteboardNamespace._relay).
RELAYED = {"stroke:live", "pointer"}
# Events whose handlers need only the sender's id: the account check reads two columns.
BY_ID = RELAYED | {"stroke"}
ACCOUNT_STATE = select(User.active, User.session_version).where(User.id == bindparam("user"))
# How long a connection trusts its user's account state between checks on relayed events.
RECHECK_SECONDS = 5.0
# A handler running longer than this holds up the connection's next messages: excused.
# Shorter delays leave a backlog the burst absorbs anyway.
SLOW_HANDLER_SECONDS = 0.5


@dataclass
class Connection:
    """What the server keeps of one socket, in the process that holds it."""

    user_id: int
    session_version: int
    sid: str
    guard: FloodGuard = field(default_factory=FloodGuard)
    session_id: int | None = None
    checked_at: float = field(default_factory=time.monotonic)
    stalls_seen: float = 0.0  # StallMeter.total when this connection last sent


@dataclass(frozen=True)
class Sender:
    """Who sent a relayed event, when the account need not be loaded."""

    id: int


def board_room(session_id: int) -> str:
    return f"board:{session_id}"


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


def refusal(code: str, message: str, field_name: str | None = None) -> dict:
    error = {"code": code, "message": str(message)}
    if field_name:
        error["field"] = field_name
    return {"ok": False, "error": error}


class WhiteboardNamespace(Namespace):
    def __init__(self, namespace: str = NAMESPACE) -> None:
        super().__init__(namespace)
        self.connections: dict[str, Connection] = {}
        self.stalls = StallMeter()
        self.watching = False

    # Dispatch

    def trigger_event(self, event: str, *args: Any):
        """Route events (also "stroke:live") to handlers; unknown events get an error ack."""
        if event in ("connect", "disconnect"):
            return super().trigger_event(event, *args)
        handler = (
            getattr(self, "on_" + event.replace(":", "_"), None) if isinstance(event, str) else None
        )
        if handler is None:
            return refusal("unknown_event", "Unknown event.")
        verdict = None
        if event in RELAYED:
            answer, verdict = self._relay(handler, *args)
            if answer is not None:
                return answer
        return self._in_context(self._guarded(handler, event, verdict), event, *args)

    def _in_context(self, function, event: str, sid: str, *payload: Any):
        """Run function(*payload) in an app and request context of the socket (Flask-SocketIO)."""
        return self.socketio._handle_event(function, event, self.namespace, sid, *payload)

    def _relay(self, handler, sid: str, *payload: Any) -> tuple[dict | None, str | None]:
        """Handle a relayed event without Flask's contexts, when nothing needs them.

        Building a request context, its session and the app context costs more than relaying
        the message itself. A relayed event needs none of it while its connection is joined,
        the account check is not due and the guard lets it through: the handler then only
        validates and emits. Anything else (refusals, whose words are translated; the account
        check, which reads the database) answers None and goes the usual way, with the guard's
        verdict so the message is counted once.
        """
        connection = self.connections.get(sid)
        if connection is None or connection.session_id is None:
            return None, None
        now = time.monotonic()
        if now - connection.checked_at >= RECHECK_SECONDS:
            return None, None
        verdict = self._admit(connection, now)
        if verdict != "ok":
            return None, verdict
        try:
            return handler(
                Sender(connection.user_id), connection, payload[0] if payload else None
            ), None
        except Exception:  # noqa: BLE001  (answered in context: a translated refusal, or logged)
            return None, verdict

    def _admit(self, connection: Connection, now: float) -> str:
        """Return the flood guard's verdict on one more message of this connection."""
        # Messages that queued while the process was held up are not a flood.
        stalled, connection.stalls_seen = (
            self.stalls.total - connection.stalls_seen,
            self.stalls.total,
        )
        connection.guard.excuse(stalled, now)
        return connection.guard.check(now)

    def _guarded(self, handler, event: str, verdict: str | None = None):
        """Wrap a handler with the flood guard, the account check and error answers.

        `verdict` is the guard's, when _relay already counted the message.
        """

        def run(*payload: Any):
            connection = self.connections.get(request.sid)
            if connection is None:
                return refusal("unauthorized", _("Sign in first."))
            admitted = verdict or self._admit(connection, time.monotonic())
            if admitted == "disconnect":
                current_app.logger.warning("whiteboard: disconnecting a flooding client")
                self._disconnect_after_answer(request.sid)
                return refusal("rate_limited", _("Too many messages."))
            if admitted == "refuse":
                return refusal("rate_limited", _("Too many messages. Slow down."))
            user = self._current_account(
                connection, strict=event not in RELAYED, load=event not in BY_ID
            )
            if user is None:
                self._disconnect_after_answer(request.sid)
                return refusal("unauthorized", _("Sign in first."))
            started = time.monotonic()
            try:
                return handler(user, connection, payload[0] if payload else None)
            except ValidationError as error:
                db.session.rollback()
                return refusal(error.code, error.message, error.field)
            except Exception:
                db.session.rollback()
                current_app.logger.exception("whiteboard: %s failed", event)
                return refusal(
                    "server_error", _("Something went wrong on our side. Please try again later.")
                )
            finally:
                # While a handler runs, the connection's next messages wait unread.
                finished = time.monotonic()
                if finished - started > SLOW_HANDLER_SECONDS:
                    connection.guard.excuse(finished - started, finished)

        return run

    def _watch_stalls(self) -> None:
        """Measure how late a ticker wakes while anyone is connected (see StallMeter)."""
        interval = self.stalls.interval
        while self.connections:
            started = time.monotonic()
            self.socketio.sleep(interval)
            self.stalls.tick(time.monotonic() - started - interval)
        self.watching = False

    def _disconnect_after_answer(self, sid: str) -> None:
        """Close the socket once this event's answer has gone out (closing now would drop it)."""

        def close() -> None:
            self.socketio.sleep(0.2)
            self.socketio.server.disconnect(sid, namespace=self.namespace)

        self.connections.pop(sid, None)
        self.socketio.start_background_task(close)

    def _current_account(
        self, connection: Connection, *, strict: bool, load: bool = True
    ) -> User | Sender | None:
        """Return the user if still signed in (not disabled, not signed out everywhere).

        Relayed events (about 40 a second while drawing) need only the sender's id: between
        account checks they get it without a database query, which is the relay's hot path.
        Handlers that need only the id (`load` false) get it after a check of two columns
        instead of loading the account.
        """
        now = time.monotonic()
        if not strict and now - connection.checked_at < RECHECK_SECONDS:
            return Sender(connection.user_id)
        connection.checked_at = now
        if load:
            user = db.session.get(User, connection.user_id)
            state = None if user is None else (user.active, user.session_version)
        else:
            user = Sender(connection.user_id)
            state = db.session.execute(ACCOUNT_STATE, {"user": connection.user_id}).first()
        if state is None or not state[0] or state[1] != connection.session_version:
            return None
        return user

    # Connection

    def on_connect(self, auth: Any = None):
        """Accept the browser's session cookie or {"token": "<API token>"}; refuse anyone else."""
        user = None
        if isinstance(auth, dict) and isinstance(auth.get("token"), str):
            user = user_for_token(auth["token"])
            if user is not None:
                db.session.commit()  # last_used_at
        elif current_user.is_authenticated:
            user = current_user._get_current_object()
        if user is None or not may_use_whiteboard(user):
            raise ConnectionRefusedError("unauthorized")
        self.connections[request.sid] = Connection(
            user.id, user.session_version, request.sid, stalls_seen=self.stalls.total
        )
        join_room(user_room(user.id))
        if not self.watching:
            self.watching = True
            self.socketio.start_background_task(self._watch_stalls)

    def on_disconnect(self, reason: Any = None) -> None:
        """A dropped or closed socket ends its presence on the board."""
        connection = self.connections.pop(request.sid, None)
        if connection is not None and connection.session_id is not None:
            self._presence(connection, PresenceKind.LEFT)

    def _presence(self, connection: Connection, kind: PresenceKind) -> None:
        session = db.session.get(TutoringSession, connection.session_id)
        user = db.session.get(User, connection.user_id)
        if session is None or user is None:
            return
        attendance.record_presence(
            user, session, source=PresenceSource.WHITEBOARD, kind=kind, client_id=request.sid
        )
        db.session.commit()

    # Events

    def on_join(self, user: User, connection: Connection, payload: Any) -> dict:
        """Sent by a participant entering the room: answers every item after `since`."""
        join = schema.parse_join(payload)
        session = db.session.get(TutoringSession, join.session_id)
        if session is None or not rooms.may_enter(user, session):
            return refusal(
                "not_found", _("This page does not exist or is not available to you."), "session_id"
            )
        if not scheduling.room_is_open(session):
            return refusal("room_closed", _("The room is not open now."), "session_id")
        if connection.session_id not in (None, session.id):
            self._presence(connection, PresenceKind.LEFT)
            leave_room(board_room(connection.session_id))
        first_join = connection.session_id != session.id
        connection.session_id = session.id
        # Before the replay is read: with Redis, join_room returns once the processes already
        # in the room will publish to this one (tutoring/realtime.py says why that is enough).
        join_room(board_room(session.id))
        if first_join:
            self._presence(connection, PresenceKind.JOINED)
        # The items travel as pre-encoded JSON text (wire.RawJSON): the client receives an
        # ordinary list, and the server never walks the hundreds of thousands of numbers.
        last_seq, items = service.replay_json(session.id, join.since, join.encoding)
        answer = {"ok": True, "board_id": session.id, "last_seq": last_seq, "items": RawJSON(items)}
        if join.encoding != "contract":
            answer["encoding"] = join.encoding
        return answer

    def _joined_session(self, connection: Connection) -> TutoringSession:
        session = (
            db.session.get(TutoringSession, connection.session_id)
            if connection.session_id
            else None
        )
        if session is None:
            raise ValidationError("session_id", _("Join a board first."), code="not_joined")
        return session

    def on_stroke(self, user: User, connection: Connection, payload: Any) -> dict:
        """Sent when a stroke ends: stored, then broadcast; a re-sent id returns its first seq."""
        stroke = schema.parse_stroke(payload)
        if connection.session_id is None:
            raise ValidationError("session_id", _("Join a board first."), code="not_joined")
        body, created = service.add_stroke(connection.session_id, user.id, stroke)
        db.session.commit()  # acknowledged only once stored
        if created:
            self._relay_to_others(connection, "stroke", body)
        return {"ok": True, "seq": body["seq"]}

    def on_stroke_live(self, user: User, connection: Connection, payload: Any) -> dict:
        """Sent about every 50 ms while drawing: the new points, relayed to the others only."""
        live = schema.parse_stroke_live(payload)
        self._relay_to_others(connection, "stroke:live", {**live.to_dict(), "author_id": user.id})
        return {"ok": True}

    def on_undo(self, user: User, connection: Connection, payload: Any) -> dict:
        """Hide one of one's own strokes."""
        return self._toggle(user, connection, schema.parse_undo(payload).stroke_id, show=False)

    def on_redo(self, user: User, connection: Connection, payload: Any) -> dict:
        """Show again one of one's own strokes."""
        return self._toggle(user, connection, schema.parse_redo(payload).stroke_id, show=True)

    def _toggle(self, user: User, connection: Connection, stroke_id: str, *, show: bool) -> dict:
        session = self._joined_session(connection)
        item = service.toggle_stroke(session, user, stroke_id, show=show)
        db.session.commit()
        self.emit(
            "restore" if show else "erase",
            {"seq": item.seq, "stroke_id": stroke_id},
            room=board_room(session.id),
            include_self=False,
        )
        return {"ok": True, "seq": item.seq}

    def on_clear(self, user: User, connection: Connection, payload: Any) -> dict:
        """Clear a page (the tutor and coordinators; a learner is refused)."""
        clear = schema.parse_clear(payload)
        session = self._joined_session(connection)
        item = service.clear_page(session, user, clear.page)
        db.session.commit()
        self.emit(
            "clear",
            {"seq": item.seq, "page": clear.page},
            room=board_room(session.id),
            include_self=False,
        )
        return {"ok": True, "seq": item.seq}

    def on_pointer(self, user: User, connection: Connection, payload: Any) -> dict:
        """Relay the laser pointer to the others; never stored."""
        pointer = schema.parse_pointer(payload)
        self._relay_to_others(
            connection,
            "pointer",
            {"user_id": user.id, "page": pointer.page, "x": pointer.x, "y": pointer.y},
        )
        return {"ok": True}

    def _relay_to_others(self, connection: Connection, event: str, data: dict) -> None:
        """Send an event to the others on the connection's board (no Flask context needed)."""
        if connection.session_id is None:
            raise ValidationError("session_id", _l("Join a board first."), code="not_joined")
        self.socketio.server.emit(
            event,
            data,
            room=board_room(connection.session_id),
            skip_sid=connection.sid,
            namespace=self.namespace,
        )

    def on_leave(self, user: User, connection: Connection, payload: Any) -> dict:
        """Leave the board: presence ends."""
        if connection.session_id is not None:
            self._presence(connection, PresenceKind.LEFT)
            leave_room(board_room(connection.session_id))
            connection.session_id = None
        return {"ok": True}


@sessions_ended.connect
def disconnect_user(user_id: int) -> None:
    """End the whiteboard sockets of a user who signed out or was disabled.

    Sockets in this process close at once; other processes close theirs at the user's next
    event, when the account check fails.
    """
    from tutoring.extensions import socketio

    server = socketio.server
    if server is None:
        return
    for sid, _eio_sid in list(server.manager.get_participants(NAMESPACE, user_room(user_id))):
        server.disconnect(sid, namespace=NAMESPACE)

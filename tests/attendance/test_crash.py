"""A server killed while two people are in the room: after a restart their intervals close at
their last heartbeat, through the sweep the new server runs when it starts."""

from __future__ import annotations

import json
import signal
import time
import urllib.request
from datetime import timedelta

from sqlalchemy import select

from tests.whiteboard.conftest import BoardClient, quick_websocket_close  # noqa: F401
from tutoring.attendance import service
from tutoring.attendance.intervals import Span
from tutoring.attendance.models import (
    ClosedBy,
    PresenceEvent,
    PresenceInterval,
    PresenceKind,
    PresenceSource,
)
from tutoring.database import utcnow
from tutoring.extensions import db
from tutoring.scheduling.models import TutoringSession

# Quick settings so the test needs seconds, not minutes: silent for 2 s means gone.
QUICK = {
    "TUTORING_ATTENDANCE_STALE_SECONDS": "2",
    "TUTORING_ATTENDANCE_SWEEP_INTERVAL_SECONDS": "1",
}


def report(server, session_id, token, kind, client_id):
    request = urllib.request.Request(  # noqa: S310 (a local test server)
        f"{server.url}/api/v1/sessions/{session_id}/presence",
        data=json.dumps({"source": "page", "kind": kind, "client_id": client_id}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        assert response.status == 201


def intervals(app, session_id):
    with app.app_context():
        return list(
            db.session.scalars(
                select(PresenceInterval)
                .where(PresenceInterval.session_id == session_id)
                .order_by(PresenceInterval.user_id, PresenceInterval.source)
            )
        )


def test_a_killed_server_closes_both_intervals_at_the_last_heartbeat(
    app, program, book, make_token, server_processes
):
    session_id = book(utcnow().replace(microsecond=0) - timedelta(minutes=5))[0]
    people = {"tutor": program.tutor, "learner": program.learner}
    tokens = {role: make_token(account) for role, account in people.items()}
    first = server_processes(**QUICK)
    boards = {role: BoardClient(first.url, token=tokens[role]) for role in people}
    for role in people:
        assert boards[role].call("join", {"session_id": session_id})["ok"]
        report(first, session_id, tokens[role], "joined", f"page-{role}")
    for _ in range(4):
        time.sleep(0.3)
        for role in people:
            report(first, session_id, tokens[role], "heartbeat", f"page-{role}")

    first.stop(signal.SIGKILL)  # no disconnect, no leave, nothing more reaches the database
    for board in boards.values():
        board.close()  # the clients are gone too; their sockets died with the server
    with app.app_context():
        events = db.session.scalars(
            select(PresenceEvent).where(PresenceEvent.session_id == session_id)
        ).all()
        last_beat = {
            user_id: max(
                e.occurred_at
                for e in events
                if e.user_id == user_id and e.kind.value == "heartbeat"
            )
            for user_id in (program.tutor.id, program.learner.id)
        }
        first_seen = {
            user_id: min(e.occurred_at for e in events if e.user_id == user_id)
            for user_id in last_beat
        }
        assert not [e for e in events if e.kind is PresenceKind.LEFT]
    assert intervals(app, session_id) == []

    second = server_processes(**QUICK)  # its first request starts the sweeper
    deadline = time.monotonic() + 20
    while len(intervals(app, session_id)) < 4 and time.monotonic() < deadline:
        time.sleep(0.25)
    closed = intervals(app, session_id)
    assert len(closed) == 4, f"the restarted server did not sweep: {closed}"
    for interval in closed:
        assert interval.closed_by is ClosedBy.SWEEP
        assert interval.left_at == last_beat[interval.user_id]
    assert {(i.user_id, i.source) for i in closed} == {
        (user_id, source)
        for user_id in last_beat
        for source in (PresenceSource.PAGE, PresenceSource.WHITEBOARD)
    }
    # Each person counts once, from their first sign to their last heartbeat.
    with app.app_context():
        session = db.session.get(TutoringSession, session_id)
        spans = {p.user.id: p.spans for p in service.session_attendance(session)}
    assert spans == {
        user_id: [Span(first_seen[user_id], last_beat[user_id])] for user_id in last_beat
    }

    # Sweeping again, by hand, changes nothing: the decision is stored.
    result = app.test_cli_runner().invoke(args=["attendance", "sweep"])
    assert result.exit_code == 0, result.output
    assert "stored 0 interval(s)" in result.output
    assert [(i.id, i.left_at) for i in intervals(app, session_id)] == [
        (i.id, i.left_at) for i in closed
    ]
    second.stop()

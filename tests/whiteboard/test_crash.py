"""A server killed mid-session loses no acknowledged stroke and stores none twice."""

from __future__ import annotations

import signal

from tests.whiteboard.conftest import BoardClient, stroke_payload
from tutoring.extensions import db
from tutoring.whiteboard.models import BoardItem


def test_sigkill_and_restart_keep_every_acknowledged_stroke_once(
    app, server_processes, program, make_token, open_session
):
    server = server_processes()
    tutor = BoardClient(server.url, token=make_token(program.tutor))
    try:
        tutor.call("join", {"session_id": open_session})
        acked = [tutor.call("stroke", stroke_payload(f"s{n}"))["seq"] for n in range(20)]
        assert acked == list(range(1, 21))
        server.stop(signal.SIGKILL)  # no shutdown, no flush: as a crashed machine
    finally:
        tutor.close()

    restarted = server_processes(port=server.port)
    learner = BoardClient(restarted.url, token=make_token(program.learner))
    retry = BoardClient(restarted.url, token=make_token(program.tutor))
    try:
        replay = learner.call("join", {"session_id": open_session})
        assert [item["id"] for item in replay["items"]] == [f"s{n}" for n in range(20)]
        # The client's outbox re-sends what it was not sure of: stored once, same seq.
        retry.call("join", {"session_id": open_session, "since": 20})
        assert retry.call("stroke", stroke_payload("s19")) == {"ok": True, "seq": 20}
        assert retry.call("stroke", stroke_payload("s20")) == {"ok": True, "seq": 21}
    finally:
        learner.close()
        retry.close()
    with app.app_context():
        ids = [item.stroke_id for item in db.session.query(BoardItem).order_by(BoardItem.seq)]
    assert ids == [f"s{n}" for n in range(21)]

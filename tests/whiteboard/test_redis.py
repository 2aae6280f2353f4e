"""Two server processes share whiteboard rooms through the Redis message queue."""

from __future__ import annotations

import pytest

from tests.conftest import redis_available, service_missing
from tests.whiteboard.conftest import BoardClient, stroke_payload

REDIS_URL = "redis://127.0.0.1:6379/13"

pytestmark = pytest.mark.redis


def test_a_stroke_sent_to_one_process_reaches_a_client_of_the_other(
    server_processes, program, make_token, open_session
):
    if not redis_available(REDIS_URL):
        service_missing("Redis is not reachable at 127.0.0.1:6379")
    first = server_processes(TUTORING_REDIS_URL=REDIS_URL)
    second = server_processes(TUTORING_REDIS_URL=REDIS_URL)
    tutor = BoardClient(first.url, token=make_token(program.tutor))
    learner = BoardClient(second.url, token=make_token(program.learner))
    try:
        assert tutor.call("join", {"session_id": open_session})["ok"]
        assert learner.call("join", {"session_id": open_session})["ok"]
        assert tutor.call("stroke", stroke_payload("across")) == {"ok": True, "seq": 1}
        [received] = learner.wait_for("stroke", timeout=10)
        assert (received["id"], received["seq"]) == ("across", 1)
        learner.call(
            "stroke:live",
            {
                "id": "live",
                "page": 0,
                "tool": "pen",
                "color": "#000000",
                "width": 1,
                "points": [[1, 1]],
            },
        )
        assert tutor.wait_for("stroke:live", timeout=10)[0]["id"] == "live"
    finally:
        tutor.close()
        learner.close()


def test_without_redis_processes_do_not_share_rooms(
    server_processes, program, make_token, open_session
):
    first, second = server_processes(), server_processes()
    tutor = BoardClient(first.url, token=make_token(program.tutor))
    learner = BoardClient(second.url, token=make_token(program.learner))
    try:
        tutor.call("join", {"session_id": open_session})
        learner.call("join", {"session_id": open_session})
        tutor.call("stroke", stroke_payload("alone"))
        # The stroke is stored, so the learner gets it on its next join, but no live relay.
        assert (
            learner.call("join", {"session_id": open_session, "since": 0})["items"][0]["id"]
            == "alone"
        )
        assert learner.received["stroke"] == []
    finally:
        tutor.close()
        learner.close()

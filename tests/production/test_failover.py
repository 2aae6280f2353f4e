"""Two processes with Redis: one is killed, its clients reconnect to the other, and no
acknowledged stroke and no attended minute is lost (issue 11)."""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.request
from datetime import UTC, datetime

import pytest

from tests.whiteboard.conftest import BoardClient, stroke_payload

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def api(url: str, token: str, path: str, payload: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(  # noqa: S310 (a local test server)
        url + path,
        data=json.dumps(payload).encode() if payload is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST" if payload is not None else "GET",
    )
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        return response.status, json.loads(response.read())


def presence(url: str, token: str, session_id: int, kind: str) -> None:
    status, _ = api(
        url,
        token,
        f"/api/v1/sessions/{session_id}/presence",
        {"source": "page", "kind": kind, "client_id": "page-tutor"},
    )
    assert status == 201


def test_clients_of_a_killed_process_carry_on_through_the_other(production):
    server = production(workers=2)
    first, second = server.urls
    seed = server.seed
    session = seed.session_id

    started = datetime.now(UTC)
    learner = BoardClient(second, token=seed.learner_token)
    tutor = BoardClient(first, token=seed.tutor_token)
    assert learner.call("join", {"session_id": session})["ok"]
    assert tutor.call("join", {"session_id": session})["ok"]
    presence(first, seed.tutor_token, session, "joined")
    acked = []
    for n in range(10):
        acked.append(tutor.call("stroke", stroke_payload(f"s{n}"))["seq"])
        if n % 3 == 0:
            presence(first, seed.tutor_token, session, "heartbeat")
    assert acked == list(range(1, 11))
    # One more stroke is on its way when the process dies: not acknowledged, so the client's
    # outbox keeps it and sends it again after reconnecting.
    tutor.emit("stroke", stroke_payload("s10"))
    for pid in server.worker_pids(server.first_port):
        os.kill(pid, signal.SIGKILL)  # master and worker: no shutdown, no disconnect, no leave
    tutor.close()
    killed_at, killed_wall = time.monotonic(), datetime.now(UTC)

    # The proxy sends the tutor to the surviving process; the client resumes where it was.
    tutor = BoardClient(second, token=seed.tutor_token)
    try:
        resumed = tutor.call("join", {"session_id": session, "since": acked[-1]})
        assert resumed["ok"]
        assert [item["id"] for item in resumed["items"]] in ([], ["s10"])
        resent = tutor.call("stroke", stroke_payload("s10"))
        assert resent == {"ok": True, "seq": 11}
        assert tutor.call("stroke", stroke_payload("s11")) == {"ok": True, "seq": 12}
        presence(second, seed.tutor_token, session, "heartbeat")
        assert time.monotonic() - killed_at < 10  # well inside the 60 s that merge intervals
        presence(second, seed.tutor_token, session, "heartbeat")

        # The learner, who stayed on the surviving process, has every stroke once, in order.
        received = [s["id"] for s in learner.wait_for("stroke", count=11, timeout=10)]
        assert received[:10] == [f"s{n}" for n in range(10)]
        assert sorted(received) == sorted(set(received))
        replay = learner.call("join", {"session_id": session, "since": 0})
        assert [item["id"] for item in replay["items"]] == [f"s{n}" for n in range(12)]
        assert [item["seq"] for item in replay["items"]] == list(range(1, 13))

        # The tutor's presence is one stretch across the failover: no minute lost.
        status, body = api(second, seed.coordinator_token, f"/api/v1/sessions/{session}/attendance")
        assert status == 200
        [tutor_row] = [row for row in body["attendance"] if row["user_id"] == seed.tutor_id]
        [interval] = tutor_row["intervals"]
        joined = datetime.fromisoformat(interval["joined_at"])
        # Present since the first join on the killed process, and still present now.
        assert started <= joined <= killed_wall
        assert interval["left_at"] is None
    finally:
        tutor.close()
        learner.close()

"""Two serve-prod processes with Redis: a room whose members are all on one process sends
nothing through Redis; split across processes, it is relayed as before (tutoring/realtime.py)."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import uuid

import pytest
import redis

from tests.production.conftest import REDIS_URL
from tests.whiteboard.conftest import BoardClient, stroke_payload
from tutoring.realtime import CONTROL

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

LIVE = {"id": "live", "page": 0, "tool": "pen", "color": "#000000", "width": 1}


class ChannelWatch:
    """A subscriber of our own on the deployment's Socket.IO channel: what was published."""

    def __init__(self, channel: str) -> None:
        self.client = redis.Redis.from_url(REDIS_URL)
        self.pubsub = self.client.pubsub()
        self.pubsub.subscribe(channel)
        assert self.pubsub.get_message(timeout=5)["type"] == "subscribe"
        self.published: list[bytes] = []
        self.lock = threading.Lock()
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stopping:
            message = self.pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
            if message and message["type"] == "message":
                with self.lock:
                    self.published.append(message["data"])

    def emits(self, room: str) -> list[dict]:
        """Return the Socket.IO emits published to a room so far."""
        with self.lock:
            messages = [json.loads(data) for data in self.published if not data.startswith(CONTROL)]
        return [m for m in messages if m.get("method") == "emit" and m.get("room") == room]

    def controls(self, kind: str) -> list[dict]:
        with self.lock:
            found = [
                json.loads(data[len(CONTROL) :])
                for data in self.published
                if data.startswith(CONTROL)
            ]
        return [m for m in found if m["kind"] == kind]

    def close(self) -> None:
        self.stopping = True
        self.thread.join(5)
        self.pubsub.close()
        self.client.close()


@pytest.fixture
def deployment(production):
    """Start two processes on a channel of the test's own; yield (server, watch of the channel)."""
    channel = f"test-{uuid.uuid4().hex[:12]}"
    watch = ChannelWatch(channel)
    server = production(
        workers=2,
        TUTORING_REDIS_CHANNEL=channel,
        # Short, so that a killed process counts as gone within the test.
        TUTORING_SOCKETIO_ROOM_HEARTBEAT_SECONDS="0.5",
        TUTORING_SOCKETIO_ROOM_EXPIRY_SECONDS="3",
    )
    yield server, watch
    watch.close()


def settled(watch: ChannelWatch, room: str, seconds: float = 1.0) -> int:
    """Wait until nothing more is published to a room for a moment; return the count."""
    count = len(watch.emits(room))
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.1)
        if len(watch.emits(room)) != count:
            count = len(watch.emits(room))
            deadline = time.monotonic() + seconds
    return count


def relay_both_ways(tutor: BoardClient, learner: BoardClient, n: int) -> None:
    """A stroke and a live batch from the tutor, a pointer from the learner: all arrive."""
    strokes, lives = len(learner.received["stroke"]), len(learner.received["stroke:live"])
    pointers = len(tutor.received["pointer"])
    ack = tutor.call("stroke", stroke_payload(f"s{n}"))
    assert ack["ok"]
    assert learner.wait_for("stroke", count=strokes + 1, timeout=10)[-1]["seq"] == ack["seq"]
    tutor.emit("stroke:live", {**LIVE, "points": [[n, n]]})
    assert learner.wait_for("stroke:live", count=lives + 1, timeout=10)[-1]["points"] == [[n, n]]
    learner.emit("pointer", {"page": 0, "x": n, "y": 1})
    assert tutor.wait_for("pointer", count=pointers + 1, timeout=10)[-1]["x"] == n


def drawing_pair(server, learner_url: str) -> tuple[BoardClient, BoardClient]:
    """Join the seeded board as the tutor (first process) and the learner, relay 3 rounds."""
    seed = server.seed
    tutor = BoardClient(server.urls[0], token=seed.tutor_token)
    learner = BoardClient(learner_url, token=seed.learner_token)
    for client in (tutor, learner):
        assert client.call("join", {"session_id": seed.session_id})["ok"]
    for n in range(3):
        relay_both_ways(tutor, learner, n)
    return tutor, learner


def test_a_room_on_one_process_stays_off_redis_until_a_member_moves(deployment):
    server, watch = deployment
    first, second = server.urls
    seed = server.seed
    room = f"board:{seed.session_id}"
    tutor, learner = drawing_pair(server, first)
    try:
        assert settled(watch, room) == 0
        # What went through Redis: the first process's announcement of the room, and heartbeats.
        assert [c["room"] for c in watch.controls("enter")] == [room]
        assert watch.controls("alive")

        # The learner moves to the other process: the room is relayed through Redis.
        learner.close()
        learner = BoardClient(second, token=seed.learner_token)
        assert learner.call("join", {"session_id": seed.session_id, "since": 3})["ok"]
        relay_both_ways(tutor, learner, 3)
        crossed = settled(watch, room)
        assert crossed >= 3  # stroke, live batch, pointer

        # And back: once the second process's leave is known, nothing is published again.
        learner.close()
        learner = BoardClient(first, token=seed.learner_token)
        assert learner.call("join", {"session_id": seed.session_id, "since": 4})["ok"]
        deadline = time.monotonic() + 10
        n = 4
        while True:
            before = settled(watch, room, 0.3)
            relay_both_ways(tutor, learner, n)
            n += 1
            if settled(watch, room, 0.3) == before:
                break
            assert time.monotonic() < deadline, "the room kept being published to Redis"
        assert [c["room"] for c in watch.controls("leave")] == [room]
    finally:
        tutor.close()
        learner.close()


def test_a_room_split_across_processes_is_relayed_through_redis(deployment):
    server, watch = deployment
    first, second = server.urls
    seed = server.seed
    room = f"board:{seed.session_id}"
    tutor, learner = drawing_pair(server, second)
    try:
        events = [emit["event"] for emit in watch.emits(room)]
        assert events.count("stroke") == 3
        assert events.count("stroke:live") == 3
        assert events.count("pointer") == 3
        # The learner's process announced itself, and the tutor's answered before the join ended.
        [enter] = [c for c in watch.controls("enter") if c["room"] == room][-1:]
        assert any(c["to"] == enter["host"] for c in watch.controls("present"))
    finally:
        tutor.close()
        learner.close()


def test_a_joiner_on_another_process_misses_no_stroke_committed_meanwhile(deployment):
    """Strokes keep coming on the first process while the learner joins on the second: every
    stroke after the joiner's replay must reach it as a broadcast."""
    server, _watch = deployment
    first, second = server.urls
    seed = server.seed
    tutor = BoardClient(first, token=seed.tutor_token)
    assert tutor.call("join", {"session_id": seed.session_id})["ok"]
    acked: list[int] = []
    stop = threading.Event()

    def draw() -> None:
        n = 0
        while not stop.is_set():
            acked.append(tutor.call("stroke", stroke_payload(f"d{n}"), timeout=10)["seq"])
            n += 1
            time.sleep(0.02)  # ~40 strokes a second, within the flood guard's rate

    drawer = threading.Thread(target=draw, daemon=True)
    drawer.start()
    try:
        for _ in range(8):
            learner = BoardClient(second, token=seed.learner_token)
            try:
                # The process has no member of the room now: each join announces it anew.
                reply = learner.call("join", {"session_id": seed.session_id}, timeout=10)
                assert reply["ok"]
                replayed = {item["seq"] for item in reply["items"]}
                assert replayed == set(range(1, reply["last_seq"] + 1))
                deadline = time.monotonic() + 10
                while (not acked or acked[-1] < reply["last_seq"] + 5) and (
                    time.monotonic() < deadline
                ):
                    time.sleep(0.01)
                # Committed after the replay was read, so not in it: each must be broadcast.
                expected = set(range(reply["last_seq"] + 1, acked[-1] + 1))
                deadline = time.monotonic() + 10
                while not expected <= {s["seq"] for s in learner.received["stroke"]}:
                    assert time.monotonic() < deadline, "a stroke never reached the joiner"
                    time.sleep(0.02)
            finally:
                learner.close()
            time.sleep(0.1)  # the second process announces its leave
    finally:
        stop.set()
        drawer.join(15)
        tutor.close()
    assert acked == list(range(1, len(acked) + 1))


def test_a_killed_process_stops_costing_publishes_after_the_expiry(deployment):
    server, watch = deployment
    first, second = server.urls
    seed = server.seed
    room = f"board:{seed.session_id}"
    tutor = BoardClient(first, token=seed.tutor_token)
    learner = BoardClient(second, token=seed.learner_token)
    try:
        for client in (tutor, learner):
            assert client.call("join", {"session_id": seed.session_id})["ok"]
        relay_both_ways(tutor, learner, 0)
        for pid in server.worker_pids(server.first_port):
            os.kill(pid, signal.SIGKILL)  # no disconnect, no leave: only the expiry tells
        tutor.close()
        killed_at = time.monotonic()

        # The tutor comes back through the surviving process, where the learner is.
        tutor = BoardClient(second, token=seed.tutor_token)
        assert tutor.call("join", {"session_id": seed.session_id, "since": 1})["ok"]
        n = 1
        while True:
            before = settled(watch, room, 0.3)
            relay_both_ways(tutor, learner, n)  # delivered all along
            n += 1
            if settled(watch, room, 0.3) == before:
                break
            assert time.monotonic() - killed_at < 15, "the dead process's room kept publishing"
        # Still published right after the kill (the dead process counted as there): safe.
        assert n > 2
        assert time.monotonic() - killed_at > 2
    finally:
        tutor.close()
        learner.close()

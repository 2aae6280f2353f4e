"""The Socket.IO client manager that keeps a room's messages off Redis (tutoring/realtime.py).

First the bookkeeping alone; then two managers on a real Redis whose control messages the
test hands over itself (no listener threads), so the order of events is the test's to choose.
"""

from __future__ import annotations

import json
import threading
import time
import uuid

import pytest
import socketio

from tests.conftest import redis_available, service_missing
from tutoring.realtime import ANSWER_SECONDS, CONTROL, RoomDirectory, RoomRedisManager

NS = "/whiteboard"
ROOM = "board:7"
KEY = (NS, ROOM)
REDIS_URL = "redis://127.0.0.1:6379/11"


# The bookkeeping


def test_a_room_is_ours_alone_only_once_redis_has_been_read():
    directory = RoomDirectory(expiry=60)
    assert not directory.alone(KEY, 0)  # not followed: nothing known
    directory.track(KEY)
    assert not directory.alone(KEY, 0)  # announced, Redis not read yet
    directory.learned(KEY, {}, 0)
    assert directory.alone(KEY, 0)


def test_another_process_keeps_the_room_on_redis_until_its_newer_leave():
    directory = RoomDirectory(expiry=60)
    directory.track(KEY)
    directory.learned(KEY, {"a": 3}, 0)
    assert not directory.alone(KEY, 1)
    directory.left(KEY, "a", 2, 1)  # published before the state Redis showed: stale
    assert not directory.alone(KEY, 1)
    directory.left(KEY, "a", 4, 1)
    assert directory.alone(KEY, 1)
    directory.entered(KEY, "a", 3, 2)  # an old enter arriving late changes nothing
    assert directory.alone(KEY, 2)
    directory.entered(KEY, "a", 5, 2)
    assert not directory.alone(KEY, 2)


def test_a_process_not_heard_from_counts_as_gone_after_the_expiry():
    directory = RoomDirectory(expiry=10)
    directory.track(KEY)
    directory.learned(KEY, {"a": 1}, 0)
    assert not directory.alone(KEY, 9.9)
    assert directory.alone(KEY, 10.1)
    directory.alive("a", 1, [KEY], 10.2)  # it was only slow
    assert not directory.alone(KEY, 10.3)


def test_a_heartbeat_states_every_room_of_a_process():
    directory = RoomDirectory(expiry=60)
    directory.track(KEY)
    directory.learned(KEY, {"a": 1}, 0)
    directory.alive("a", 2, [], 1)  # a leave was lost; the heartbeat says it
    assert directory.alone(KEY, 1)
    directory.alive("a", 1, [KEY], 2)  # an older heartbeat arriving late
    assert directory.alone(KEY, 2)
    directory.alive("a", 3, [KEY], 3)
    assert not directory.alone(KEY, 3)


def test_rooms_this_process_does_not_hold_are_not_kept():
    directory = RoomDirectory(expiry=60)
    directory.entered(("/whiteboard", "board:8"), "a", 1, 0)
    directory.alive("a", 2, [("/whiteboard", "board:9")], 0)
    assert directory.rooms == {}
    directory.track(KEY)
    directory.learned(KEY, {"a": 1}, 0)
    directory.forget(KEY)
    assert directory.rooms == {}
    assert not directory.alone(KEY, 0)


def test_an_announcement_is_answered_by_present_or_by_a_later_leave():
    directory = RoomDirectory(expiry=60)
    directory.track(KEY)
    directory.answered(KEY, "a", 6, 0)  # may arrive before the read's result is recorded
    directory.learned(KEY, {"a": 3, "b": 5}, 0)
    read = {"a": 3, "b": 5}
    assert directory.waiting_for(KEY, read) == {"b"}
    directory.entered(KEY, "b", 6, 0)  # someone else's news: not an answer to us
    directory.left(KEY, "b", 4, 0)  # a leave from before the read: not an answer either
    assert directory.waiting_for(KEY, read) == {"b"}
    directory.left(KEY, "b", 7, 0)
    assert directory.waiting_for(KEY, read) == set()


def test_processes_gone_for_long_are_pruned():
    directory = RoomDirectory(expiry=10)
    directory.track(KEY)
    directory.learned(KEY, {"a": 1}, 0)
    directory.prune(15)
    assert directory.rooms[KEY] == {"a": (1, True)}
    directory.prune(21)
    assert directory.rooms[KEY] == {}
    assert directory.deadlines == {}


# Two managers on Redis


class Wire:
    """What the managers publish on their channel, collected by a subscriber of the test's own."""

    def __init__(self, channel: str) -> None:
        import redis

        self.client = redis.Redis.from_url(REDIS_URL)
        self.pubsub = self.client.pubsub()
        self.pubsub.subscribe(channel)
        assert self.pubsub.get_message(timeout=5)["type"] == "subscribe"
        self.controls: list[dict] = []
        self.emits: list[dict] = []

    def _read(self, timeout: float) -> None:
        message = self.pubsub.get_message(ignore_subscribe_messages=True, timeout=timeout)
        if message and message["type"] == "message":
            data = message["data"]
            if data.startswith(CONTROL):
                self.controls.append(json.loads(data[len(CONTROL) :]))
            else:
                self.emits.append(json.loads(data))

    def next(self, kind: str, host: str, timeout: float = 5) -> dict:
        """Return (and take) the next control message of a kind from a manager."""
        deadline = time.monotonic() + timeout
        while True:
            for message in self.controls:
                if message["kind"] == kind and message["host"] == host:
                    self.controls.remove(message)
                    return message
            assert time.monotonic() < deadline, f"no {kind!r} from {host}"
            self._read(0.1)

    def emits_to(self, room: str, wait: float = 0.3) -> list[str]:
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            self._read(0.05)
        return [m["event"] for m in self.emits if m.get("room") == room]


@pytest.fixture
def wired():
    """Return (make_manager, wire); a manager is synced by hand: the test is its listener."""
    if not redis_available(REDIS_URL):
        service_missing("Redis is not reachable at 127.0.0.1:6379")
    channel = f"test-rooms-{uuid.uuid4().hex[:8]}"
    wire = Wire(channel)
    managers: list[RoomRedisManager] = []

    def make(expiry: float = 60) -> RoomRedisManager:
        manager = RoomRedisManager(REDIS_URL, channel=channel, expiry=expiry)
        server = socketio.Server(client_manager=manager, async_mode="threading")
        manager.delivered = []
        server._send_eio_packet = lambda eio_sid, packet: manager.delivered.append(eio_sid)
        manager.synced.set()
        managers.append(manager)
        return manager

    yield make, wire
    for key in wire.client.scan_iter(f"{channel}:*"):
        wire.client.delete(key)
    for manager in managers:
        if manager.redis is not None:
            manager.redis.close()
    wire.pubsub.close()
    wire.client.close()


def member(manager: RoomRedisManager, name: str) -> str:
    """Connect a client (engine.io id `name`) to the namespace of a manager; return its sid."""
    return manager.connect(name, NS)


def test_alone_in_a_room_a_process_emits_without_redis(wired):
    make, wire = wired
    a = make()
    sid = member(a, "eio-a")
    a.enter_room(sid, NS, ROOM)
    assert wire.next("enter", a.host_id)["room"] == ROOM
    a.emit("stroke", {"seq": 1}, namespace=NS, room=ROOM)
    assert a.delivered == ["eio-a"]
    assert wire.emits_to(ROOM) == []
    # Other rooms, and any room while the listener is not subscribed, go through Redis.
    a.enter_room(sid, NS, "user:3")
    a.emit("notice", {}, namespace=NS, room="user:3")
    a.synced.clear()
    a.emit("stroke", {"seq": 2}, namespace=NS, room=ROOM)
    assert wire.emits_to("user:3") == ["notice"]
    assert wire.emits_to(ROOM) == ["stroke"]


def test_a_join_returns_once_the_process_holding_the_room_has_recorded_it(wired):
    make, wire = wired
    a, b = make(), make()
    a.enter_room(member(a, "eio-a"), NS, ROOM)
    wire.next("enter", a.host_id)
    joining = threading.Thread(target=b.enter_room, args=(member(b, "eio-b"), NS, ROOM))
    joining.start()
    entered = wire.next("enter", b.host_id)
    joining.join(0.3)
    assert joining.is_alive()  # b's join waits: its replay must not be read yet
    assert a.kept_here(NS, ROOM)  # a has not heard of b: a stroke now stays in a...

    a._receive(entered)
    assert not a.kept_here(NS, ROOM)  # ...from now on a's emits go through Redis
    answer = wire.next("present", a.host_id)
    assert answer["to"] == b.host_id
    b._receive(answer)
    joining.join(1)
    assert not joining.is_alive()
    assert not b.kept_here(NS, ROOM)
    a.emit("stroke", {"seq": 1}, namespace=NS, room=ROOM)
    assert wire.emits_to(ROOM) == ["stroke"]


def test_a_join_stops_waiting_when_the_other_process_leaves_instead(wired):
    make, wire = wired
    a, b = make(), make()
    sid = member(a, "eio-a")
    a.enter_room(sid, NS, ROOM)
    wire.next("enter", a.host_id)
    joining = threading.Thread(target=b.enter_room, args=(member(b, "eio-b"), NS, ROOM))
    joining.start()
    wire.next("enter", b.host_id)
    a.disconnect(sid, NS, ignore_queue=True)  # its last member goes before a heard of b
    b._receive(wire.next("leave", a.host_id))
    joining.join(1)
    assert not joining.is_alive()
    assert b.kept_here(NS, ROOM)


def test_a_process_that_does_not_answer_holds_a_join_for_the_answer_time_only(wired):
    make, wire = wired
    a, b = make(), make()
    a.enter_room(member(a, "eio-a"), NS, ROOM)
    started = time.monotonic()
    b.enter_room(member(b, "eio-b"), NS, ROOM)  # a's answer is never handed over
    assert ANSWER_SECONDS <= time.monotonic() - started < ANSWER_SECONDS + 1
    assert not b.kept_here(NS, ROOM)  # a still counts as there: b publishes


def test_a_dead_process_left_in_a_rooms_hash_is_not_waited_for(wired):
    make, wire = wired
    a, b = make(), make()
    a.enter_room(member(a, "eio-a"), NS, ROOM)
    wire.client.delete(f"{a.channel}:host:{a.host_id}")  # its key expired: a died
    started = time.monotonic()
    b.enter_room(member(b, "eio-b"), NS, ROOM)
    assert time.monotonic() - started < 1
    assert b.kept_here(NS, ROOM)
    room_key = f"{a.channel}:room:{NS}:{ROOM}"
    assert set(wire.client.hgetall(room_key)) == {b.host_id.encode()}


def test_a_heartbeat_repairs_a_lost_leave(wired):
    make, wire = wired
    a, b = make(), make()
    sid = member(a, "eio-a")
    a.enter_room(sid, NS, ROOM)
    wire.next("enter", a.host_id)
    joining = threading.Thread(target=b.enter_room, args=(member(b, "eio-b"), NS, ROOM))
    joining.start()
    a._receive(wire.next("enter", b.host_id))
    b._receive(wire.next("present", a.host_id))
    joining.join(1)
    assert not b.kept_here(NS, ROOM)
    a.leave_room(sid, NS, ROOM)
    wire.next("leave", a.host_id)  # lost on its way to b
    assert not b.kept_here(NS, ROOM)  # b keeps publishing for nothing...
    a._beat()
    beat = wire.next("alive", a.host_id)
    assert beat["rooms"] == []
    b._receive(beat)
    assert b.kept_here(NS, ROOM)  # ...until a's next heartbeat

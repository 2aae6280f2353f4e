"""Socket.IO's Redis message queue, skipped for a room whose members are all in this process.

python-socketio's `RedisManager` publishes every emit to Redis, and every process's listener
receives it back and decodes it, even when everyone in the room is connected to the process
that emitted. With nginx hashing a board's sockets to one process (deploy/nginx.conf), that is
nearly every room, and publishing cost a serve-prod process 240–300 µs of CPU per message, a
third more than the relay without it (docs/benchmarks.md, *The Redis queue and where a
room's people are*).

`RoomRedisManager` delivers an emit to a room whose name starts with one of `room_prefixes`
(the whiteboard's `board:<session id>`) in this process only when this process has a member of
the room and no other live process has one; the check is a lookup in memory. Everything else
(other rooms, broadcasts, emits with callbacks, disconnect and enter/leave requests for
another process's clients) goes through Redis exactly as before.

How a process learns where a room's members are:
- Redis holds, per room, a hash `<channel>:room:<namespace>:<room>` of the processes (host ids)
  with members, each with an *epoch* (a counter the process increments at every announcement),
  and per process a key `<channel>:host:<host id>` that expires unless refreshed.
- A process that gains its first member of a room announces it in one MULTI: it adds itself to
  the room's hash, reads who else is there, and publishes `enter` on the Socket.IO channel. On
  losing its last member it removes itself and publishes `leave`. Control messages carry a
  prefix that is not JSON, so python-socketio's own listener would ignore them.
- A process with members of the room records the newcomer, then answers `present`.
- Every `heartbeat` seconds a process refreshes its key and its rooms in Redis and publishes
  `alive` with the list of its rooms, which also repairs anything a lost message left wrong.
  A process not heard from for `expiry` seconds counts as gone: the rooms of a killed process
  stop costing publishes after that. The expiry is longer than Socket.IO's ping timeout (25 s
  + 20 s), so a process that stalls that long has lost its clients anyway: they reconnected
  elsewhere and joined again with `since`, which replays every stored item they missed.
- Messages of one process reach every other in the order it published them; the epochs let a
  process tell a stale message from what it read in Redis since.
- Until its listener is subscribed and has read the rooms it holds (after every reconnection
  to Redis too), a process publishes every emit, as before.

Why a participant joining on process B misses no stored item of a room whose other member is
on process A (the whiteboard's `join` calls `join_room` before it reads the replay):
`enter_room` on B announces B before it returns and, when Redis lists A, waits (at most
`ANSWER_SECONDS`) until A has answered `present` to this announcement, or left the room. A
records B before answering, so every emit A makes after recording B is published to B. An
emit A kept to itself came before that, so before A's answer, and its item was committed
before the emit: the commit precedes B's read of the replay, which comes after `enter_room`
returned, and the joiner gets the item in the replay instead. (When Redis did not list A,
A's announcement came after B's, read B there, and A publishes to B from the start.) Only if
A does not answer in time (overloaded, or cut from Redis) can an item fall in between; the
browser notices the gap in the seqs and joins again with `since` (sync.js).

Like `RedisManager` it needs the standard library patched under gevent (gunicorn's gevent
workers do it): its locks and events are the `threading` ones.
"""

from __future__ import annotations

import contextlib
import json
import math
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

import socketio

Key = tuple[str, str]  # (namespace, room)

# Control messages on the Socket.IO channel start with this (not JSON: python-socketio's
# listener would skip it even if it ever saw one).
CONTROL = b"manabi-rooms "
# The longest a join waits for the processes already in the room to answer its announcement.
ANSWER_SECONDS = 2.0
DEFAULT_HEARTBEAT_SECONDS = 10.0
DEFAULT_EXPIRY_SECONDS = 60.0
# An answer addressed to this process counts whatever the epoch it was read at.
_ANSWERED = math.inf


class RoomDirectory:
    """Which other processes have members in the rooms this process has members in.

    Pure bookkeeping, no Redis: the manager feeds it what it reads and receives. For each
    tracked room it keeps, per other process, the epoch of the latest news and whether the
    process had members then; older news never overrides newer.
    """

    def __init__(self, expiry: float) -> None:
        self.expiry = expiry
        self.rooms: dict[Key, dict[str, tuple[int, bool]]] = {}
        # Tracked rooms whose announcement has not read Redis yet: nothing is known.
        self.unknown: set[Key] = set()
        # Per tracked room, per process: the epoch of its latest leave, or _ANSWERED once it
        # answered our own announcement.
        self.answers: dict[Key, dict[str, float]] = {}
        self.deadlines: dict[str, float] = {}  # process -> when it counts as gone (monotonic)

    def track(self, key: Key) -> None:
        """Start following a room: this process got its first member and is announcing it."""
        self.rooms[key] = {}
        self.answers[key] = {}
        self.unknown.add(key)

    def forget(self, key: Key) -> None:
        """Stop following a room: this process has no member left."""
        self.rooms.pop(key, None)
        self.answers.pop(key, None)
        self.unknown.discard(key)

    def learned(self, key: Key, hosts: Mapping[str, int], now: float) -> None:
        """Record what the announcement read in Redis: live processes with members, and epochs."""
        for host, epoch in hosts.items():
            self._heard(host, now)
            self._record(key, host, epoch, present=True)
        self.unknown.discard(key)

    def entered(self, key: Key, host: str, epoch: int, now: float) -> None:
        """Record another process's `enter` (or a `present` addressed to someone else)."""
        self._heard(host, now)
        self._record(key, host, epoch, present=True)

    def answered(self, key: Key, host: str, epoch: int, now: float) -> None:
        """Record a `present` answering this process's announcement."""
        self.entered(key, host, epoch, now)
        if key in self.answers:
            self.answers[key][host] = _ANSWERED

    def left(self, key: Key, host: str, epoch: int, now: float) -> None:
        """Record another process's `leave`."""
        self._heard(host, now)
        self._record(key, host, epoch, present=False)
        if key in self.answers:
            self.answers[key][host] = max(self.answers[key].get(host, -1), epoch)

    def alive(self, host: str, epoch: int, rooms: Iterable[Key], now: float) -> None:
        """Record a heartbeat: the process is there, with members in exactly these rooms."""
        self._heard(host, now)
        holding = set(rooms)
        for key in tuple(self.rooms):  # in threading mode a join may add a room meanwhile
            self._record(key, host, epoch, present=key in holding)

    def waiting_for(self, key: Key, hosts: Mapping[str, int]) -> set[str]:
        """Return the processes (read with these epochs) that have not answered an announcement.

        A process answers with `present` after recording us, or by leaving after the read (a
        `leave` with a later epoch: it then has nothing more to emit to the room).
        """
        answers = self.answers.get(key, {})
        return {host for host, epoch in hosts.items() if answers.get(host, -1) <= epoch}

    def alone(self, key: Key, now: float) -> bool:
        """Tell whether no other live process has a member of a room this process follows."""
        hosts = self.rooms.get(key)
        if hosts is None or key in self.unknown:
            return False
        # A tuple: in threading mode the listener may add a process meanwhile.
        for host, (_epoch, present) in tuple(hosts.items()):
            if present and self.deadlines.get(host, 0.0) > now:
                return False
        return True

    def prune(self, now: float) -> None:
        """Drop processes gone for long (restarted processes come back with new ids)."""
        for host, deadline in list(self.deadlines.items()):
            if deadline + self.expiry < now:
                del self.deadlines[host]
                for hosts in tuple(self.rooms.values()):
                    hosts.pop(host, None)

    def _heard(self, host: str, now: float) -> None:
        self.deadlines[host] = now + self.expiry

    def _record(self, key: Key, host: str, epoch: int, *, present: bool) -> None:
        hosts = self.rooms.get(key)
        if hosts is None:
            return  # a room this process has no member of: its emits go through Redis anyway
        known = hosts.get(host)
        if known is None or known[0] < epoch:
            hosts[host] = (epoch, present)


class RoomRedisManager(socketio.RedisManager):
    """RedisManager that keeps a room's emits in the process when its members are all here."""

    def __init__(
        self,
        url: str,
        *,
        channel: str,
        room_prefixes: Iterable[str] = ("board:",),
        heartbeat: float = DEFAULT_HEARTBEAT_SECONDS,
        expiry: float = DEFAULT_EXPIRY_SECONDS,
        redis_options: dict | None = None,
    ) -> None:
        super().__init__(url, channel=channel, redis_options=redis_options)
        self.room_prefixes = tuple(room_prefixes)
        self.heartbeat = heartbeat
        self.expiry = expiry
        self.directory = RoomDirectory(expiry)
        self.announced: set[Key] = set()  # rooms Redis lists this process in
        self.epoch = 0
        # Announcements go out one at a time, so their epochs follow the order of publication.
        self.lock = threading.Lock()
        # Set while the listener is subscribed and knows the rooms: only then are emits kept.
        self.synced = threading.Event()
        # Rooms whose announcement waits for answers: key -> (event, processes read, epochs).
        self.settling: dict[Key, tuple[threading.Event, dict[str, int]]] = {}

    # The emit: the one place a message may skip the queue.

    def emit(self, event, data, namespace=None, room=None, skip_sid=None, callback=None, **kwargs):
        room = kwargs.pop("to", None) or room
        namespace = namespace or "/"
        if callback is None and not kwargs.get("ignore_queue") and self.kept_here(namespace, room):
            kwargs["ignore_queue"] = True  # PubSubManager then delivers it in this process only
        return super().emit(
            event,
            data,
            namespace=namespace,
            room=room,
            skip_sid=skip_sid,
            callback=callback,
            **kwargs,
        )

    def kept_here(self, namespace: str, room: Any) -> bool:
        """Tell whether an emit to `room` reaches every member without leaving this process."""
        return (
            isinstance(room, str)
            and room.startswith(self.room_prefixes)
            and self.synced.is_set()
            and room in self.rooms.get(namespace, ())
            and self.directory.alone((namespace, room), time.monotonic())
        )

    # Membership changes of this process's own clients.

    def enter_room(self, sid, namespace, room, eio_sid=None):
        mine = self.is_connected(sid, namespace) or self.is_pre_connected(sid, namespace)
        result = super().enter_room(sid, namespace, room, eio_sid=eio_sid)
        if mine and self._followed(room):
            self._settle((namespace, room))
        return result

    def leave_room(self, sid, namespace, room):
        result = super().leave_room(sid, namespace, room)
        if self._followed(room):
            self._announce((namespace, room))
        return result

    def basic_disconnect(self, sid, namespace, **kwargs):
        rooms = [room for room in self.get_rooms(sid, namespace) if self._followed(room)]
        result = super().basic_disconnect(sid, namespace, **kwargs)
        for room in rooms:
            self._announce((namespace, room))
        return result

    def _followed(self, room: Any) -> bool:
        return isinstance(room, str) and room.startswith(self.room_prefixes)

    def _settle(self, key: Key) -> None:
        """Announce a room this process just entered, and wait until the others know it."""
        if not self.synced.is_set():
            self.synced.wait(ANSWER_SECONDS)  # a process just started: its listener subscribes
        settling = self._announce(key, join=True)
        if settling is None:
            return
        event, hosts = settling
        if not event.wait(ANSWER_SECONDS):
            self._get_logger().warning(
                "rooms: %d other process(es) did not answer within %.0f s",
                len(hosts),
                ANSWER_SECONDS,
            )
        with self.lock:
            if self.settling.get(key) is settling:
                del self.settling[key]

    def _announce(self, key: Key, *, join: bool = False):
        """Bring Redis and the other processes in line with whether this process is in a room.

        For a join, returns the (event, processes) to wait for when this announced an entry
        into a room that other processes hold (or another join of it still waits for them).
        """
        with self.lock:
            here = key[1] in self.rooms.get(key[0], ())
            if here == (key in self.announced):
                return self.settling.get(key) if here and join else None
            try:
                return self._announce_entry(key, join=join) if here else self._announce_exit(key)
            except Exception as error:
                # Until a heartbeat manages it, the room's emits go through Redis (entry) or the
                # others publish to this process for nothing (exit): slower, never wrong.
                self._get_logger().error(
                    "rooms: cannot announce to redis (%s)", error.__class__.__name__
                )
                return None

    def _announce_entry(self, key: Key, *, join: bool):
        self.epoch += 1
        self.directory.track(key)  # before the MULTI: news published after it is recorded
        redis = self._client()
        room_key = self._room_key(key)
        with redis.pipeline(transaction=True) as pipe:
            pipe.set(self._host_key(self.host_id), 1, ex=math.ceil(self.expiry))
            pipe.hset(room_key, self.host_id, self.epoch)
            pipe.expire(room_key, math.ceil(self.expiry))
            pipe.hgetall(room_key)
            pipe.publish(self.channel, self._control("enter", key))
            members = pipe.execute()[3]
        others = self._live(redis, room_key, members)
        self.announced.add(key)
        self.directory.learned(key, others, time.monotonic())
        if not others or not join:
            return None
        settling = (threading.Event(), others)
        self.settling[key] = settling
        self._wake()  # an answer may have arrived while the MULTI was on its way back
        return settling

    def _announce_exit(self, key: Key) -> None:
        self.epoch += 1
        self.announced.discard(key)
        self.directory.forget(key)
        self.settling.pop(key, None)
        with self._client().pipeline(transaction=True) as pipe:
            pipe.hdel(self._room_key(key), self.host_id)
            pipe.publish(self.channel, self._control("leave", key))
            pipe.execute()
        return None

    def _live(self, redis, room_key: str, members: Mapping[bytes, bytes]) -> dict[str, int]:
        """Return the other processes of a room's hash whose key has not expired, with epochs."""
        others = {
            host.decode(): int(epoch)
            for host, epoch in members.items()
            if host.decode() != self.host_id
        }
        if not others:
            return {}
        hosts = list(others)
        alive = redis.mget([self._host_key(host) for host in hosts])
        gone = [host for host, mark in zip(hosts, alive, strict=True) if mark is None]
        if gone:
            redis.hdel(room_key, *gone)
        return {host: others[host] for host in hosts if host not in gone}

    # Heartbeat and the listener.

    def initialize(self):
        super().initialize()
        if not self.write_only:
            self.server.start_background_task(self._beat_forever)

    def _beat_forever(self) -> None:
        while True:
            self.server.sleep(self.heartbeat)
            try:
                self._beat()
            except Exception as error:
                self._get_logger().error(
                    "rooms: heartbeat to redis failed (%s)", error.__class__.__name__
                )

    def _beat(self) -> None:
        """Refresh this process's key and rooms in Redis, and tell the others which rooms."""
        held = {
            (namespace, room)
            for namespace, rooms in list(self.rooms.items())
            for room in list(rooms)
            if self._followed(room)
        }
        for key in held | set(self.announced):
            self._announce(key)  # what a failed announcement or a remote close_room left
        ttl = math.ceil(self.expiry)
        with self.lock:
            rooms = sorted(self.announced)
            with self._client().pipeline(transaction=False) as pipe:
                pipe.set(self._host_key(self.host_id), 1, ex=ttl)
                for key in rooms:
                    pipe.hset(self._room_key(key), self.host_id, self.epoch)
                    pipe.expire(self._room_key(key), ttl)
                pipe.publish(self.channel, self._control("alive", rooms=[list(k) for k in rooms]))
                pipe.execute()
        self.directory.prune(time.monotonic())

    def _resync(self) -> None:
        """Learn again who holds this process's rooms (the listener has just subscribed)."""
        self._beat()
        with self.lock:
            redis = self._client()
            for key in list(self.announced):
                room_key = self._room_key(key)
                others = self._live(redis, room_key, redis.hgetall(room_key))
                self.directory.learned(key, others, time.monotonic())
        self.synced.set()

    def _redis_listen_with_retries(self):
        """RedisManager's loop (subscribe, listen, reconnect with a growing pause), and: this
        process keeps no emit local while unsubscribed, and reads the rooms again on subscribing.
        """
        pause = 1
        while True:
            pubsub = None
            try:
                self._redis_connect()
                pubsub = self.redis.pubsub()
                pubsub.subscribe(self.channel)
                for message in pubsub.listen():
                    if message["type"] == "subscribe":
                        # Redis now sends us everything published: what was announced before
                        # is in the rooms' hashes.
                        self._resync()
                        pause = 1
                    else:
                        yield message
            except Exception as error:
                self.synced.clear()
                if pubsub is not None:
                    with contextlib.suppress(Exception):  # its connection, not one per retry
                        pubsub.close()
                self._get_logger().error(
                    "Cannot receive from redis... retrying in %d secs (%s)",
                    pause,
                    error.__class__.__name__,
                )
                self.server.sleep(pause)
                pause = min(pause * 2, 60)

    def _listen(self):
        for data in super()._listen():
            if isinstance(data, bytes) and data.startswith(CONTROL):
                try:
                    self._receive(json.loads(data[len(CONTROL) :]))
                except Exception:
                    self._get_logger().exception("rooms: bad control message")
                continue
            yield data

    def _receive(self, message: dict) -> None:
        """Handle another process's control message (in the listener)."""
        host = message["host"]
        if host == self.host_id:
            return
        now = time.monotonic()
        kind, epoch = message["kind"], int(message["epoch"])
        if kind == "alive":
            self.directory.alive(host, epoch, (tuple(k) for k in message["rooms"]), now)
        else:
            key = (message["namespace"], message["room"])
            if kind == "enter":
                self.directory.entered(key, host, epoch, now)
                self._answer(key, host)
            elif kind == "leave":
                self.directory.left(key, host, epoch, now)
            elif kind == "present" and message.get("to") == self.host_id:
                self.directory.answered(key, host, epoch, now)
            elif kind == "present":
                self.directory.entered(key, host, epoch, now)
        self._wake()

    def _answer(self, key: Key, newcomer: str) -> None:
        """Tell a process that entered a room that this one has members there (now recorded)."""
        with self.lock:
            if key in self.announced:
                self._client().publish(self.channel, self._control("present", key, to=newcomer))

    def _wake(self) -> None:
        for key, (event, hosts) in tuple(self.settling.items()):
            if not event.is_set() and not self.directory.waiting_for(key, hosts):
                event.set()

    # Redis names and messages.

    def _client(self):
        if not self.connected:
            self._redis_connect()
        return self.redis

    def _room_key(self, key: Key) -> str:
        return f"{self.channel}:room:{key[0]}:{key[1]}"

    def _host_key(self, host: str) -> str:
        return f"{self.channel}:host:{host}"

    def _control(self, kind: str, key: Key | None = None, **fields: Any) -> bytes:
        message = {"kind": kind, "host": self.host_id, "epoch": self.epoch, **fields}
        if key is not None:
            message["namespace"], message["room"] = key
        return CONTROL + json.dumps(message, separators=(",", ":")).encode()


def client_manager(config: Mapping[str, Any]) -> socketio.Manager | None:
    """Return the Socket.IO client manager of an app: None (in-process) without Redis."""
    url = config.get("REDIS_URL")
    if not url:
        return None
    if not config.get("SOCKETIO_LOCAL_ROOMS", True):
        return socketio.RedisManager(url, channel=config["REDIS_CHANNEL"])
    return RoomRedisManager(
        url,
        channel=config["REDIS_CHANNEL"],
        heartbeat=float(config.get("SOCKETIO_ROOM_HEARTBEAT_SECONDS", DEFAULT_HEARTBEAT_SECONDS)),
        expiry=float(config.get("SOCKETIO_ROOM_EXPIRY_SECONDS", DEFAULT_EXPIRY_SECONDS)),
    )
